"""k-nearest neighbours on (optionally ANOVA-selected) standardised features; the neighbours are
found once for the largest k and sliced, so the curve over k costs one search."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ..data import Curves
from .common import Context, Fit, cfg


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
