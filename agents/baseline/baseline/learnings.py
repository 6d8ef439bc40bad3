"""learnings.md: what worked, what did not, surprises, what to try next and references; every
claim cites run ids as evidence and every difference is judged against the bootstrap noise. The
submitted run's private score stands beside how it was obtained (replayed by the daemon or not)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import sklearn

from .families import Context, Family
from .knowledge import PastDirection, describe
from .records import Outcome, SearchState
from .settings import fmt
from .submit import submission_summary


def write_learnings(direction: str, family: Family, outcomes: list[Outcome], state: SearchState,
                    submitted: tuple[Outcome, dict[str, Any]] | None, directions: list[PastDirection],
                    ctx: Context | None, failure: str) -> Path:
    noise, hib = state.noise, ctx.higher_is_better if ctx else True
    done = [o for o in outcomes if o.status == "finished" and o.public is not None]
    failed = [o for o in outcomes if o.status == "failed"]

    def score(o: Outcome) -> float:
        return o.public if hib else -o.public  # type: ignore[operator,return-value]

    def name(o: Outcome) -> str:
        return f"`{o.config['name']}` (run {o.run_id})"

    best = max(done, key=score, default=None)
    worked, didnt, surprises, nexts = [], [], [], []
    if best:
        worked.append(f"{name(best)} scored best: public {best.public:.4f}, holdout {best.holdout_auc:.4f}; "
                      f"{best.config['why']}.")
        earlier = [d for d in directions if d.public is not None]
        if top := max(earlier, key=lambda d: d.public if hib else -d.public, default=None):  # type: ignore[operator]
            diff = score(best) - (top.public if hib else -top.public)  # type: ignore[operator]
            verdict = "beat" if diff > 2 * noise else "trailed" if diff < -2 * noise else "matched (within the noise)"
            (didnt if verdict == "trailed" else worked).append(
                f"This direction {verdict} the best earlier direction, {top.name} (run {top.best_run}, "
                f"public {top.public:.4f}): {diff:+.4f}.")
        first = min(done, key=lambda o: o.run_id)
        for o in sorted(done, key=score, reverse=True):
            if o is not first and score(o) - score(first) > 2 * noise:
                worked.append(f"{name(o)} beat the first configuration {name(first)} by "
                              f"{score(o) - score(first):.4f}, more than twice the noise sd ({noise:.4f}).")
        for o in done:
            if o is best:
                continue
            if score(best) - score(o) > 2 * noise:
                gap = o.train_auc - o.holdout_auc
                why = f" (train {o.train_auc:.4f} vs holdout {o.holdout_auc:.4f})" if gap > 0.1 else ""
                didnt.append(f"{name(o)} trailed {name(best)} by {score(best) - score(o):.4f}{why}.")
            else:
                worked.append(f"{name(o)} was within the noise of the best: public {o.public:.4f}.")
    else:
        didnt.append("No run produced a scored model" + (f": {failure}" if failure else "."))
    didnt += [f"{name(o)} failed: {o.error}" for o in failed]
    if state.stop_reason:
        didnt.append(f"The search stopped early: {state.stop_reason}.")
    if submitted:
        surprises += [f"The daemon could not replay run {run}'s saved model; nothing was spent on it: `{message}`."
                      for run, message in submitted[1].get("unreplayed", [])]
    if submitted and "error" in submitted[1]:
        surprises.append(f"The submission of run {submitted[0].run_id} was refused: {submitted[1]['error']}")
    elif submitted:
        out, result = submitted
        public = result.get("public_score", out.public)
        gap = result.get("gap", (public or 0) - (result.get("score") or 0))
        limit = 2 * np.sqrt(2) * noise  # two independent splits of the same size
        surprises.append(
            f"Public/private gap of the submitted run {out.run_id}: public {fmt(public)}, private "
            f"{fmt(result.get('score'))} ({submission_summary(result)}), gap {gap:+.4f} (positive: private is worse), "
            f"{'within' if abs(gap) <= limit else 'beyond'} the sampling noise of two splits (2 sd = {limit:.4f})"
            + ("; the daemon flagged it as overfit." if result.get("overfit") else "."))
    for o in done:
        if state.is_auc and abs(o.public - o.holdout_auc) > state.public_vs_holdout():  # type: ignore[operator]
            surprises.append(f"{name(o)}: public {o.public:.4f} vs holdout {o.holdout_auc:.4f}, "
                             "further apart than the noise.")
        if o.early_peak:
            surprises.append(f"{name(o)} peaked early on its validation curve (step {o.peak_step} of {o.last_step}).")
    if best and len(done) > 1:
        by_holdout = max(done, key=lambda o: o.holdout_auc)
        if by_holdout is not best and abs(score(by_holdout) - score(best)) > 2 * noise:
            surprises.append(f"The holdout favoured {name(by_holdout)}, the public split {name(best)}.")
        else:
            surprises.append("Holdout and public split agree on the best configuration within the noise.")
    if best and best.peak_step == best.last_step and best.last_step > 1:
        nexts.append(f"{name(best)} was still improving at its last step ({best.step_name} {best.last_step}): "
                     "go further along that axis.")
    nexts += [idea[0].upper() + idea[1:] + "." for idea in family.next_ideas]
    if family.key != "blend-top-models" and best:
        nexts.append(f"Blend run {best.run_id} with the best runs of other directions: other families err differently.")
    refs = [f"Earlier directions read before starting: {describe(directions) or 'none (this was the first)'}."]
    if ctx and ctx.bases:
        inputs = ", ".join(f"{n} run {r.id} (public {fmt(r.public)})" for n, r, _ in ctx.bases)
        refs.append(f"Blend inputs: {inputs}.")
    refs.append(f"Noise: sd of a public score {noise:.4f} (from the daemon's 95% intervals); sd of the holdout AUC "
                f"over 200 bootstrap resamples {state.noise_auc:.4f} at the public split's size, "
                f"{state.noise_hold:.4f} at the holdout's.")
    refs.append(f"scikit-learn {sklearn.__version__} user guide: https://scikit-learn.org/stable/user_guide.html")
    sections = {"What worked": worked or ["Nothing measurable."],
                "What did not": didnt or ["Every configuration landed within the noise of the best."],
                "Surprises": surprises or ["None: holdout and public scores agreed within the noise."],
                "What to try next": nexts, "References": refs}
    label = direction if direction == family.key else f"{direction} ({family.key})"
    path = Path("learnings.md")
    path.write_text(f"Direction `{label}`: {len(outcomes)} runs, {len(failed)} failed.\n\n" + "\n".join(
        f"### {title}\n\n" + "".join(f"- {item}\n" for item in items) for title, items in sections.items()))
    return path
