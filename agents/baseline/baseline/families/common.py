"""What every experiment family shares: the Context a fit reads, the Fit it returns, and the two
helpers its configuration lists are written with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..data import Curves, Data
from ..knowledge import PastRun
from ..settings import Clock


@dataclass
class Fit:
    model: Any
    curves: Curves
    notes: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    honest_holdout: float | None = None  # when the model learnt something from the holdout slice itself
    train_comparable: bool = True  # False when the train rows are not what the model was fitted on


@dataclass
class Context:
    data: Data
    clock: Clock
    scale: float
    runs: list[PastRun]
    higher_is_better: bool
    metric: str = "roc_auc"
    bases: list[tuple[str, PastRun, Any]] | None = None  # blend inputs, loaded once


def sized(n: int, scale: float, low: int) -> int:
    return max(low, int(round(n * scale)))


def cfg(name: str, why: str, **params: Any) -> dict[str, Any]:
    return {"name": name, "why": why, **params}
