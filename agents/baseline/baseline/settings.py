"""Settings: the environment the daemon hands the agent, the constants every module shares,
process-wide library settings, the clock that keeps the search inside the deadline, and the log."""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass

import sklearn
from sklearn.exceptions import ConvergenceWarning

SEED = 7  # shared by every baseline agent: the same holdout slice, so blends of their models stay honest
HOLDOUT_FRACTION = 0.2
TRAIN_CURVE_ROWS = 3000  # training rows scored for the train_* curves
sklearn.set_config(working_memory=128)
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def log(message: str) -> None:
    print(f"[baseline {time.strftime('%H:%M:%S')}] {message}", flush=True)


def fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


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
    submit: str  # "replay" (the daemon replays the saved model) or "predictions" (the agent's private CSV)

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
            submit="predictions" if os.environ.get("MLAGENT_SUBMIT", "").strip() == "predictions" else "replay",
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
