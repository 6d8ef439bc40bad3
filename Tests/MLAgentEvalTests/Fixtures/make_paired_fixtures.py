"""Write paired_bootstrap.json: references for MLAgentEval's paired bootstrap (PairedBootstrapTests).

Regenerate from the repository root with the project's virtualenv:

    .venv/bin/python Tests/MLAgentEvalTests/Fixtures/make_paired_fixtures.py

An independent implementation: for fixed truth and two fixed prediction vectors A and B, and a fixed
list of resamples (row index vectors drawn with replacement by numpy, written to the fixture under
"resamples" and named by each case), each
resample's paired difference metric(A[idx]) - metric(B[idx]) is computed by scikit-learn on the rows
themselves (repeated as drawn, no weights), None where the metric is undefined (one class).
From them come the numpy.percentile interval (default "linear" method), P(A better) (strictly,
by the metric's direction) and whether the interval excludes 0. "seeded" cases re-implement the
daemon's random stream (xoshiro256** seeded by SplitMix64, Lemire's bounded draw, n draws per
resample), so PairedBootstrap.compare can be checked end to end. Floats are written with repr.
"""

from __future__ import annotations

import json
import platform
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

OUT = Path(__file__).resolve().parent / "paired_bootstrap.json"
METRICS = {
    "roc_auc": (roc_auc_score, True),
    "log_loss": (lambda y, p: log_loss(y, p, labels=[0, 1]), False),
    "accuracy": (accuracy_score, True),
    "f1": (lambda y, p: f1_score(y, p, zero_division=0), True),
    "rmse": (root_mean_squared_error, False),
    "mae": (mean_absolute_error, False),
    "r2": (r2_score, True),
}
MASK = (1 << 64) - 1


class Xoshiro256StarStar:
    def __init__(self, seed: int) -> None:
        x = seed & MASK
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            self.s.append(z ^ (z >> 31))

    def next(self) -> int:
        s0, s1, s2, s3 = self.s
        r = (s1 * 5) & MASK
        result = ((((r << 7) | (r >> 57)) & MASK) * 9) & MASK
        t = (s1 << 17) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = ((s3 << 45) | (s3 >> 19)) & MASK
        self.s = [s0, s1, s2, s3]
        return result

    def below(self, bound: int) -> int:
        m = self.next() * bound
        if (m & MASK) < bound:
            threshold = ((1 << 64) - bound) % bound
            while (m & MASK) < threshold:
                m = self.next() * bound
        return m >> 64


def score(metric: str, y, p):
    fn, _ = METRICS[metric]
    if metric in ("roc_auc", "log_loss") and len(np.unique(y)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(fn(y, p))


def difference(metric, y, a, b, idx):
    sa = score(metric, y[idx], a[idx])
    sb = score(metric, y[idx], b[idx])
    return None if sa is None or sb is None else sa - sb


def summary(metric, observed, diffs, confidence):
    kept = [d for d in diffs if d is not None]
    higher = METRICS[metric][1]
    a_better = sum(1 for d in kept if (d > 0 if higher else d < 0))
    b_better = sum(1 for d in kept if (d < 0 if higher else d > 0))
    tail = (1 - confidence) / 2
    low = float(np.percentile(kept, 100 * tail))
    high = float(np.percentile(kept, 100 * (1 - tail)))
    return {
        "observed": observed,
        "confidence": confidence,
        "expected_samples": len(kept),
        "expected_low": low,
        "expected_high": high,
        "expected_a_better": a_better,
        "expected_b_better": b_better,
        "expected_probability_a_better": a_better / len(kept),
        "expected_distinguishable": bool(low > 0 or high < 0),
    }


def as_list(values):
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.integer):
        return [int(v) for v in values]
    return [float(v) for v in values]


def explicit_case(name, metric, y, a, b, resamples, confidence=0.95):
    y, a, b = np.asarray(y), np.asarray(a), np.asarray(b)
    diffs = [difference(metric, y, a, b, idx) for idx in RESAMPLES[resamples]]
    observed = score(metric, y, a) - score(metric, y, b)
    case = {"name": name, "metric": metric, "y_true": as_list(y), "a": as_list(a), "b": as_list(b),
            "resamples": resamples, "expected_differences": diffs}
    case.update(summary(metric, observed, diffs, confidence))
    return case


def seeded_case(name, metric, y, a, b, samples, seed, confidence=0.95):
    y, a, b = np.asarray(y), np.asarray(a), np.asarray(b)
    n = len(y)
    generator = Xoshiro256StarStar(seed)
    diffs = [difference(metric, y, a, b, np.array([generator.below(n) for _ in range(n)])) for _ in range(samples)]
    observed = score(metric, y, a) - score(metric, y, b)
    case = {"name": name, "metric": metric, "y_true": as_list(y), "a": as_list(a), "b": as_list(b),
            "samples": samples, "seed": seed}
    case.update(summary(metric, observed, diffs, confidence))
    return case


def binary(rng, n, signal):
    y = (rng.random(n) < 0.5).astype(np.int64)
    y[0], y[1] = 0, 1
    noise = rng.normal(0, 1.5, n)
    return y, noise


rng = np.random.default_rng(20260113)
explicit, seeded = [], []
n = 200
y, shared = binary(rng, n, 1.0)
strong = 1 / (1 + np.exp(-(1.2 * (2 * y - 1) + shared)))
weak = 1 / (1 + np.exp(-(0.4 * (2 * y - 1) + shared + rng.normal(0, 0.8, n))))
twin = np.clip(strong + rng.normal(0, 0.01, n), 0, 1)
RESAMPLES = {"main": [rng.integers(0, n, n) for _ in range(120)], "small": [rng.integers(0, 8, 8) for _ in range(60)]}
resamples = "main"
for metric in ("roc_auc", "log_loss"):
    explicit.append(explicit_case(f"{metric}_strong_vs_weak", metric, y, strong, weak, resamples))
    explicit.append(explicit_case(f"{metric}_strong_vs_twin", metric, y, strong, twin, resamples))
explicit.append(explicit_case("roc_auc_ties", "roc_auc", y, np.round(strong, 1), np.round(weak, 1), resamples))
labels_a, labels_b = (strong > 0.5).astype(np.int64), (weak > 0.5).astype(np.int64)
explicit.append(explicit_case("accuracy_labels", "accuracy", y, labels_a, labels_b, resamples))
explicit.append(explicit_case("f1_labels", "f1", y, labels_a, labels_b, resamples, confidence=0.9))
yr = np.round(rng.normal(3, 2, n), 6)
good = np.round(yr + rng.normal(0, 0.5, n), 6)
bad = np.round(yr + rng.normal(0, 0.7, n), 6)
for metric in ("rmse", "mae", "r2"):
    explicit.append(explicit_case(f"{metric}_good_vs_bad", metric, yr, good, bad, resamples))
# Few rows, mostly one class: some resamples hold one class and are skipped.
small_y = np.array([0, 1, 1, 1, 1, 1, 1, 1])
small_a = np.array([0.2, 0.9, 0.8, 0.3, 0.7, 0.6, 0.95, 0.4])
small_b = np.array([0.5, 0.1, 0.9, 0.3, 0.7, 0.6, 0.8, 0.2])
explicit.append(explicit_case("roc_auc_skipped", "roc_auc", small_y, small_a, small_b, "small"))

seeded.append(seeded_case("roc_auc_seeded", "roc_auc", y[:150], strong[:150], weak[:150], samples=200, seed=42))
seeded.append(seeded_case("rmse_seeded", "rmse", yr[:120], good[:120], bad[:120], samples=150, seed=2**63 + 7))
seeded.append(seeded_case("roc_auc_skipped_seeded", "roc_auc", small_y, small_a, small_b, samples=100, seed=3))

document = {
    "generator": "Tests/MLAgentEvalTests/Fixtures/make_paired_fixtures.py",
    "sklearn_version": sklearn.__version__,
    "numpy_version": np.__version__,
    "python_version": platform.python_version(),
    "resamples": {name: [as_list(idx) for idx in sets] for name, sets in RESAMPLES.items()},
    "explicit": explicit,
    "seeded": seeded,
}
OUT.write_text(json.dumps(document, separators=(",", ":")) + "\n")
print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(explicit)} explicit, {len(seeded)} seeded cases)")
