"""Write sklearn_metrics.json: scikit-learn reference scores for MLAgentEval's parity tests.

Regenerate from the repository root with the project's virtualenv:

    .venv/bin/python Tests/MLAgentEvalTests/Fixtures/make_fixtures.py

The output is deterministic (fixed numpy seeds; floats written with repr, so they round-trip
exactly). Each case is {"metric", "name", "y_true", "y_pred", "expected"} and, for weighted cases,
"weights": integer row counts passed to scikit-learn as sample_weight=. A weighted case is also
checked here against the unweighted score of the rows repeated that many times, which is the
meaning MLAgentEval gives to weights (a bootstrap replicate). "percentiles" holds numpy.percentile
references (default "linear" method) for the bootstrap's percentile function, and "bootstraps"
holds end-to-end Bootstrap.interval references computed by a Python re-implementation of its
random stream (xoshiro256** seeded by SplitMix64, Lemire's bounded draw). The scikit-learn and
numpy versions used are recorded at the top of the file; MetricParityTests compares every case to
1e-9 (absolute).

"exact" holds cases where float64 arithmetic loses digits (R² of targets on a huge offset): each has
scikit-learn's value and the exact value of the float64 inputs computed with Python's fractions
(rational arithmetic, rounded once at the end), so the tests can measure both against the truth.
"""

from __future__ import annotations

import json
import platform
import warnings
from fractions import Fraction
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

OUT = Path(__file__).resolve().parent / "sklearn_metrics.json"

METRICS = {
    "roc_auc": roc_auc_score,
    "log_loss": log_loss,
    "accuracy": accuracy_score,
    "f1": f1_score,
    "rmse": root_mean_squared_error,
    "mae": mean_absolute_error,
    "r2": r2_score,
}

cases: list[dict] = []


def as_list(values: np.ndarray) -> list:
    """Integers stay integers (labels, counts); floats keep full precision via repr."""
    if np.issubdtype(values.dtype, np.integer):
        return [int(v) for v in values]
    return [float(v) for v in values]


def add(metric: str, name: str, y_true, y_pred, weights=None) -> None:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    fn = METRICS[metric]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # f1's zero_division warning, etc.
        if weights is None:
            expected = float(fn(y_true, y_pred))
        else:
            weights = np.asarray(weights, dtype=np.int64)
            expected = float(fn(y_true, y_pred, sample_weight=weights))
            repeated = float(fn(np.repeat(y_true, weights), np.repeat(y_pred, weights)))
            assert abs(expected - repeated) < 1e-12, (name, expected, repeated)
    assert np.isfinite(expected), (name, expected)
    case = {
        "metric": metric,
        "name": name,
        "y_true": as_list(y_true),
        "y_pred": as_list(y_pred),
        "expected": expected,
    }
    if weights is not None:
        case["weights"] = as_list(weights)
    cases.append(case)


def counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """One bootstrap replicate as row counts (multinomial, many rows get 0)."""
    return rng.multinomial(n, np.full(n, 1.0 / n))


def binary_problem(rng: np.random.Generator, n: int, positive_rate: float = 0.5, signal: float = 1.0):
    """Labels and informative probabilities (a noisy logistic score)."""
    y = (rng.random(n) < positive_rate).astype(np.int64)
    if y.min() == y.max():  # keep both classes present
        y[0] = 1 - y[0]
    logit = signal * (2 * y - 1) + rng.normal(0, 1.5, n)
    return y, 1 / (1 + np.exp(-logit))


def regression_problem(rng: np.random.Generator, n: int, noise: float = 0.5):
    y = rng.normal(3.0, 2.0, n)
    return np.round(y, 6), np.round(y + rng.normal(0, noise, n), 6)


# --- roc_auc ---------------------------------------------------------------------------------
rng = np.random.default_rng(20240601)
for n in (10, 1000, 5000):
    y, p = binary_problem(rng, n)
    add("roc_auc", f"random_{n}", y, np.round(p, 6) if n == 5000 else p)
y, p = binary_problem(rng, 1000)
add("roc_auc", "ties_rounded_1_decimal", y, np.round(p, 1))
add("roc_auc", "ties_rounded_2_decimals", y, np.round(p, 2))
add("roc_auc", "all_equal_predictions", y[:200], np.full(200, 0.3))
add("roc_auc", "perfect", y[:200], y[:200] * 0.5 + 0.25)
add("roc_auc", "inverted", y[:200], 1.0 - y[:200])
add("roc_auc", "zero_and_one_predictions", y[:300], rng.integers(0, 2, 300).astype(float))
y, p = binary_problem(rng, 2000, positive_rate=0.03)
add("roc_auc", "imbalanced_3pct_positive", y, p)
y, p = binary_problem(rng, 1000, positive_rate=0.97)
add("roc_auc", "imbalanced_97pct_positive", y, np.round(p, 3))
add("roc_auc", "tiny_two_rows", [0, 1], [0.4, 0.6])
add("roc_auc", "tiny_tied_three_rows", [0, 1, 1], [0.5, 0.5, 0.9])
y, p = binary_problem(rng, 1000)
add("roc_auc", "weighted_bootstrap_1000", y, p, counts(rng, 1000))
add("roc_auc", "weighted_bootstrap_ties", y, np.round(p, 1), counts(rng, 1000))
add("roc_auc", "weighted_small", [0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.8, 0.2], [2, 0, 1, 3, 1, 1])

# --- log_loss --------------------------------------------------------------------------------
rng = np.random.default_rng(20240602)
for n in (10, 1000, 5000):
    y, p = binary_problem(rng, n)
    add("log_loss", f"random_{n}", y, np.round(p, 6) if n == 5000 else p)
y, p = binary_problem(rng, 500)
p = p.copy()
p[:40] = y[:40]  # confidently right: clipped to 1 - eps / eps
p[40:60] = 1 - y[40:60]  # confidently wrong: clipped, -log(eps) each
add("log_loss", "exact_zero_and_one_clipped", y, p)
add("log_loss", "all_confidently_right", y[:100], y[:100].astype(float))
add("log_loss", "near_one_minus_eps", [0, 1, 1, 0], [1e-17, 1 - 1e-17, 0.9999999999999999, 2e-16])
add("log_loss", "constant_half", y[:300], np.full(300, 0.5))
y, p = binary_problem(rng, 2000, positive_rate=0.05)
add("log_loss", "imbalanced_5pct_positive", y, p)
y, p = binary_problem(rng, 1000)
add("log_loss", "weighted_bootstrap_1000", y, p, counts(rng, 1000))
p[:30] = 1 - y[:30]
add("log_loss", "weighted_with_clipping", y, p, counts(rng, 1000))

# --- accuracy --------------------------------------------------------------------------------
rng = np.random.default_rng(20240603)
for n in (10, 1000, 5000):
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.8, y, 1 - y)
    add("accuracy", f"random_{n}", y, pred)
y = rng.integers(0, 4, 1000)
add("accuracy", "multiclass_4", y, np.where(rng.random(1000) < 0.6, y, rng.integers(0, 4, 1000)))
add("accuracy", "all_wrong", [0, 1, 1, 0], [1, 0, 0, 1])
add("accuracy", "all_right", [0, 1, 1, 0], [0, 1, 1, 0])
y = rng.integers(0, 2, 1000)
add("accuracy", "weighted_bootstrap_1000", y, np.where(rng.random(1000) < 0.7, y, 1 - y), counts(rng, 1000))

# --- f1 ----------------------------------------------------------------------------------------
rng = np.random.default_rng(20240604)
for n in (10, 1000, 5000):
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.75, y, 1 - y)
    add("f1", f"random_{n}", y, pred)
y = rng.integers(0, 2, 500)
y[0], y[1] = 0, 1
add("f1", "no_predicted_positives", y, np.zeros(500, dtype=np.int64))
add("f1", "all_predicted_positive", y, np.ones(500, dtype=np.int64))
add("f1", "perfect", y, y)
add("f1", "inverted", y, 1 - y)
y = (rng.random(2000) < 0.04).astype(np.int64)
add("f1", "imbalanced_4pct_positive", y, np.where(rng.random(2000) < 0.95, y, 1 - y))
y = rng.integers(0, 2, 1000)
add("f1", "weighted_bootstrap_1000", y, np.where(rng.random(1000) < 0.7, y, 1 - y), counts(rng, 1000))
# A single class: defined, and 0 by the zero_division rule when there is no positive at all.
add("f1", "single_class_negative_no_positives", np.zeros(20, dtype=np.int64), np.zeros(20, dtype=np.int64))
add("f1", "single_class_negative_false_positives", np.zeros(20, dtype=np.int64), (np.arange(20) % 5 == 0).astype(np.int64))
add("f1", "single_class_positive", np.ones(20, dtype=np.int64), (np.arange(20) % 3 != 0).astype(np.int64))
add("f1", "weighted_single_class_left", [0, 0, 1, 1], [0, 0, 1, 0], [3, 2, 0, 0])

# --- rmse / mae / r2 -----------------------------------------------------------------------------
rng = np.random.default_rng(20240605)
for metric in ("rmse", "mae", "r2"):
    for n in (10, 1000, 5000):
        y, pred = regression_problem(rng, n)
        add(metric, f"random_{n}", y, pred)
    y, pred = regression_problem(rng, 1000)
    add(metric, "full_precision_1000", y + rng.normal(0, 1e-3, 1000), pred + rng.normal(0, 1e-3, 1000))
    add(metric, "weighted_bootstrap_1000", y, pred, counts(rng, 1000))
    add(metric, "perfect", y[:50], y[:50])
    add(metric, "large_values", y[:300] * 1e6, pred[:300] * 1e6)
y, pred = regression_problem(rng, 1000)
add("r2", "negative_score", y, -pred)
add("r2", "negative_values", -np.abs(y), -np.abs(pred))
add("r2", "predicting_the_mean", y, np.full(1000, float(np.mean(y))))
add("r2", "constant_truth_perfect", [-2.0, -2.0, -2.0], [-2.0, -2.0, -2.0])
add("r2", "constant_truth_imperfect", [-2.0, -2.0, -2.0], [-2.0, -2.0, -2.0 + 1e-8])
add("r2", "two_rows", [1.0, 2.0], [1.5, 1.5])
add("rmse", "two_rows", [1.0, 2.0], [1.5, 1.5])
add("mae", "single_row", [1.0], [3.5])

# --- percentiles (numpy.percentile, method="linear") ------------------------------------------
rng = np.random.default_rng(20240606)
quantiles = [0.0, 2.5, 5.0, 25.0, 33.3, 50.0, 66.7, 95.0, 97.5, 99.9, 100.0]
percentiles = []
for name, values in (
    ("small_7", np.array([0.71, 0.69, 0.75, 0.7, 0.73, 0.69, 0.8])),
    ("single", np.array([0.5])),
    ("random_1000", rng.normal(0.8, 0.01, 1000)),
    ("random_997", rng.normal(0.8, 0.01, 997)),
):
    percentiles.append(
        {
            "name": name,
            "values": as_list(values),
            "q": quantiles,
            "expected": [float(np.percentile(values, q)) for q in quantiles],
        }
    )

# --- bootstrap (end to end) ---------------------------------------------------------------
# A re-implementation of Bootstrap.interval: xoshiro256** seeded by SplitMix64, Lemire's bounded
# draw, n draws per replicate turned into row counts, scored by scikit-learn with sample_weight=,
# replicates with one class skipped, numpy.percentile at 100(1-c)/2 and 100(1+c)/2.
MASK = (1 << 64) - 1


class Xoshiro256StarStar:
    def __init__(self, seed: int) -> None:
        x = seed & MASK
        state = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            state.append(z ^ (z >> 31))
        self.s = state

    def next(self) -> int:
        s0, s1, s2, s3 = self.s
        r = (s1 * 5) & MASK
        result = (((r << 7) | (r >> 57)) & MASK) * 9 & MASK
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


def bootstrap(metric: str, y_true, y_pred, samples: int, confidence: float, seed: int) -> dict:
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    n = len(y_true)
    generator = Xoshiro256StarStar(seed)
    scores = []
    for _ in range(samples):
        weights = np.zeros(n, dtype=np.int64)
        for _ in range(n):
            weights[generator.below(n)] += 1
        kept = weights > 0
        if metric in ("roc_auc", "log_loss") and len(np.unique(y_true[kept])) < 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores.append(float(METRICS[metric](y_true, y_pred, sample_weight=weights)))
    tail = (1 - confidence) / 2
    return {
        "metric": metric,
        "y_true": as_list(y_true),
        "y_pred": as_list(y_pred),
        "samples": samples,
        "confidence": confidence,
        "seed": seed,
        "expected_samples": len(scores),
        "expected_low": float(np.percentile(scores, 100 * tail)),
        "expected_high": float(np.percentile(scores, 100 * (1 - tail))),
    }


rng = np.random.default_rng(20240607)
bootstraps = []
y, p = binary_problem(rng, 150)
bootstraps.append(bootstrap("roc_auc", y, np.round(p, 2), samples=200, confidence=0.95, seed=42))
bootstraps.append(bootstrap("accuracy", y, (p > 0.5).astype(np.int64), samples=200, confidence=0.9, seed=7))
y, pred = regression_problem(rng, 120)
bootstraps.append(bootstrap("r2", y, pred, samples=150, confidence=0.8, seed=2**63 + 12345))
y = np.array([0, 1, 1, 1, 1, 1, 1, 1])
p = np.array([0.5, 0.1, 0.9, 0.3, 0.7, 0.6, 0.8, 0.2])
bootstraps.append(bootstrap("roc_auc", y, p, samples=100, confidence=0.95, seed=3))
y = np.array([1, 0, 0, 0, 0, 0, 1, 0, 0, 0])
bootstraps.append(bootstrap("f1", y, np.array([1, 0, 1, 0, 0, 0, 0, 0, 1, 0]), samples=100, confidence=0.9, seed=11))


# --- exact references ---------------------------------------------------------------------
def exact_r2(y_true, y_pred) -> float:
    """R² of the float64 inputs in rational arithmetic, rounded once."""
    ys = [Fraction(float(v)) for v in y_true]
    ps = [Fraction(float(v)) for v in y_pred]
    mean = sum(ys) / len(ys)
    ss_tot = sum((y - mean) ** 2 for y in ys)
    ss_res = sum((y - p) ** 2 for y, p in zip(ys, ps))
    return float(1 - ss_res / ss_tot)


rng = np.random.default_rng(20240608)
exact = []
for n, offset in ((1000, 1e14), (300, 1e12)):
    y = offset + rng.uniform(-0.5, 0.5, n)
    pred = y + rng.normal(0, 0.1, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = float(r2_score(y, pred))
    exact.append(
        {
            "metric": "r2",
            "name": f"offset_{offset:.0e}_plus_minus_half_{n}",
            "y_true": as_list(y),
            "y_pred": as_list(pred),
            "sklearn": reference,
            "exact": exact_r2(y, pred),
        }
    )

document = {
    "generator": "Tests/MLAgentEvalTests/Fixtures/make_fixtures.py",
    "sklearn_version": sklearn.__version__,
    "numpy_version": np.__version__,
    "python_version": platform.python_version(),
    "tolerance": 1e-9,
    "cases": cases,
    "percentiles": percentiles,
    "bootstraps": bootstraps,
    "exact": exact,
}
OUT.write_text(json.dumps(document, separators=(",", ":")) + "\n")
print(
    f"wrote {OUT} ({OUT.stat().st_size:,} bytes, {len(cases)} cases, "
    f"{len(percentiles)} percentile sets, {len(bootstraps)} bootstraps, {len(exact)} exact cases)"
)
