"""Logistic regression with engineered features (polynomial terms, splines and pairwise products),
continued a few lbfgs iterations at a time so its curves show how the fit converges."""

from __future__ import annotations

from typing import Any

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import PolynomialFeatures, SplineTransformer, StandardScaler

from ..data import Curves, proba
from .common import Context, Fit, cfg, sized


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
