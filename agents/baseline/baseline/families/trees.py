"""Tree ensembles: a random forest grown with warm_start (curves per tree count) and histogram
gradient boosting (curves per boosting iteration), with the follow-up that refits the best
boosting configuration at its validation peak."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.pipeline import Pipeline

from ..data import Curves
from ..settings import SEED
from .common import Context, Fit, cfg, sized

if TYPE_CHECKING:
    from ..records import Outcome


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
