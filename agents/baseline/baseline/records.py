"""One configuration as one recorded run: start it, fit, write the curves, save the MLflow model and
upload it, reload the saved model for every prediction the run reports, evaluate it once on the
public split, and end it with an analysis that judges each difference against the noise."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from .ctl import Ctl, CtlError
from .data import proba, write_predictions
from .families import Context, Family, Fit
from .models import load_model, save_run_model
from .settings import SEED, fmt, log


@dataclass
class Outcome:
    run_id: int
    config: dict[str, Any]
    status: str = "failed"
    error: str = ""
    public: float | None = None
    ci: tuple[float, float] | None = None
    holdout_auc: float = float("nan")
    train_auc: float = float("nan")
    peak_step: int = 0
    last_step: int = 0
    early_peak: bool = False
    step_name: str = "step"
    fit_seconds: float = 0.0
    model_dir: Path | None = None  # the MLflow model directory uploaded as the run's `model`
    public_preds: Path | None = None
    analysis: str = ""


@dataclass
class SearchState:
    is_auc: bool = True  # the daemon's metric is ROC AUC, so public and holdout scores compare
    stop_reason: str = ""
    noise: float = 0.0  # sd of a public score: from the daemon's 95% interval, else our bootstrap
    noise_auc: float = 0.0  # bootstrap sd of the holdout AUC resampled to the public split's size
    noise_hold: float = 0.0  # the same at the holdout's own size

    def public_vs_holdout(self) -> float:  # 2 sd of the difference of two independent estimates
        return 2 * float(np.hypot(self.noise_auc, self.noise_hold))


def bootstrap_sd(y: np.ndarray, p: np.ndarray, size: int, rounds: int = 200) -> float:
    rng, scores = np.random.default_rng(SEED), []
    for _ in range(rounds):
        idx = rng.integers(0, len(y), size)
        if 0 < y[idx].sum() < size:
            scores.append(roc_auc_score(y[idx], p[idx]))
    return float(np.std(scores))


def run_config(config: dict[str, Any], family: Family, ctx: Context, ctl: Ctl, state: SearchState,
               earlier: list[Outcome], direction: str) -> Outcome | None:
    d = ctx.data
    params = {k: v for k, v in config.items() if k not in ("name", "why")}
    params.update(train_rows=len(d.x_train), holdout_rows=len(d.x_hold), seed=SEED)
    rationale = config["why"] + "."
    if done := [o for o in earlier if o.status == "finished"]:
        top = max(done, key=lambda o: o.holdout_auc)
        rationale += (f" Best so far in this direction by holdout AUC: run {top.run_id} ({top.config['name']}, "
                      f"{top.holdout_auc:.4f}).")
    try:
        run_id = ctl.run_start(config["name"], rationale, params)
    except CtlError as error:
        log(f"run start {config['name']} refused: {error}")
        return None
    log(f"run {run_id} {config['name']}: {config['why']}")
    out, fit, started = Outcome(run_id, config), None, time.time()
    try:
        fit = family.fit(config, ctx)
        out.fit_seconds = time.time() - started
        metrics_file = Path(f"runs/run-{run_id}/metrics.jsonl")
        fit.curves.write(metrics_file)
        out.peak_step, out.last_step = fit.curves.peak()[0], fit.curves.series()[-1][0]
        out.step_name = fit.curves.step_name
        out.model_dir = save_run_model(fit.model, run_id, family.key, config, d, direction)
        model = load_model(out.model_dir)  # from here on, only the saved model is used
        p_hold = proba(model, d.x_hold)
        out.holdout_auc = fit.honest_holdout if fit.honest_holdout is not None else roc_auc_score(d.y_hold, p_hold)
        out.train_auc = roc_auc_score(d.curve_rows()[1], proba(model, d.curve_rows()[0]))
        if not state.noise_auc:
            state.noise_auc = bootstrap_sd(d.y_hold, p_hold, len(d.x_public))
            state.noise_hold = bootstrap_sd(d.y_hold, p_hold, len(d.y_hold))
        try:
            summary = {"holdout_auc": out.holdout_auc, "train_auc": out.train_auc, "fit_seconds": out.fit_seconds,
                       "best_step": out.peak_step, **fit.metrics}
            ctl.log_run(run_id, metrics_file, summary)
        except CtlError as error:
            log(f"run {run_id}: logging metrics failed, going on: {error}")
        ctl.artifact(run_id, out.model_dir)
        out.public_preds = write_predictions(proba(model, d.x_public), Path(f"preds/run-{run_id}-public.csv"))
        out.status = "finished"
        evaluate_public(out, ctl, state)
    except Exception as error:  # the run is still ended, as failed, with the error in its analysis
        out.status, out.error = "failed", f"{type(error).__name__}: {error}"
        out.fit_seconds = out.fit_seconds or time.time() - started
    out.analysis = analyse(out, fit, earlier, state, ctx.higher_is_better)
    try:
        ctl.run_end(run_id, out.analysis, failed=out.status == "failed")
    except CtlError as error:
        log(f"run {run_id}: run end refused: {error}")
    log(f"run {run_id} {out.status}: holdout {out.holdout_auc:.4f}, public {fmt(out.public)}, {out.fit_seconds:.1f} s"
        + (f" ({out.error})" if out.error else ""))
    return out


def evaluate_public(out: Outcome, ctl: Ctl, state: SearchState) -> None:
    """One public evaluation; a spent budget stops the search (the run itself stays finished)."""
    if state.stop_reason:
        out.error = f"not evaluated: {state.stop_reason}"
        return
    try:
        result = ctl.evaluate(out.run_id, out.public_preds)  # type: ignore[arg-type]
    except CtlError as error:
        if "budget" not in str(error).lower():
            raise
        state.stop_reason, out.error = "public evaluation budget spent", f"not evaluated: {error}"
        return
    out.public = float(result["score"])
    interval = result.get("interval") or {}
    low, high = interval.get("low", result.get("ci_low")), interval.get("high", result.get("ci_high"))
    out.ci = (float(low), float(high)) if low is not None and high is not None else None
    if not state.noise:
        state.noise = (out.ci[1] - out.ci[0]) / 3.92 if out.ci else state.noise_auc if state.is_auc else 0.0
    if result.get("public_evals_left") is not None and int(result["public_evals_left"]) <= 0:
        state.stop_reason = "public evaluation budget spent"


def analyse(out: Outcome, fit: Fit | None, earlier: list[Outcome], state: SearchState, hib: bool) -> str:
    if out.status == "failed" or fit is None:
        return f"Failed after {out.fit_seconds:.1f} s: {out.error}. No score; not a submission candidate."
    gap = out.train_auc - out.holdout_auc
    if fit.train_comparable:
        size = "large: far more capacity than generalises" if gap > 0.1 else "moderate" if gap > 0.04 else "small"
        parts = [f"Holdout AUC {out.holdout_auc:.4f}, train {out.train_auc:.4f} (gap {gap:+.3f}, {size})."]
    else:
        parts = [f"Holdout AUC {out.holdout_auc:.4f} (train AUC not comparable: the models were fitted elsewhere)."]
    (peak, peak_value), series, unit = fit.curves.peak(), fit.curves.series(), fit.curves.step_name
    last, last_value = series[-1]
    if len(series) > 1 and peak == last:
        parts.append(f"Validation AUC still rising at the last step ({unit} {last}, {last_value:.4f}): "
                     "going further could help.")
    elif len(series) > 1 and not fit.curves.progress:
        parts.append(f"Validation AUC best at {unit} {peak} ({peak_value:.4f}; {unit} {last}: {last_value:.4f}).")
    elif len(series) > 1:
        out.early_peak = peak_value - last_value > 0.003
        tail = "then fell: past the peak the model overfits" if out.early_peak else "then stayed flat"
        parts.append(f"Validation AUC peaked at {unit} {peak} of {last} ({peak_value:.4f}), {tail} "
                     f"(last {last_value:.4f}).")
    if out.public is not None:
        ci = f" (95% CI {out.ci[0]:.4f}-{out.ci[1]:.4f})" if out.ci else ""
        parts.append(f"Public {out.public:.4f}{ci}.")
        if state.is_auc:
            delta, limit = out.public - out.holdout_auc, state.public_vs_holdout()
            agree = "consistent with" if abs(delta) <= limit else "further than the sampling noise from"
            parts.append(f"That is {delta:+.4f} vs holdout: {agree} it (2 sd of the difference: {limit:.4f}).")
        if prior := [o for o in earlier if o.public is not None]:
            best = max(prior, key=lambda o: o.public if hib else -o.public)  # type: ignore[operator]
            diff = out.public - best.public  # type: ignore[operator]
            parts.append(f"Versus the best earlier run here, run {best.run_id} (public {best.public:.4f}): {diff:+.4f}"
                         + (" (within the noise)." if abs(diff) <= 2 * state.noise else "."))
    elif out.error:
        parts.append(out.error[0].upper() + out.error[1:] + ".")
    parts += [note + "." for note in fit.notes]
    return " ".join(parts + [f"Fit {out.fit_seconds:.1f} s."])
