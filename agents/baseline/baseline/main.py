"""The agent's whole flow, in its git worktree, talking to mlagentd only through `mlagentctl`:

  1. reads research_directions/*.md and mlruns/*/*/run.json (what earlier directions found);
  2. keeps the assigned direction, or picks and declares one that complements earlier work;
  3. runs a small hyperparameter search; every configuration is a run with per-step curves on a
     held-out slice of train.csv, a saved MLflow model, one public evaluation and an analysis;
  4. submits the best run once: the daemon replays its saved model on the private split;
  5. writes learnings.md and finishes the direction.

It exits non-zero only when it could not declare a direction or finish it."""

from __future__ import annotations

import os
import time
from pathlib import Path

from .choose import choose_direction
from .ctl import Ctl, CtlError
from .data import load_data
from .families import Context
from .knowledge import describe, read_directions, read_runs
from .learnings import write_learnings
from .records import SearchState
from .search import search
from .settings import Clock, Settings, log
from .submit import submit_best


def main() -> int:
    settings = Settings.from_env()
    if os.environ.get("MLAGENT_WORKTREE"):
        os.chdir(os.environ["MLAGENT_WORKTREE"])
    clock, root = Clock(settings.deadline), Path.cwd()
    ctl = Ctl(clock)
    log(f"job {settings.job_id} in {root}: {settings.deadline - time.time():.0f} s to the deadline, "
        f"scale {settings.scale}, metric {settings.metric}")
    runs = read_runs(root)
    directions = read_directions(root, runs, settings.higher_is_better)
    log(f"knowledge base: {len(directions)} directions, {len(runs)} runs. {describe(directions)}")
    chosen = choose_direction(settings, directions, ctl)
    if chosen is None:
        log("could not declare a direction; giving up")
        return 1
    direction, family = chosen
    outcomes, state, submitted, ctx, failure = [], SearchState(), None, None, ""
    try:
        data = load_data(settings.scale)
        ctx = Context(data, clock, settings.scale, runs, settings.higher_is_better, settings.metric)
        log(f"data: {len(ctx.data.x_train)} training rows, {len(ctx.data.x_hold)} holdout rows, "
            f"{len(ctx.data.features)} features")
        outcomes, state = search(family, ctx, ctl, direction)
        submitted = submit_best(outcomes, ctx.data, ctl, settings.higher_is_better, settings.submit)
        if submitted is None:
            log("no run qualifies for submission")
    except Exception as error:  # still write learnings and finish the direction
        failure = f"{type(error).__name__}: {error}"
        log(f"direction broke: {failure}")
    learnings = write_learnings(direction, family, outcomes, state, submitted, directions, ctx, failure)
    try:
        ctl.finish(learnings)
    except CtlError as error:
        log(f"direction finish refused: {error}")
        return 1
    log(f"finished {direction} in {time.time() - clock.started:.0f} s")
    return 0
