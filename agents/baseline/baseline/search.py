"""The search: a direction's configurations run one after another (fewer when the scale is small),
plus the family's follow-up chosen on the holdout; it stops when the deadline leaves no room for
another run, when the public evaluation budget is spent, or after three refused run starts."""

from __future__ import annotations

import time

from .ctl import Ctl
from .families import Context, Family
from .records import Outcome, SearchState, run_config
from .settings import log


def search(family: Family, ctx: Context, ctl: Ctl, direction: str) -> tuple[list[Outcome], SearchState]:
    configs = family.configs(ctx.scale)
    queue = configs[: min(len(configs), 2 + round(3 * ctx.scale))]
    log(f"search: {len(queue)} configurations{' + a follow-up' if family.follow_up else ''}, "
        f"{ctx.clock.left():.0f} s before the submit reserve")
    outcomes: list[Outcome] = []
    state, durations, followed, refused = SearchState(is_auc=ctx.metric == "roc_auc"), [], False, 0
    while True:
        if not queue and family.follow_up and not followed:
            followed = True
            done = [o for o in outcomes if o.status == "finished"]
            best = max(done, key=lambda o: o.holdout_auc, default=None)  # chosen by holdout, not by public score
            if best and (extra := family.follow_up(best)):
                queue.append(extra)
        if not queue or state.stop_reason:
            break
        estimate = 1.3 * max(durations) if durations else 10.0
        if ctx.clock.left() < estimate:
            state.stop_reason = f"deadline near ({ctx.clock.left():.0f} s left, a run needs ~{estimate:.0f} s)"
            break
        started = time.time()
        outcome = run_config(queue.pop(0), family, ctx, ctl, state, outcomes, direction)
        if outcome is None:
            refused += 1
            if refused >= 3:
                state.stop_reason = "three run starts refused"
            continue
        durations.append(time.time() - started)
        outcomes.append(outcome)
    if state.stop_reason:
        log(f"search stopped: {state.stop_reason}")
    return outcomes, state
