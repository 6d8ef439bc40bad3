"""The blend: the best saved model of up to four earlier non-blend directions, loaded from the
knowledge base (MLflow model directories, or legacy .joblib files), combined by a soft vote or a
logistic stacker. The bases are wrapped in FrozenEstimators, so the saved blend is self-contained:
it predicts from raw features with scikit-learn classes only."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logit  # scipy comes with scikit-learn
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from ..data import Curves, proba
from ..knowledge import PastRun
from ..models import load_model
from ..settings import log
from .common import Context, Fit, cfg


def base_models(ctx: Context) -> list[tuple[str, PastRun, Any]]:
    """The best loadable saved model of each earlier non-blend direction, best first (at most 4)."""
    if ctx.bases is None:
        sign = 1 if ctx.higher_is_better else -1
        usable = [r for r in ctx.runs if r.public is not None and r.model_path and r.status != "failed"
                  and not r.direction.startswith("blend")]
        ranked = sorted(usable, key=lambda r: -sign * r.public)  # type: ignore[operator]
        ctx.bases = []
        for run in ranked:
            if len(ctx.bases) >= 4 or any(name == run.direction for name, _, _ in ctx.bases):
                continue
            try:
                model = load_model(run.model_path)  # type: ignore[arg-type]
                auc = roc_auc_score(ctx.data.y_hold, proba(model, ctx.data.x_hold))
            except Exception as error:  # another agent's model may need packages this agent lacks
                log(f"cannot use run {run.id} ({run.direction}): {type(error).__name__}: {error}")
                continue
            if ctx.metric == "roc_auc" and auc - run.public > 0.03:  # type: ignore[operator]
                log(f"run {run.id}: holdout {auc:.4f} vs public {run.public:.4f}, so it saw these rows; skipped")
                continue
            ctx.bases.append((run.direction, run, model))
    return ctx.bases


def fit_blend(p: dict[str, Any], ctx: Context) -> Fit:
    d, curves, bases = ctx.data, Curves("model count", progress=False), base_models(ctx)[: p["max_models"]]
    if not bases:
        raise RuntimeError("no loadable saved model from an earlier direction")
    preds = np.column_stack([proba(m, d.x_hold) for _, _, m in bases])
    aucs = [roc_auc_score(d.y_hold, preds[:, i]) for i in range(len(bases))]
    frozen = [(f"{name}-run{run.id}", FrozenEstimator(model)) for name, run, model in bases]
    honest, notes = None, []
    if p["method"] == "stack":  # step k: stack the k best directions; "val" = 5-fold CV on the holdout slice
        def stacker() -> Pipeline:  # logistic regression on the clipped logits of the base probabilities
            return Pipeline([("clip", FunctionTransformer(np.clip, kw_args={"a_min": 1e-6, "a_max": 1 - 1e-6})),
                             ("logit", FunctionTransformer(logit)), ("lr", LogisticRegression(C=p["C"]))])

        for k in range(1, len(bases) + 1):
            cv = cross_val_predict(stacker(), preds[:, :k], d.y_hold, cv=5, method="predict_proba")[:, 1]
            curves.add(k, d.y_hold, proba(stacker().fit(preds[:, :k], d.y_hold), preds[:, :k]), d.y_hold, cv)
        honest = curves.series()[-1][1]
        notes.append("The stacker's holdout AUC is 5-fold cross-validated on the holdout slice")
        model: Any = StackingClassifier(frozen, final_estimator=stacker(), cv=5)
    else:
        weights = np.ones(len(bases)) if p["method"] == "mean" else np.maximum(np.array(aucs) - 0.5, 1e-3) ** 2
        for k in range(1, len(bases) + 1):
            curves.add(k, None, None, d.y_hold, preds[:, :k] @ weights[:k] / weights[:k].sum())
        model = VotingClassifier(frozen, voting="soft", weights=list(weights))
    model.fit(d.x_hold, d.y_hold)  # frozen bases are not refitted: only the weights or the stacker learn
    notes.append("Bases (holdout AUC): " + ", ".join(f"{n} run {r.id} {a:.4f}" for (n, r, _), a in zip(bases, aucs)))
    return Fit(model, curves, notes, {"n_base_models": len(bases), "best_base_holdout_auc": max(aucs)}, honest, False)


def blend_configs(s: float) -> list[dict[str, Any]]:
    return [
        cfg("blend-mean", "equal-weight average of the best model of each earlier direction",
            method="mean", max_models=4, C=1.0),
        cfg("blend-auc-weighted", "weights grow with each model's holdout AUC above chance",
            method="weighted", max_models=4, C=1.0),
        cfg("blend-stack-lr", "logistic-regression stacker on the models' logits, fitted on the holdout slice",
            method="stack", max_models=4, C=1.0),
    ]
