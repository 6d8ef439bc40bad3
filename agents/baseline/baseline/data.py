"""The data: train.csv split into the training rows and a holdout slice (the same for every baseline
agent), the two validation splits' features, the predictions CSVs the agent writes, and the
per-step curves every fit records."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

from .settings import HOLDOUT_FRACTION, SEED, TRAIN_CURVE_ROWS


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


def load_data(scale: float, folder: Path = Path("data"), validation: bool = True) -> Data:
    """train.csv split 80/20 (stratified, seed 7), scaled; the validation features unless `validation` is False."""
    train = pd.read_csv(folder / "train.csv")
    features = [c for c in train.columns if c != "target"]  # the order of train.csv, everywhere
    x_train, x_hold, y_train, y_hold = train_test_split(
        train[features], train["target"].to_numpy(), test_size=HOLDOUT_FRACTION, stratify=train["target"],
        random_state=SEED)
    n_train, n_hold = max(500, int(len(x_train) * scale)), max(300, int(len(x_hold) * scale))

    def split(name: str) -> pd.DataFrame:
        return pd.read_csv(folder / name)[features] if validation else pd.DataFrame(columns=features)

    return Data(features, x_train.iloc[:n_train], y_train[:n_train], x_hold.iloc[:n_hold], y_hold[:n_hold],
                split("val_public_X.csv"), split("val_private_X.csv"))


def proba(model: Any, x: Any) -> np.ndarray:
    return model.predict_proba(x)[:, 1]


def write_predictions(values: np.ndarray, path: Path) -> Path:
    """One `prediction` column; 8 decimals keep the daemon's 1e-6 replay comparison exact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"prediction": values}).to_csv(path, index=False, float_format="%.8f", lineterminator="\n")
    return path


def read_predictions(path: Path) -> np.ndarray:
    return pd.read_csv(path)["prediction"].to_numpy()


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
