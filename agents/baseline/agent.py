#!/usr/bin/env python3
"""mlagent's reference research agent: a careful, scripted scikit-learn researcher.

It runs in its git worktree and talks to mlagentd only through `mlagentctl`:

  1. reads research_directions/*.md and mlruns/*/*/run.json (what earlier directions found);
  2. keeps the assigned direction, or picks and declares one that complements earlier work;
  3. runs a small hyperparameter search; every configuration is a run with per-step curves on a
     held-out slice of train.csv, a saved sklearn model, one public evaluation and an analysis;
  4. reloads the best run's saved model from disk, predicts the private split, submits once;
  5. writes learnings.md and finishes the direction.

Environment, usage and behaviour: agents/baseline/README.md.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # three agents share two cores: one thread each

import copy
import json
import re
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import joblib
import numpy as np
import pandas as pd
import sklearn
from scipy.special import logit  # scipy comes with scikit-learn
from sklearn.ensemble import (HistGradientBoostingClassifier, RandomForestClassifier, StackingClassifier,
                              VotingClassifier)
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import cross_val_predict, train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer, PolynomialFeatures, SplineTransformer, StandardScaler

SEED = 7  # shared by every baseline agent: the same holdout slice, so blends of their models stay honest
HOLDOUT_FRACTION = 0.2
TRAIN_CURVE_ROWS = 3000  # training rows scored for the train_* curves
sklearn.set_config(working_memory=128)
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def log(message: str) -> None:
    print(f"[baseline {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------------------------ settings


def env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name) or default)
    except ValueError:
        return default


@dataclass
class Settings:
    job_id: str
    direction: str  # empty: pick and declare one
    metric: str
    higher_is_better: bool
    deadline: float
    scale: float  # fraction of the training rows and of the search size
    family: str  # forced model family (tests)

    @classmethod
    def from_env(cls) -> Settings:
        deadline = env_float("MLAGENT_DEADLINE", 0.0)
        return cls(
            job_id=os.environ.get("MLAGENT_JOB_ID", "?"),
            direction=os.environ.get("MLAGENT_DIRECTION", "").strip(),
            metric=os.environ.get("MLAGENT_METRIC", "roc_auc"),
            higher_is_better=os.environ.get("MLAGENT_METRIC_HIGHER_IS_BETTER", "1") != "0",
            deadline=deadline if deadline > time.time() else time.time() + 3600,
            scale=min(1.0, max(0.01, env_float("MLAGENT_BASELINE_SCALE", 1.0))),
            family=os.environ.get("MLAGENT_BASELINE_FAMILY", "").strip().lower(),
        )


class Clock:
    """Time left for experiments: the deadline minus a reserve for the submit step."""

    def __init__(self, deadline: float) -> None:
        self.started, self.deadline = time.time(), deadline
        self.reserve = min(120.0, max(20.0, 0.1 * (deadline - self.started)))

    def left(self) -> float:
        return self.deadline - self.reserve - time.time()

    def expired(self) -> bool:
        return self.left() <= 0


# ------------------------------------------------------------------------------------ mlagentctl


class CtlError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class Ctl:
    """The agent's only channel to the daemon: the `mlagentctl` command."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def call(self, *args: str) -> str:
        # mlagentctl waits up to a minute for a restarting daemon; never wait far past the deadline.
        timeout = max(15.0, min(120.0, self.clock.deadline - time.time()))
        try:
            done = subprocess.run(["mlagentctl", *args], capture_output=True, text=True, timeout=timeout)
        except FileNotFoundError:
            raise CtlError(127, "mlagentctl: not found on PATH") from None
        except subprocess.TimeoutExpired:
            raise CtlError(124, f"mlagentctl: no answer within {timeout:.0f} s") from None
        if done.returncode != 0:
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise CtlError(done.returncode, lines[-1] if lines else f"mlagentctl: exit status {done.returncode}")
        return done.stdout

    def call_json(self, *args: str) -> dict[str, Any]:
        lines = [line for line in self.call(*args, "--json").splitlines() if line.strip().startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    def declare(self, name: str, rationale: str) -> None:
        self.call("direction", "declare", name, "--rationale", rationale)

    def directions(self) -> list[dict[str, Any]]:
        return list(self.call_json("direction", "list").get("directions", []))

    def run_start(self, name: str, rationale: str, params: dict[str, Any]) -> int:
        args = ["run", "start", "--name", name, "--rationale", rationale]
        for key, value in params.items():
            args += ["--param", f"{key}={value}"]
        out = self.call(*args)
        match = re.search(r"\d+", out)
        if not match:
            raise CtlError(1, f"mlagentctl: run start printed no run id: {out!r}")
        return int(match.group())

    def log_run(self, run: int, metrics_file: Path, metrics: dict[str, float]) -> None:
        self.call("run", "log", str(run), "--file", str(metrics_file))
        self.call("run", "log", str(run), *[a for k, v in metrics.items() for a in ("--metric", f"{k}={v:.6g}")])

    def artifact(self, run: int, path: Path) -> None:
        self.call("run", "artifact", str(run), str(path), "--as", "model")

    def evaluate(self, run: int, predictions: Path) -> dict[str, Any]:
        return self.call_json("eval", str(run), str(predictions))

    def run_end(self, run: int, analysis: str, failed: bool) -> None:
        self.call("run", "end", str(run), "--analysis", analysis, *(["--failed"] if failed else []))

    def submit(self, run: int, predictions: Path) -> dict[str, Any]:
        return self.call_json("submit", str(run), str(predictions))

    def finish(self, learnings: Path) -> None:
        self.call("direction", "finish", "--learnings", str(learnings))


# ------------------------------------------------------------------------------------ knowledge base


@dataclass
class PastRun:
    id: int
    direction: str
    status: str
    public: float | None
    private: float | None
    model_file: Path | None


@dataclass
class PastDirection:
    name: str
    status: str
    best_run: int | None = None
    public: float | None = None
    private: float | None = None
    has_model: bool = False


def read_runs(root: Path) -> list[PastRun]:
    runs = []
    for path in sorted(root.glob("mlruns/*/*/run.json")):
        try:
            record = json.loads(path.read_text())
            models = sorted((path.parent / "artifacts" / "model").glob("*.joblib"))
            public = record.get("public_score", record.get("metrics", {}).get("public_val_score"))
            private = record.get("private_score")
            runs.append(PastRun(
                int(record.get("id", path.parent.name)), str(record.get("direction", path.parent.parent.name)),
                str(record.get("status", "")), None if public is None else float(public),
                None if private is None else float(private), models[0] if models else None))
        except (ValueError, TypeError, OSError) as error:
            log(f"skipping unreadable {path}: {error}")
    return runs


def read_directions(root: Path, runs: list[PastRun], higher_is_better: bool) -> list[PastDirection]:
    """Directions from research_directions/*.md; scores from their run records, else from the Results text."""
    directions = []
    for path in sorted(root.glob("research_directions/*.md")):
        if path.name.lower() == "readme.md":
            continue
        text = path.read_text(errors="replace")
        status = re.search(r"^-\s*Status:\s*(\S+)", text, re.MULTILINE)
        d = PastDirection(path.stem, status.group(1) if status else "unknown")
        scored = [r for r in runs if r.direction == d.name and r.public is not None and r.status != "failed"]
        if scored:
            best = max(scored, key=lambda r: r.public if higher_is_better else -r.public)  # type: ignore[operator]
            d.best_run, d.public, d.has_model = best.id, best.public, best.model_file is not None
            d.private = next((r.private for r in runs if r.direction == d.name and r.private is not None), None)
        elif match := re.search(r"Best run:\s*(\d+).*?public\s+([0-9.]+)", text):
            d.best_run, d.public = int(match.group(1)), float(match.group(2))
            private = re.search(r"Submitted run:.*?private\s+([0-9.]+)", text)
            d.private = float(private.group(1)) if private else None
        directions.append(d)
    return directions


def describe(directions: list[PastDirection]) -> str:
    def one(d: PastDirection) -> str:
        if d.best_run is None:
            return f"{d.name} ({d.status})"
        return f"{d.name} ({d.status}, best run {d.best_run}: public {fmt(d.public)}, private {fmt(d.private)})"

    return "; ".join(one(d) for d in directions)


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


# ------------------------------------------------------------------------------------ data, curves


@dataclass
class Data:
    features: list[str]
    x_train: pd.DataFrame
    y_train: np.ndarray
    x_hold: pd.DataFrame
    y_hold: np.ndarray
    x_public: pd.DataFrame
    x_private: pd.DataFrame

    def curve_rows(self) -> tuple[pd.DataFrame, np.ndarray]:
        return self.x_train.iloc[:TRAIN_CURVE_ROWS], self.y_train[:TRAIN_CURVE_ROWS]


def load_data(scale: float) -> Data:
    train = pd.read_csv("data/train.csv")
    features = [c for c in train.columns if c != "target"]  # the order of train.csv, everywhere
    x_train, x_hold, y_train, y_hold = train_test_split(
        train[features], train["target"].to_numpy(), test_size=HOLDOUT_FRACTION, stratify=train["target"],
        random_state=SEED)
    n_train, n_hold = max(500, int(len(x_train) * scale)), max(300, int(len(x_hold) * scale))
    return Data(features, x_train.iloc[:n_train], y_train[:n_train], x_hold.iloc[:n_hold], y_hold[:n_hold],
                pd.read_csv("data/val_public_X.csv")[features], pd.read_csv("data/val_private_X.csv")[features])


def proba(model: Any, x: Any) -> np.ndarray:
    return model.predict_proba(x)[:, 1]


class Curves:
    """Per-step train/validation metrics, written as metrics.jsonl."""

    def __init__(self, step_name: str, progress: bool = True) -> None:
        self.step_name = step_name
        self.progress = progress  # steps are training progress (a fall after the peak is overfitting), not a setting
        self.points: list[dict[str, Any]] = []

    def add(self, step: int, y_tr: Any, p_tr: Any, y_va: np.ndarray, p_va: np.ndarray) -> None:
        for prefix, y, p in [("train", y_tr, p_tr), ("val", y_va, p_va)]:
            if y is not None and p is not None:
                p = np.clip(p, 1e-6, 1 - 1e-6)
                for key, value in (("loss", log_loss(y, p, labels=[0, 1])), ("auc", roc_auc_score(y, p))):
                    self.points.append({"key": f"{prefix}_{key}", "value": round(float(value), 6), "step": step})

    def series(self, key: str = "val_auc") -> list[tuple[int, float]]:
        return [(p["step"], p["value"]) for p in self.points if p["key"] == key]

    def peak(self) -> tuple[int, float]:
        return max(self.series(), key=lambda sv: sv[1])

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(p) + "\n" for p in self.points))


@dataclass
class Fit:
    model: Any
    curves: Curves
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    honest_holdout: float | None = None  # when the model learnt something from the holdout slice itself
    train_comparable: bool = True  # False when the train rows are not what the model was fitted on


@dataclass
class Context:
    data: Data
    clock: Clock
    scale: float
    runs: list[PastRun]
    higher_is_better: bool
    metric: str = "roc_auc"
    bases: list[tuple[str, PastRun, Any]] | None = None  # blend inputs, loaded once


# ------------------------------------------------------------------------------------ families


def fit_logreg(p: dict[str, Any], ctx: Context) -> Fit:
    steps: list[tuple[str, Any]] = [("scale", StandardScaler())]
    if p["features"] == "poly2":
        steps += [("poly", PolynomialFeatures(2, include_bias=False)), ("rescale", StandardScaler())]
    elif p["features"] == "spline_inter":  # per-feature splines (non-monotone effects) + pairwise products
        expand = FeatureUnion([("spline", SplineTransformer(n_knots=p["knots"], degree=3)),
                               ("inter", PolynomialFeatures(2, interaction_only=True, include_bias=False))])
        steps += [("expand", expand), ("rescale", StandardScaler())]
    d, curves, notes = ctx.data, Curves("iteration"), []
    pre = Pipeline(steps)
    x_tr, x_va, x_sub = pre.fit_transform(d.x_train), pre.transform(d.x_hold), pre.transform(d.curve_rows()[0])
    clf = LogisticRegression(C=p["C"], max_iter=p["step"], warm_start=True)
    for it in range(p["step"], p["max_iter"] + 1, p["step"]):  # lbfgs continued p["step"] iterations at a time
        clf.fit(x_tr, d.y_train)
        curves.add(it, d.curve_rows()[1], proba(clf, x_sub), d.y_hold, proba(clf, x_va))
        if clf.n_iter_[0] < p["step"]:
            notes.append(f"The lbfgs solver converged after {it - p['step'] + int(clf.n_iter_[0])} iterations")
            break
        if ctx.clock.expired():
            notes.append(f"Stopped at iteration {it}: deadline")
            break
    return Fit(Pipeline(steps + [("clf", clf)]), curves, notes + [f"The model sees {x_tr.shape[1]} features"],
               {"n_model_features": x_tr.shape[1]})


def fit_forest(p: dict[str, Any], ctx: Context) -> Fit:
    d, curves, notes = ctx.data, Curves("tree count"), []
    x_sub, y_sub = d.curve_rows()
    x_sub, x_va = x_sub.to_numpy(np.float32), d.x_hold.to_numpy(np.float32)
    clf = RandomForestClassifier(
        n_estimators=0, warm_start=True, n_jobs=1, random_state=SEED, max_samples=p["max_samples"],
        min_samples_leaf=p["min_samples_leaf"], max_features=p["max_features"], max_depth=p["max_depth"] or None)
    sum_tr, sum_va = np.zeros(len(x_sub)), np.zeros(len(x_va))
    for n in range(p["step"], p["n_estimators"] + 1, p["step"]):
        clf.set_params(n_estimators=n).fit(d.x_train, d.y_train)
        for tree in clf.estimators_[n - p["step"]:]:  # a forest's probability is the mean of its trees'
            sum_tr += tree.predict_proba(x_sub)[:, 1]
            sum_va += tree.predict_proba(x_va)[:, 1]
        curves.add(n, y_sub, sum_tr / n, d.y_hold, sum_va / n)
        if ctx.clock.expired():
            notes.append(f"Stopped at {n} trees: deadline")
            break
    leaves = float(np.mean([t.get_n_leaves() for t in clf.estimators_]))
    return Fit(Pipeline([("clf", clf)]), curves, notes + [f"Trees have {leaves:.0f} leaves on average"],
               {"n_trees": len(clf.estimators_), "mean_leaves": leaves})


def fit_hgb(p: dict[str, Any], ctx: Context) -> Fit:
    d, curves = ctx.data, Curves("iteration")
    x_sub, y_sub = d.curve_rows()
    clf = HistGradientBoostingClassifier(
        learning_rate=p["learning_rate"], max_iter=p["max_iter"], max_leaf_nodes=p["max_leaf_nodes"],
        min_samples_leaf=p["min_samples_leaf"], l2_regularization=p["l2"], early_stopping=False, random_state=SEED)
    clf.fit(d.x_train, d.y_train)
    every = max(1, p["max_iter"] // 30)
    for i, (p_tr, p_va) in enumerate(zip(clf.staged_predict_proba(x_sub), clf.staged_predict_proba(d.x_hold)), start=1):
        if i % every == 0 or i == p["max_iter"]:
            curves.add(i, y_sub, p_tr[:, 1], d.y_hold, p_va[:, 1])
    return Fit(Pipeline([("clf", clf)]), curves)


def fit_knn(p: dict[str, Any], ctx: Context) -> Fit:
    d, curves = ctx.data, Curves("k", progress=False)
    steps: list[tuple[str, Any]] = [("scale", StandardScaler())]
    if p["k_features"] < len(d.features):
        steps.append(("select", SelectKBest(f_classif, k=p["k_features"])))
    pre = Pipeline(steps)
    x_tr = pre.fit_transform(d.x_train, d.y_train)
    x_va, x_sub = pre.transform(d.x_hold), pre.transform(d.curve_rows()[0])
    ks = [k for k in (5, 10, 20, 35, 50, 75, 100, 150, 200, 300, 400) if k < len(x_tr)]
    index = KNeighborsClassifier(n_neighbors=ks[-1], algorithm="brute").fit(x_tr, d.y_train)  # brute: 4x a kd-tree
    neighbours = {"train": index.kneighbors(x_sub), "val": index.kneighbors(x_va)}  # computed once, sliced per k

    def vote(split: str, k: int) -> np.ndarray:
        dist, idx = neighbours[split][0][:, :k], neighbours[split][1][:, :k]
        w = np.ones_like(dist) if p["weights"] == "uniform" else 1.0 / np.maximum(dist, 1e-9)
        return (w * d.y_train[idx]).sum(axis=1) / w.sum(axis=1)

    for k in ks:  # the train curve counts each row as its own neighbour: optimistic at small k, by design
        curves.add(k, d.curve_rows()[1], vote("train", k), d.y_hold, vote("val", k))
    best_k = curves.peak()[0]
    clf = KNeighborsClassifier(n_neighbors=best_k, weights=p["weights"], algorithm="brute").fit(x_tr, d.y_train)
    note = f"The holdout curve chose k={best_k}, so the holdout AUC is slightly optimistic"
    return Fit(Pipeline(steps + [("clf", clf)]), curves, [note], {"chosen_k": best_k})


def fit_mlp(p: dict[str, Any], ctx: Context) -> Fit:
    d, curves = ctx.data, Curves("epoch")
    scaler = StandardScaler().fit(d.x_train)
    x_tr, x_va, x_sub = scaler.transform(d.x_train), scaler.transform(d.x_hold), scaler.transform(d.curve_rows()[0])
    hidden = tuple(int(h) for h in str(p["hidden"]).split("-"))
    clf = MLPClassifier(hidden_layer_sizes=hidden, alpha=p["alpha"], learning_rate_init=p["lr"], batch_size=256,
                        random_state=SEED)
    best, best_loss, best_epoch, notes = clf, float("inf"), 0, []
    for epoch in range(1, p["epochs"] + 1):
        clf.partial_fit(x_tr, d.y_train, classes=[0, 1])
        p_va = proba(clf, x_va)
        curves.add(epoch, d.curve_rows()[1], proba(clf, x_sub), d.y_hold, p_va)
        if (loss := log_loss(d.y_hold, np.clip(p_va, 1e-6, 1 - 1e-6))) < best_loss:
            best, best_loss, best_epoch = copy.deepcopy(clf), loss, epoch
        if ctx.clock.expired():
            notes.append(f"Stopped at epoch {epoch}: deadline")
            break
    notes.append(f"Kept the epoch-{best_epoch} weights (lowest validation loss)")
    return Fit(Pipeline([("scale", scaler), ("clf", best)]), curves, notes, {"best_epoch": best_epoch})


def base_models(ctx: Context) -> list[tuple[str, PastRun, Any]]:
    """The best loadable saved model of each earlier non-blend direction, best first (at most 4)."""
    if ctx.bases is None:
        sign = 1 if ctx.higher_is_better else -1
        usable = [r for r in ctx.runs if r.public is not None and r.model_file and r.status != "failed"
                  and not r.direction.startswith("blend")]
        ranked = sorted(usable, key=lambda r: -sign * r.public)  # type: ignore[operator]
        ctx.bases = []
        for run in ranked:
            if len(ctx.bases) >= 4 or any(name == run.direction for name, _, _ in ctx.bases):
                continue
            try:
                model = joblib.load(run.model_file)  # type: ignore[arg-type]
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


def sized(n: int, scale: float, low: int) -> int:
    return max(low, int(round(n * scale)))


def cfg(name: str, why: str, **params: Any) -> dict[str, Any]:
    return {"name": name, "why": why, **params}


def logreg_configs(s: float) -> list[dict[str, Any]]:
    base = dict(knots=0, max_iter=sized(300, s, 60), step=20)
    return [
        cfg("lr-raw-C1", "linear reference on the standardised features", features="raw", C=1.0, **dict(base, step=10)),
        cfg("lr-poly2-C0.1", "squares and pairwise products for curvature and interactions",
            features="poly2", C=0.1, **base),
        cfg("lr-spline-inter-C0.05", "per-feature splines for non-monotone effects, products for interactions",
            features="spline_inter", C=0.05, **dict(base, knots=5)),
        cfg("lr-poly2-C0.01", "stronger regularisation in case the 495 polynomial features overfit",
            features="poly2", C=0.01, **base),
        cfg("lr-spline-inter-C0.2", "weaker regularisation of the spline model: which side of the optimum are we on",
            features="spline_inter", C=0.2, **dict(base, knots=5)),
    ]


def forest_configs(s: float) -> list[dict[str, Any]]:
    base = dict(n_estimators=sized(100, s, 40), step=sized(20, s, 10), max_depth=0, max_samples=0.6)
    return [
        cfg("rf-leaf5-sqrt", "standard forest: sqrt(features) per split, small leaves",
            min_samples_leaf=5, max_features="sqrt", **base),
        cfg("rf-leaf20-0.33", "larger leaves and more candidate features: less variance per tree",
            min_samples_leaf=20, max_features=0.33, **base),
        cfg("rf-depth10-leaf10", "capped depth: do deep trees memorise the label noise",
            min_samples_leaf=10, max_features="sqrt", **dict(base, max_depth=10)),
        cfg("rf-leaf3-0.2", "very random trees with small leaves: more diversity across trees",
            min_samples_leaf=3, max_features=0.2, **base),
        cfg("rf-leaf10-0.5", "half of the features per split: stronger but more correlated trees",
            min_samples_leaf=10, max_features=0.5, **base),
    ]


def hgb_configs(s: float) -> list[dict[str, Any]]:
    return [
        cfg("hgb-lr0.1-leaves31", "library defaults as the reference",
            learning_rate=0.1, max_iter=sized(200, s, 60), max_leaf_nodes=31, min_samples_leaf=20, l2=0.0),
        cfg("hgb-lr0.05-leaves15", "smaller trees and a lower rate: a smoother fit of a noisy target",
            learning_rate=0.05, max_iter=sized(400, s, 100), max_leaf_nodes=15, min_samples_leaf=40, l2=1.0),
        cfg("hgb-lr0.05-leaves63", "larger trees for higher-order interactions, regularised by big leaves",
            learning_rate=0.05, max_iter=sized(250, s, 80), max_leaf_nodes=63, min_samples_leaf=80, l2=3.0),
        cfg("hgb-lr0.03-leaves7", "shallow trees, many of them: mostly additive structure",
            learning_rate=0.03, max_iter=sized(600, s, 150), max_leaf_nodes=7, min_samples_leaf=40, l2=1.0),
    ]


def hgb_follow_up(best: Outcome) -> dict[str, Any] | None:
    """Refit the best configuration (by holdout) at its validation peak, or longer if it was still improving."""
    peak, total = best.peak_step, best.config["max_iter"]
    if peak < 0.7 * total:
        n, why = max(10, peak), f"run {best.run_id} peaked at iteration {peak} of {total}: refit with {max(10, peak)}"
    elif peak >= total:
        n, why = int(total * 1.6), f"run {best.run_id} still improved at its last iteration {total}: give it 60% more"
    else:
        return None
    return dict(best.config, name=f"{best.config['name']}-iter{n}", why=why, max_iter=n)


def knn_configs(s: float) -> list[dict[str, Any]]:
    return [
        cfg("knn-all-uniform", "kNN on all 30 standardised features, k read off the holdout curve",
            k_features=30, weights="uniform"),
        cfg("knn-anova20-uniform", "noise features dilute distances: drop the 10 with the weakest association",
            k_features=20, weights="uniform"),
        cfg("knn-anova15-uniform", "a harder cut: the 15 features with the strongest association",
            k_features=15, weights="uniform"),
        cfg("knn-anova15-distance", "distance weighting on the selected features", k_features=15,
            weights="distance"),
        cfg("knn-anova10-uniform", "an even smaller neighbourhood space", k_features=10, weights="uniform"),
    ]


def mlp_configs(s: float) -> list[dict[str, Any]]:
    base = dict(lr=1e-3, epochs=sized(30, s, 12))
    return [
        cfg("mlp-64-a1e-4", "one hidden layer of 64: a small reference network", hidden="64", alpha=1e-4, **base),
        cfg("mlp-128-64-a1e-3", "two layers for interactions, mild L2", hidden="128-64", alpha=1e-3, **base),
        cfg("mlp-64-32-a1e-2", "strong L2 against the label noise", hidden="64-32", alpha=1e-2, **base),
        cfg("mlp-256-a1e-3-lr3e-4", "a wide layer with a slower learning rate", hidden="256", alpha=1e-3,
            **dict(base, lr=3e-4)),
        cfg("mlp-128-64-a3e-2", "the two-layer net with even stronger L2", hidden="128-64", alpha=3e-2, **base),
    ]


def blend_configs(s: float) -> list[dict[str, Any]]:
    return [
        cfg("blend-mean", "equal-weight average of the best model of each earlier direction",
            method="mean", max_models=4, C=1.0),
        cfg("blend-auc-weighted", "weights grow with each model's holdout AUC above chance",
            method="weighted", max_models=4, C=1.0),
        cfg("blend-stack-lr", "logistic-regression stacker on the models' logits, fitted on the holdout slice",
            method="stack", max_models=4, C=1.0),
    ]


@dataclass(frozen=True)
class Family:
    key: str  # also the default direction name
    keywords: tuple[str, ...]
    pitch: str
    fit: Callable[[dict[str, Any], Context], Fit]
    configs: Callable[[float], list[dict[str, Any]]]
    next_ideas: tuple[str, ...]
    follow_up: Callable[[Outcome], dict[str, Any] | None] | None = None


FAMILIES: dict[str, Family] = {f.key: f for f in [
    Family("logreg-features", ("logistic", "linear", "logreg", "feature", "lr", "glm"),
           "Logistic regression with engineered features (polynomial terms, splines): fast and interpretable, it shows "
           "how much of the signal is additive and how much needs interactions.", fit_logreg, logreg_configs,
           ("keep only the strongest interaction terms instead of all pairs",
            "feed the spline and interaction features to a tree model")),
    Family("random-forest", ("forest", "bagging", "trees", "rf"),
           "A random forest: bagged deep trees capture interactions without much tuning and give a low-variance "
           "reference for boosting.", fit_forest, forest_configs,
           ("extra-trees (more randomised splits)", "calibrate the forest's probabilities")),
    Family("hist-gbm", ("gbm", "gbdt", "boost", "hist", "gradient", "xgb", "lgbm", "lightgbm", "catboost"),
           "Histogram gradient boosting: usually the strongest single model on tabular data; tree size, rate and "
           "regularisation tuned against the validation curve.", fit_hgb, hgb_configs,
           ("a finer learning-rate / leaf-count grid around the best run", "average several seeds"), hgb_follow_up),
    Family("knn", ("knn", "neighbo"),
           "k-nearest neighbours on selected features: a local, non-parametric view that errs differently from trees "
           "and linear models, which makes it useful in a blend.", fit_knn, knn_configs,
           ("learn a feature weighting for the distance", "use the kNN predictions as a blend input")),
    Family("mlp", ("mlp", "neural", "network", "deep", "nn"),
           "A multilayer perceptron: smooth non-linear functions of all features, an inductive bias different "
           "from trees.", fit_mlp, mlp_configs,
           ("dropout or batch normalisation (needs a deep-learning library)", "an ensemble of MLP seeds")),
    Family("blend-top-models", ("blend", "ensemble", "stack"),
           "A blend of the best saved models of the earlier directions (averages and a stacker): their errors differ, "
           "so a combination should beat each of them.", fit_blend, blend_configs,
           ("add more diverse base models (kNN, linear) even if weak alone",
            "stack on out-of-fold predictions of the full training set")),
]}
PREFERENCE = ["logreg-features", "random-forest", "hist-gbm", "knn", "mlp", "blend-top-models"]


def family_for(name: str) -> Family | None:
    """The family a direction name asks for: long keywords anywhere, short ones ("rf") as whole words."""
    words = set(re.split(r"[^a-z0-9]+", name.lower()))
    for key in reversed(PREFERENCE):  # blend first: "blend-gbm-and-mlp" is a blend
        if any(k in name.lower() if len(k) > 3 else k in words for k in FAMILIES[key].keywords):
            return FAMILIES[key]
    return None


# ------------------------------------------------------------------------------------ runs


@dataclass
class Outcome:
    run_id: int
    config: dict[str, Any]
    status: str = "failed"
    error: str = ""
    public: float | None = None
    ci: tuple[float, float] | None = None
    holdout_auc: float = float("nan")
    train_auc: float = float("nan")
    peak_step: int = 0
    last_step: int = 0
    early_peak: bool = False
    step_name: str = "step"
    fit_seconds: float = 0.0
    model_file: Path | None = None
    public_preds: Path | None = None
    analysis: str = ""


@dataclass
class SearchState:
    is_auc: bool = True  # the daemon's metric is ROC AUC, so public and holdout scores compare
    stop_reason: str = ""
    noise: float = 0.0  # sd of a public score: from the daemon's 95% interval, else our bootstrap
    noise_auc: float = 0.0  # bootstrap sd of the holdout AUC resampled to the public split's size
    noise_hold: float = 0.0  # the same at the holdout's own size

    def public_vs_holdout(self) -> float:  # 2 sd of the difference of two independent estimates
        return 2 * float(np.hypot(self.noise_auc, self.noise_hold))


def bootstrap_sd(y: np.ndarray, p: np.ndarray, size: int, rounds: int = 200) -> float:
    rng, scores = np.random.default_rng(SEED), []
    for _ in range(rounds):
        idx = rng.integers(0, len(y), size)
        if 0 < y[idx].sum() < size:
            scores.append(roc_auc_score(y[idx], p[idx]))
    return float(np.std(scores))


def save_model(model: Any, run_id: int, family: Family, config: dict[str, Any], data: Data, direction: str) -> Path:
    folder = Path(f"models/run-{run_id}")
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib", compress=3)
    meta = {"flavor": "sklearn", "loader": "joblib.load('model.joblib')",
            "predict": "model.predict_proba(X[features])[:, 1]", "features": data.features,
            "sklearn_version": sklearn.__version__, "python_version": sys.version.split()[0],
            "family": family.key, "direction": direction, "run_id": run_id, "train_rows": len(data.x_train),
            "params": {k: v for k, v in config.items() if k != "why"}, "created_by": "agents/baseline/agent.py"}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return folder / "model.joblib"


def write_predictions(values: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"prediction": values}).to_csv(path, index=False, float_format="%.8f", lineterminator="\n")
    return path


def run_config(config: dict[str, Any], family: Family, ctx: Context, ctl: Ctl, state: SearchState,
               earlier: list[Outcome], direction: str) -> Outcome | None:
    d = ctx.data
    params = {k: v for k, v in config.items() if k not in ("name", "why")}
    params.update(train_rows=len(d.x_train), holdout_rows=len(d.x_hold), seed=SEED)
    rationale = config["why"] + "."
    if done := [o for o in earlier if o.status == "finished"]:
        top = max(done, key=lambda o: o.holdout_auc)
        rationale += (f" Best so far in this direction by holdout AUC: run {top.run_id} ({top.config['name']}, "
                      f"{top.holdout_auc:.4f}).")
    try:
        run_id = ctl.run_start(config["name"], rationale, params)
    except CtlError as error:
        log(f"run start {config['name']} refused: {error}")
        return None
    log(f"run {run_id} {config['name']}: {config['why']}")
    out, fit, started = Outcome(run_id, config), None, time.time()
    try:
        fit = family.fit(config, ctx)
        out.fit_seconds = time.time() - started
        metrics_file = Path(f"runs/run-{run_id}/metrics.jsonl")
        fit.curves.write(metrics_file)
        out.peak_step, out.last_step = fit.curves.peak()[0], fit.curves.series()[-1][0]
        out.step_name = fit.curves.step_name
        out.model_file = save_model(fit.model, run_id, family, config, d, direction)
        model = joblib.load(out.model_file)  # from here on, only the saved file is used
        p_hold = proba(model, d.x_hold)
        out.holdout_auc = fit.honest_holdout if fit.honest_holdout is not None else roc_auc_score(d.y_hold, p_hold)
        out.train_auc = roc_auc_score(d.curve_rows()[1], proba(model, d.curve_rows()[0]))
        if not state.noise_auc:
            state.noise_auc = bootstrap_sd(d.y_hold, p_hold, len(d.x_public))
            state.noise_hold = bootstrap_sd(d.y_hold, p_hold, len(d.y_hold))
        try:
            summary = {"holdout_auc": out.holdout_auc, "train_auc": out.train_auc, "fit_seconds": out.fit_seconds,
                       "best_step": out.peak_step, **fit.metrics}
            ctl.log_run(run_id, metrics_file, summary)
        except CtlError as error:
            log(f"run {run_id}: logging metrics failed, going on: {error}")
        ctl.artifact(run_id, out.model_file.parent)
        out.public_preds = write_predictions(proba(model, d.x_public), Path(f"preds/run-{run_id}-public.csv"))
        out.status = "finished"
        evaluate_public(out, ctl, state)
    except Exception as error:  # the run is still ended, as failed, with the error in its analysis
        out.status, out.error = "failed", f"{type(error).__name__}: {error}"
        out.fit_seconds = out.fit_seconds or time.time() - started
    out.analysis = analyse(out, fit, earlier, state, ctx.higher_is_better)
    try:
        ctl.run_end(run_id, out.analysis, failed=out.status == "failed")
    except CtlError as error:
        log(f"run {run_id}: run end refused: {error}")
    log(f"run {run_id} {out.status}: holdout {out.holdout_auc:.4f}, public {fmt(out.public)}, {out.fit_seconds:.1f} s"
        + (f" ({out.error})" if out.error else ""))
    return out


def evaluate_public(out: Outcome, ctl: Ctl, state: SearchState) -> None:
    """One public evaluation; a spent budget stops the search (the run itself stays finished)."""
    if state.stop_reason:
        out.error = f"not evaluated: {state.stop_reason}"
        return
    try:
        result = ctl.evaluate(out.run_id, out.public_preds)  # type: ignore[arg-type]
    except CtlError as error:
        if "budget" not in str(error).lower():
            raise
        state.stop_reason, out.error = "public evaluation budget spent", f"not evaluated: {error}"
        return
    out.public = float(result["score"])
    interval = result.get("interval") or {}
    low, high = interval.get("low", result.get("ci_low")), interval.get("high", result.get("ci_high"))
    out.ci = (float(low), float(high)) if low is not None and high is not None else None
    if not state.noise:
        state.noise = (out.ci[1] - out.ci[0]) / 3.92 if out.ci else state.noise_auc if state.is_auc else 0.0
    if result.get("public_evals_left") is not None and int(result["public_evals_left"]) <= 0:
        state.stop_reason = "public evaluation budget spent"


def analyse(out: Outcome, fit: Fit | None, earlier: list[Outcome], state: SearchState, hib: bool) -> str:
    if out.status == "failed" or fit is None:
        return f"Failed after {out.fit_seconds:.1f} s: {out.error}. No score; not a submission candidate."
    gap = out.train_auc - out.holdout_auc
    if fit.train_comparable:
        size = "large: far more capacity than generalises" if gap > 0.1 else "moderate" if gap > 0.04 else "small"
        parts = [f"Holdout AUC {out.holdout_auc:.4f}, train {out.train_auc:.4f} (gap {gap:+.3f}, {size})."]
    else:
        parts = [f"Holdout AUC {out.holdout_auc:.4f} (train AUC not comparable: the models were fitted elsewhere)."]
    (peak, peak_value), series, unit = fit.curves.peak(), fit.curves.series(), fit.curves.step_name
    last, last_value = series[-1]
    if len(series) > 1 and peak == last:
        parts.append(f"Validation AUC still rising at the last step ({unit} {last}, {last_value:.4f}): "
                     "going further could help.")
    elif len(series) > 1 and not fit.curves.progress:
        parts.append(f"Validation AUC best at {unit} {peak} ({peak_value:.4f}; {unit} {last}: {last_value:.4f}).")
    elif len(series) > 1:
        out.early_peak = peak_value - last_value > 0.003
        tail = "then fell: past the peak the model overfits" if out.early_peak else "then stayed flat"
        parts.append(f"Validation AUC peaked at {unit} {peak} of {last} ({peak_value:.4f}), {tail} "
                     f"(last {last_value:.4f}).")
    if out.public is not None:
        ci = f" (95% CI {out.ci[0]:.4f}-{out.ci[1]:.4f})" if out.ci else ""
        parts.append(f"Public {out.public:.4f}{ci}.")
        if state.is_auc:
            delta, limit = out.public - out.holdout_auc, state.public_vs_holdout()
            agree = "consistent with" if abs(delta) <= limit else "further than the sampling noise from"
            parts.append(f"That is {delta:+.4f} vs holdout: {agree} it (2 sd of the difference: {limit:.4f}).")
        if prior := [o for o in earlier if o.public is not None]:
            best = max(prior, key=lambda o: o.public if hib else -o.public)  # type: ignore[operator]
            diff = out.public - best.public  # type: ignore[operator]
            parts.append(f"Versus the best earlier run here, run {best.run_id} (public {best.public:.4f}): {diff:+.4f}"
                         + (" (within the noise)." if abs(diff) <= 2 * state.noise else "."))
    elif out.error:
        parts.append(out.error[0].upper() + out.error[1:] + ".")
    parts += [note + "." for note in fit.notes]
    return " ".join(parts + [f"Fit {out.fit_seconds:.1f} s."])


def search(family: Family, ctx: Context, ctl: Ctl, direction: str) -> tuple[list[Outcome], SearchState]:
    configs = family.configs(ctx.scale)
    queue = configs[: min(len(configs), 2 + round(3 * ctx.scale))]
    log(f"search: {len(queue)} configurations{' + a follow-up' if family.follow_up else ''}, "
        f"{ctx.clock.left():.0f} s before the submit reserve")
    outcomes: list[Outcome] = []
    state, durations, followed, refused = SearchState(is_auc=ctx.metric == "roc_auc"), [], False, 0
    while True:
        if not queue and family.follow_up and not followed:
            followed = True
            done = [o for o in outcomes if o.status == "finished"]
            best = max(done, key=lambda o: o.holdout_auc, default=None)  # chosen by holdout, not by public score
            if best and (extra := family.follow_up(best)):
                queue.append(extra)
        if not queue or state.stop_reason:
            break
        estimate = 1.3 * max(durations) if durations else 10.0
        if ctx.clock.left() < estimate:
            state.stop_reason = f"deadline near ({ctx.clock.left():.0f} s left, a run needs ~{estimate:.0f} s)"
            break
        started = time.time()
        outcome = run_config(queue.pop(0), family, ctx, ctl, state, outcomes, direction)
        if outcome is None:
            refused += 1
            if refused >= 3:
                state.stop_reason = "three run starts refused"
            continue
        durations.append(time.time() - started)
        outcomes.append(outcome)
    if state.stop_reason:
        log(f"search stopped: {state.stop_reason}")
    return outcomes, state


# ------------------------------------------------------------------------------------ direction


def blend_ready(directions: list[PastDirection]) -> bool:
    return sum(1 for d in directions if d.status == "completed" and d.has_model) >= 2


def declare_rationale(family: Family, directions: list[PastDirection], hib: bool) -> str:
    if not directions:
        return f"{family.pitch} No direction exists yet in research_directions/, so this one starts the record."
    scored = [d for d in directions if d.public is not None]
    best = max(scored, key=lambda d: d.public if hib else -d.public, default=None)  # type: ignore[operator]
    lead = f" The best so far is {best.name} (run {best.best_run}, public {best.public:.4f})." if best else ""
    if family.key == "blend-top-models":
        adds = "It trains no new family: it combines their saved models, the best run of each direction."
    else:
        adds = f"None of them is a {family.key} model, so this adds a different inductive bias."
    return f"{family.pitch} Earlier directions: {describe(directions)}.{lead} {adds}"


def choose_direction(settings: Settings, directions: list[PastDirection], ctl: Ctl) -> tuple[str, Family] | None:
    forced = (FAMILIES.get(settings.family) or family_for(settings.family)) if settings.family else None
    used = {d.name for d in directions}
    if settings.direction:  # assigned by the operator: keep it, no declaration
        family = forced or family_for(settings.direction) or next(
            (FAMILIES[k] for k in PREFERENCE if k not in used), FAMILIES[PREFERENCE[0]])
        log(f"assigned direction {settings.direction}: family {family.key}")
        return settings.direction, family
    try:  # concurrent agents may have declared names that research_directions/ does not show yet
        used |= {str(d.get("name")) for d in ctl.directions()}
    except CtlError as error:
        log(f"direction list failed, relying on research_directions/: {error}")
    keys = [forced.key] if forced else [k for k in PREFERENCE if k != "blend-top-models" or blend_ready(directions)]
    refusals = 0
    for name, key in ((key + suffix, key) for suffix in ("", "-2", "-3", "-4", "-5") for key in keys):
        if name in used:
            continue
        try:
            ctl.declare(name, declare_rationale(FAMILIES[key], directions, settings.higher_is_better))
            log(f"declared direction {name}")
            return name, FAMILIES[key]
        except CtlError as error:
            log(f"declare {name} refused: {error}")
            refusals += 1
            name_taken = name in str(error) or re.search(r"conflict|used|exists|taken", str(error), re.IGNORECASE)
            if error.code != 1 or not name_taken or refusals >= 8:
                return None
    return None


# ------------------------------------------------------------------------------------ submit, learnings


def submit_best(outcomes: list[Outcome], data: Data, ctl: Ctl, hib: bool) -> tuple[Outcome, dict[str, Any]] | None:
    candidates = [o for o in outcomes if o.status == "finished" and o.public is not None and o.model_file]
    candidates.sort(key=lambda o: (o.public if hib else -o.public, o.holdout_auc), reverse=True)
    for out in candidates:
        model = joblib.load(out.model_file)  # the uploaded file; never retrained
        evaluated = pd.read_csv(out.public_preds)["prediction"].to_numpy()  # type: ignore[arg-type]
        again = proba(model, data.x_public)
        if len(evaluated) != len(again) or np.max(np.abs(evaluated - again)) > 1e-6:
            log(f"run {out.run_id}: the reloaded model does not reproduce its evaluated predictions; not submitted")
            continue
        private = proba(model, data.x_private)
        if len(private) != len(data.x_private) or not np.all((private >= 0) & (private <= 1)):  # NaN fails too
            log(f"run {out.run_id}: malformed private predictions; not submitting it")
            continue
        path = write_predictions(private, Path(f"preds/run-{out.run_id}-private.csv"))
        log(f"submitting run {out.run_id} (public {out.public:.4f}); its saved model reproduced its public predictions")
        try:  # exactly once: a refused submission is reported, never retried with another run
            result = ctl.submit(out.run_id, path)
            gap = result.get("gap")
            log(f"private {fmt(result.get('score'))}, gap {'n/a' if gap is None else f'{gap:+.4f}'}, "
                f"overfit {result.get('overfit')}")
            return out, result
        except CtlError as error:
            log(f"submit refused: {error}")
            return out, {"error": str(error)}
    return None


def write_learnings(direction: str, family: Family, outcomes: list[Outcome], state: SearchState,
                    submitted: tuple[Outcome, dict[str, Any]] | None, directions: list[PastDirection],
                    ctx: Context | None, failure: str) -> Path:
    """learnings.md: claims with run ids as evidence, differences judged against the bootstrap noise."""
    noise, hib = state.noise, ctx.higher_is_better if ctx else True
    done = [o for o in outcomes if o.status == "finished" and o.public is not None]
    failed = [o for o in outcomes if o.status == "failed"]

    def score(o: Outcome) -> float:
        return o.public if hib else -o.public  # type: ignore[operator,return-value]

    def name(o: Outcome) -> str:
        return f"`{o.config['name']}` (run {o.run_id})"

    best = max(done, key=score, default=None)
    worked, didnt, surprises, nexts = [], [], [], []
    if best:
        worked.append(f"{name(best)} scored best: public {best.public:.4f}, holdout {best.holdout_auc:.4f}; "
                      f"{best.config['why']}.")
        earlier = [d for d in directions if d.public is not None]
        if top := max(earlier, key=lambda d: d.public if hib else -d.public, default=None):  # type: ignore[operator]
            diff = score(best) - (top.public if hib else -top.public)  # type: ignore[operator]
            verdict = "beat" if diff > 2 * noise else "trailed" if diff < -2 * noise else "matched (within the noise)"
            (didnt if verdict == "trailed" else worked).append(
                f"This direction {verdict} the best earlier direction, {top.name} (run {top.best_run}, "
                f"public {top.public:.4f}): {diff:+.4f}.")
        first = min(done, key=lambda o: o.run_id)
        for o in sorted(done, key=score, reverse=True):
            if o is not first and score(o) - score(first) > 2 * noise:
                worked.append(f"{name(o)} beat the first configuration {name(first)} by "
                              f"{score(o) - score(first):.4f}, more than twice the noise sd ({noise:.4f}).")
        for o in done:
            if o is best:
                continue
            if score(best) - score(o) > 2 * noise:
                gap = o.train_auc - o.holdout_auc
                why = f" (train {o.train_auc:.4f} vs holdout {o.holdout_auc:.4f})" if gap > 0.1 else ""
                didnt.append(f"{name(o)} trailed {name(best)} by {score(best) - score(o):.4f}{why}.")
            else:
                worked.append(f"{name(o)} was within the noise of the best: public {o.public:.4f}.")
    else:
        didnt.append("No run produced a scored model" + (f": {failure}" if failure else "."))
    didnt += [f"{name(o)} failed: {o.error}" for o in failed]
    if state.stop_reason:
        didnt.append(f"The search stopped early: {state.stop_reason}.")
    if submitted and "error" in submitted[1]:
        surprises.append(f"The submission of run {submitted[0].run_id} was refused: {submitted[1]['error']}")
    elif submitted:
        out, result = submitted
        public = result.get("public_score", out.public)
        gap = result.get("gap", (public or 0) - (result.get("score") or 0))
        limit = 2 * np.sqrt(2) * noise  # two independent splits of the same size
        surprises.append(
            f"Public/private gap of the submitted run {out.run_id}: public {fmt(public)}, private "
            f"{fmt(result.get('score'))}, gap {gap:+.4f} (positive: private is worse), "
            f"{'within' if abs(gap) <= limit else 'beyond'} the sampling noise of two splits (2 sd = {limit:.4f})"
            + ("; the daemon flagged it as overfit." if result.get("overfit") else "."))
    for o in done:
        if state.is_auc and abs(o.public - o.holdout_auc) > state.public_vs_holdout():  # type: ignore[operator]
            surprises.append(f"{name(o)}: public {o.public:.4f} vs holdout {o.holdout_auc:.4f}, "
                             "further apart than the noise.")
        if o.early_peak:
            surprises.append(f"{name(o)} peaked early on its validation curve (step {o.peak_step} of {o.last_step}).")
    if best and len(done) > 1:
        by_holdout = max(done, key=lambda o: o.holdout_auc)
        if by_holdout is not best and abs(score(by_holdout) - score(best)) > 2 * noise:
            surprises.append(f"The holdout favoured {name(by_holdout)}, the public split {name(best)}.")
        else:
            surprises.append("Holdout and public split agree on the best configuration within the noise.")
    if best and best.peak_step == best.last_step and best.last_step > 1:
        nexts.append(f"{name(best)} was still improving at its last step ({best.step_name} {best.last_step}): "
                     "go further along that axis.")
    nexts += [idea[0].upper() + idea[1:] + "." for idea in family.next_ideas]
    if family.key != "blend-top-models" and best:
        nexts.append(f"Blend run {best.run_id} with the best runs of other directions: other families err differently.")
    refs = [f"Earlier directions read before starting: {describe(directions) or 'none (this was the first)'}."]
    if ctx and ctx.bases:
        inputs = ", ".join(f"{n} run {r.id} (public {fmt(r.public)})" for n, r, _ in ctx.bases)
        refs.append(f"Blend inputs: {inputs}.")
    refs.append(f"Noise: sd of a public score {noise:.4f} (from the daemon's 95% intervals); sd of the holdout AUC "
                f"over 200 bootstrap resamples {state.noise_auc:.4f} at the public split's size, "
                f"{state.noise_hold:.4f} at the holdout's.")
    refs.append(f"scikit-learn {sklearn.__version__} user guide: https://scikit-learn.org/stable/user_guide.html")
    sections = {"What worked": worked or ["Nothing measurable."],
                "What did not": didnt or ["Every configuration landed within the noise of the best."],
                "Surprises": surprises or ["None: holdout and public scores agreed within the noise."],
                "What to try next": nexts, "References": refs}
    label = direction if direction == family.key else f"{direction} ({family.key})"
    path = Path("learnings.md")
    path.write_text(f"Direction `{label}`: {len(outcomes)} runs, {len(failed)} failed.\n\n" + "\n".join(
        f"### {title}\n\n" + "".join(f"- {item}\n" for item in items) for title, items in sections.items()))
    return path


# ------------------------------------------------------------------------------------ main


def main() -> int:
    settings = Settings.from_env()
    if os.environ.get("MLAGENT_WORKTREE"):
        os.chdir(os.environ["MLAGENT_WORKTREE"])
    clock, root = Clock(settings.deadline), Path.cwd()
    ctl = Ctl(clock)
    log(f"job {settings.job_id} in {root}: {settings.deadline - time.time():.0f} s to the deadline, "
        f"scale {settings.scale}, metric {settings.metric}")
    runs = read_runs(root)
    directions = read_directions(root, runs, settings.higher_is_better)
    log(f"knowledge base: {len(directions)} directions, {len(runs)} runs. {describe(directions)}")
    chosen = choose_direction(settings, directions, ctl)
    if chosen is None:
        log("could not declare a direction; giving up")
        return 1
    direction, family = chosen
    outcomes, state, submitted, ctx, failure = [], SearchState(), None, None, ""
    try:
        data = load_data(settings.scale)
        ctx = Context(data, clock, settings.scale, runs, settings.higher_is_better, settings.metric)
        log(f"data: {len(ctx.data.x_train)} training rows, {len(ctx.data.x_hold)} holdout rows, "
            f"{len(ctx.data.features)} features")
        outcomes, state = search(family, ctx, ctl, direction)
        if (submitted := submit_best(outcomes, ctx.data, ctl, settings.higher_is_better)) is None:
            log("no run qualifies for submission")
    except Exception as error:  # still write learnings and finish the direction
        failure = f"{type(error).__name__}: {error}"
        log(f"direction broke: {failure}")
    learnings = write_learnings(direction, family, outcomes, state, submitted, directions, ctx, failure)
    try:
        ctl.finish(learnings)
    except CtlError as error:
        log(f"direction finish refused: {error}")
        return 1
    log(f"finished {direction} in {time.time() - clock.started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
