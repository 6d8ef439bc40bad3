"""Generate mlagent's default dataset: a synthetic binary classification task scored by ROC AUC.

Run from the repository root:

    .venv/bin/python data/make_dataset.py            # writes data/*.csv, prints baseline scores
    .venv/bin/python data/make_dataset.py --out DIR  # write somewhere else

Output (in data/ unless --out says otherwise):

    train.csv            20,000 rows: f00..f29 and target
    val_public_X.csv      5,000 rows: f00..f29         val_public_y.csv   target
    val_private_X.csv     5,000 rows: f00..f29         val_private_y.csv  target

The generation is deterministic: a fixed seed, and values rounded to 4 decimals, so running the
script twice gives byte-identical files. The task is shaped like the original auto_ml_agent
data (30 standardised numeric features, a roughly balanced binary target): a linear model gets a
fair score, tree ensembles and feature engineering measurably better, and label noise keeps every
model well away from a perfect score.

How a label is drawn:
  1. `make_classification` gives correlated features (10 informative, 6 redundant linear
     combinations, 14 noise) and a base label from Gaussian clusters, 3 per class, so the base
     label is not linearly separable.
  2. A latent logit adds to the base label a dense linear direction over the standardised
     features, smooth non-linear terms (pairwise products, a sine, an absolute value, a gated
     slope, a saturated product) and axis-aligned threshold interactions ("f10 > 0.3 and
     f11 < 0.2"), which trees find easily and linear models only with the right features.
  3. The label is a Bernoulli draw from sigmoid(logit); then 5% of the labels are flipped.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 20241127
N_FEATURES = 30
N_TRAIN, N_PUBLIC, N_PRIVATE = 20_000, 5_000, 5_000
FEATURES = [f"f{i:02d}" for i in range(N_FEATURES)]
DECIMALS = 4

# Strength of each part of the latent logit (tuned so that logistic regression on the raw
# features reaches about 0.75 ROC AUC, with engineered features about 0.80, and gradient
# boosting 0.81-0.82).
BASE_WEIGHT = 1.2  # the make_classification cluster label
LINEAR_WEIGHT = 1.8  # a dense linear direction
SMOOTH_WEIGHT = 0.8  # smooth interactions and non-monotone terms
THRESHOLD_WEIGHT = 1.5  # axis-aligned AND-gates of two features
INTERCEPT = -0.3  # a slightly imbalanced target (about 47% positives)
LABEL_NOISE = 0.05  # fraction of labels flipped at the end


def generate() -> tuple[np.ndarray, np.ndarray]:
    """Return standardised features (n, 30) and binary labels (n,) for all splits together."""
    n = N_TRAIN + N_PUBLIC + N_PRIVATE
    x, base = make_classification(
        n_samples=n,
        n_features=N_FEATURES,
        n_informative=10,
        n_redundant=6,
        n_repeated=0,
        n_classes=2,
        n_clusters_per_class=3,
        class_sep=1.0,
        flip_y=0.0,
        shuffle=True,
        random_state=SEED,
    )
    rng = np.random.default_rng(SEED)
    # Standardise with the statistics of the training rows only, as a real pipeline would.
    x = StandardScaler().fit(x[:N_TRAIN]).transform(x)

    weights = rng.normal(size=N_FEATURES) * (rng.random(N_FEATURES) < 0.6)
    linear = x @ (weights / np.linalg.norm(weights))
    smooth = (
        1.0 * x[:, 0] * x[:, 1]
        + 0.8 * np.sin(2.0 * x[:, 2])
        + 0.7 * (np.abs(x[:, 3]) - 0.8)
        - 0.6 * (x[:, 4] > 0.5) * x[:, 5]
        + 0.5 * np.tanh(x[:, 6] * x[:, 7])
        + 0.4 * x[:, 8] * x[:, 9]
    )
    thresholds = (
        1.2 * ((x[:, 10] > 0.3) & (x[:, 11] < 0.2))
        + 1.0 * ((x[:, 12] > -0.5) & (x[:, 13] > 0.5))
        - 0.8 * ((x[:, 14] < 0.0) & (x[:, 15] > 0.4))
        - 0.3
    )
    logit = (BASE_WEIGHT * (2 * base - 1) + LINEAR_WEIGHT * linear + SMOOTH_WEIGHT * smooth
             + THRESHOLD_WEIGHT * thresholds + INTERCEPT)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    flip = rng.random(n) < LABEL_NOISE
    y[flip] = 1 - y[flip]
    # Round (and turn -0.0 into 0.0) so the CSV text is short and stable.
    return np.round(x, DECIMALS) + 0.0, y


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    frame.to_csv(path, index=False, float_format=f"%.{DECIMALS}f", lineterminator="\n")


def write_splits(x: np.ndarray, y: np.ndarray, out: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out.mkdir(parents=True, exist_ok=True)
    bounds = {
        "train": (0, N_TRAIN),
        "val_public": (N_TRAIN, N_TRAIN + N_PUBLIC),
        "val_private": (N_TRAIN + N_PUBLIC, N_TRAIN + N_PUBLIC + N_PRIVATE),
    }
    splits = {name: (x[lo:hi], y[lo:hi]) for name, (lo, hi) in bounds.items()}
    x_train, y_train = splits["train"]
    train = pd.DataFrame(x_train, columns=FEATURES)
    train["target"] = y_train
    write_csv(train, out / "train.csv")
    for name in ("val_public", "val_private"):
        xs, ys = splits[name]
        write_csv(pd.DataFrame(xs, columns=FEATURES), out / f"{name}_X.csv")
        write_csv(pd.DataFrame({"target": ys}), out / f"{name}_y.csv")
    return splits


def baselines(splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Fit two reference models on train and print their public and private ROC AUC."""
    x_train, y_train = splits["train"]
    models = {
        "logistic regression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        "hist gradient boosting": HistGradientBoostingClassifier(random_state=0),
    }
    for label, model in models.items():
        started = time.perf_counter()
        model.fit(x_train, y_train)
        scores = {
            name: roc_auc_score(splits[name][1], model.predict_proba(splits[name][0])[:, 1])
            for name in ("val_public", "val_private")
        }
        print(
            f"baseline {label:<24} public {scores['val_public']:.4f}  "
            f"private {scores['val_private']:.4f}  ({time.perf_counter() - started:.1f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--no-baselines", action="store_true", help="only write the files")
    args = parser.parse_args()

    x, y = generate()
    splits = write_splits(x, y, args.out)
    total = 0
    for name in ("train.csv", "val_public_X.csv", "val_public_y.csv", "val_private_X.csv", "val_private_y.csv"):
        size = (args.out / name).stat().st_size
        total += size
        print(f"wrote {args.out / name} ({size / 1e6:.2f} MB)")
    print(f"total {total / 1e6:.2f} MB; positive rate: " + ", ".join(
        f"{name} {ys.mean():.3f}" for name, (_, ys) in splits.items()))
    if not args.no_baselines:
        baselines(splits)


if __name__ == "__main__":
    main()
