"""The knowledge base: what earlier directions found, read from the worktree's copy of main.

research_directions/<name>.md gives each direction's name, status and (as a fallback) its best
scores; mlruns/<direction>/<run>/run.json gives every run's status and scores, and
mlruns/<direction>/<run>/artifacts/model/ its saved model: an MLflow model directory (an
`MLmodel` file) or, for runs saved before the MLflow contract, a `*.joblib` file."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .settings import fmt, log

MLMODEL = "MLmodel"  # the file that makes a directory an MLflow model


@dataclass
class PastRun:
    id: int
    direction: str
    status: str
    public: float | None
    private: float | None
    model_path: Path | None  # an MLflow model directory, or a legacy .joblib file


@dataclass
class PastDirection:
    name: str
    status: str
    best_run: int | None = None
    public: float | None = None
    private: float | None = None
    has_model: bool = False


def saved_model(folder: Path) -> Path | None:
    """The model a run uploaded as `model`: the folder itself when it holds an MLmodel, else its first .joblib."""
    if (folder / MLMODEL).is_file():
        return folder
    legacy = sorted(folder.glob("*.joblib"))
    return legacy[0] if legacy else None


def read_runs(root: Path) -> list[PastRun]:
    runs = []
    for path in sorted(root.glob("mlruns/*/*/run.json")):
        try:
            record = json.loads(path.read_text())
            public = record.get("public_score", record.get("metrics", {}).get("public_val_score"))
            private = record.get("private_score")
            runs.append(PastRun(
                int(record.get("id", path.parent.name)), str(record.get("direction", path.parent.parent.name)),
                str(record.get("status", "")), None if public is None else float(public),
                None if private is None else float(private), saved_model(path.parent / "artifacts" / "model")))
        except (ValueError, TypeError, OSError) as error:
            log(f"skipping unreadable {path}: {error}")
    return runs


def read_directions(root: Path, runs: list[PastRun], higher_is_better: bool) -> list[PastDirection]:
    """Directions from research_directions/*.md; scores from their run records, else from the Results text."""
    directions = []
    for path in sorted(root.glob("research_directions/*.md")):
        if path.name.lower() == "readme.md":
            continue
        text = path.read_text(errors="replace")
        status = re.search(r"^-\s*Status:\s*(\S+)", text, re.MULTILINE)
        d = PastDirection(path.stem, status.group(1) if status else "unknown")
        scored = [r for r in runs if r.direction == d.name and r.public is not None and r.status != "failed"]
        if scored:
            best = max(scored, key=lambda r: r.public if higher_is_better else -r.public)  # type: ignore[operator]
            d.best_run, d.public, d.has_model = best.id, best.public, best.model_path is not None
            d.private = next((r.private for r in runs if r.direction == d.name and r.private is not None), None)
        elif match := re.search(r"Best run:\s*(\d+).*?public\s+([0-9.]+)", text):
            d.best_run, d.public = int(match.group(1)), float(match.group(2))
            private = re.search(r"Submitted run:.*?private\s+([0-9.]+)", text)
            d.private = float(private.group(1)) if private else None
        directions.append(d)
    return directions


def describe(directions: list[PastDirection]) -> str:
    def one(d: PastDirection) -> str:
        if d.best_run is None:
            return f"{d.name} ({d.status})"
        return f"{d.name} ({d.status}, best run {d.best_run}: public {fmt(d.public)}, private {fmt(d.private)})"

    return "; ".join(one(d) for d in directions)
