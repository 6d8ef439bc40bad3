"""The experiment families: what a direction trains. Each family has a fit function (one
configuration in, a fitted pipeline and its curves out), a configuration list sized by the scale,
a pitch for the declaration and ideas for what to try next. PREFERENCE is the order in which a
self-picking agent takes them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .blend import blend_configs, fit_blend
from .common import Context, Fit
from .linear import fit_logreg, logreg_configs
from .mlp import fit_mlp, mlp_configs
from .neighbours import fit_knn, knn_configs
from .trees import fit_forest, fit_hgb, forest_configs, hgb_configs, hgb_follow_up

if TYPE_CHECKING:
    from ..records import Outcome

__all__ = ["FAMILIES", "PREFERENCE", "Context", "Family", "Fit", "family_for"]


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
