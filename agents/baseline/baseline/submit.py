"""Submitting once: the best finished run by public score (ties: holdout AUC) whose saved model,
reloaded from disk, reproduces the public predictions it was evaluated with.

By default the submission carries no predictions: `mlagentctl submit RUN` makes the daemon replay
the saved model itself, score the private split and check the replayed public predictions
against the evaluated ones. A model the daemon cannot replay costs nothing, so the next candidate
is tried; any other refusal is reported and the agent does not try again. With
MLAGENT_SUBMIT=predictions the agent predicts the private split itself and hands in the CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .ctl import Ctl, CtlError
from .data import Data, proba, read_predictions, write_predictions
from .models import load_model
from .records import Outcome
from .settings import fmt, log

TOLERANCE = 1e-6  # the daemon's, too: replayed and evaluated public predictions within it are the same
UNREPLAYABLE = "could not be replayed"  # the daemon's refusal when the scorer cannot load or run the model


def submit_best(outcomes: list[Outcome], data: Data, ctl: Ctl, hib: bool,
                mode: str = "replay") -> tuple[Outcome, dict[str, Any]] | None:
    candidates = [o for o in outcomes if o.status == "finished" and o.public is not None and o.model_dir]
    candidates.sort(key=lambda o: (o.public if hib else -o.public, o.holdout_auc), reverse=True)
    unreplayed: list[tuple[int, str]] = []  # (run, the daemon's message) for each model it could not replay
    last_unreplayed: Outcome | None = None
    for out in candidates:
        model = load_model(out.model_dir)  # type: ignore[arg-type]  # the uploaded directory; never retrained
        evaluated = read_predictions(out.public_preds)  # type: ignore[arg-type]
        again = proba(model, data.x_public)
        if len(evaluated) != len(again) or np.max(np.abs(evaluated - again)) > TOLERANCE:
            log(f"run {out.run_id}: the reloaded model does not reproduce its evaluated predictions; not submitted")
            continue
        private = proba(model, data.x_private)
        if len(private) != len(data.x_private) or not np.all((private >= 0) & (private <= 1)):  # NaN fails too
            log(f"run {out.run_id}: malformed private predictions; not submitting it")
            continue
        path, how = None, " for the daemon to replay"
        if mode == "predictions":  # the opt-in fallback: hand in the agent's own private predictions
            path = write_predictions(private, Path(f"preds/run-{out.run_id}-private.csv"))
            how = ", with its private predictions (MLAGENT_SUBMIT=predictions)"
        log(f"submitting run {out.run_id} (public {out.public:.4f}){how}; "
            "its saved model reproduced its public predictions")
        try:  # exactly once: a refused submission is reported, never retried with another run
            result = ctl.submit(out.run_id, path)
        except CtlError as error:
            if path is None and UNREPLAYABLE in error.detail:  # nothing was scored or spent
                log(f"run {out.run_id} not submitted: {error}; trying the next candidate")
                reason = str(error).split(" Nothing was scored")[0].rstrip(".")  # the daemon's reason, not its advice
                unreplayed.append((out.run_id, reason))
                last_unreplayed = out
                continue
            log(f"submit refused: {error}")
            return out, {"error": str(error), "unreplayed": unreplayed}
        gap = result.get("gap")
        log(f"private {fmt(result.get('score'))}, gap {'n/a' if gap is None else f'{gap:+.4f}'}, "
            f"overfit {result.get('overfit')}; {submission_summary(result, timing=True)}")
        return out, dict(result, unreplayed=unreplayed)
    if last_unreplayed:
        log("no candidate's saved model could be replayed by the daemon; nothing was submitted")
        error = "the daemon could not replay the saved model of any candidate"
        return last_unreplayed, {"error": error, "unreplayed": unreplayed}
    return None


def submission_summary(result: dict[str, Any], timing: bool = False) -> str:
    """How the private score was obtained, for the log (`timing`: with the replay's seconds) and learnings.md."""
    sub = result.get("submission") or {}
    outcome, replayed, reported = sub.get("outcome"), sub.get("replayed_public_score"), sub.get("reported_public_score")
    scores = replayed is not None and reported is not None
    detail = "" if sub.get("max_abs_difference") is None else f", max |difference| {sub['max_abs_difference']:.1g}"
    if timing and sub.get("seconds") is not None:
        detail += f", replay {sub['seconds']:.1f} s"
    if outcome == "reproduced":
        scores_text = f": public {replayed:.5f} replayed = reported" if scores else ""
        return f"reproduced by the daemon's replay{scores_text}{detail}"
    if outcome == "mismatch":
        scores_text = f": public {replayed:.5f} replayed vs {reported:.5f} reported" if scores else ""
        return f"NOT reproduced by the daemon's replay{scores_text}{detail}; the private score is the replayed model's"
    if outcome == "agent-predicted":
        return "predicted by the agent, not replayed by the daemon: MLAGENT_SUBMIT=predictions"
    return f"submission outcome {outcome or 'not reported'}"
