"""A multilayer perceptron trained epoch by epoch with partial_fit; the weights of the epoch with
the lowest validation loss are the ones kept."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.metrics import log_loss
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ..data import Curves, proba
from ..settings import SEED
from .common import Context, Fit, cfg, sized


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
