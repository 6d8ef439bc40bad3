"""Choosing the direction: keep the one the operator assigned, or take the first family in the
order of preference that no direction (on main or declared by a concurrent agent) uses yet, and
declare it with a rationale that cites the earlier directions and their scores."""

from __future__ import annotations

import re

from .ctl import Ctl, CtlError
from .families import FAMILIES, PREFERENCE, Family, family_for
from .knowledge import PastDirection, describe
from .settings import Settings, log


def blend_ready(directions: list[PastDirection]) -> bool:
    return sum(1 for d in directions if d.status == "completed" and d.has_model) >= 2


def declare_rationale(family: Family, directions: list[PastDirection], hib: bool) -> str:
    if not directions:
        return f"{family.pitch} No direction exists yet in research_directions/, so this one starts the record."
    scored = [d for d in directions if d.public is not None]
    best = max(scored, key=lambda d: d.public if hib else -d.public, default=None)  # type: ignore[operator]
    lead = f" The best so far is {best.name} (run {best.best_run}, public {best.public:.4f})." if best else ""
    if family.key == "blend-top-models":
        adds = "It trains no new family: it combines their saved models, the best run of each direction."
    else:
        adds = f"None of them is a {family.key} model, so this adds a different inductive bias."
    return f"{family.pitch} Earlier directions: {describe(directions)}.{lead} {adds}"


def choose_direction(settings: Settings, directions: list[PastDirection], ctl: Ctl) -> tuple[str, Family] | None:
    forced = (FAMILIES.get(settings.family) or family_for(settings.family)) if settings.family else None
    used = {d.name for d in directions}
    if settings.direction:  # assigned by the operator: keep it, no declaration
        family = forced or family_for(settings.direction) or next(
            (FAMILIES[k] for k in PREFERENCE if k not in used), FAMILIES[PREFERENCE[0]])
        log(f"assigned direction {settings.direction}: family {family.key}")
        return settings.direction, family
    try:  # concurrent agents may have declared names that research_directions/ does not show yet
        used |= {str(d.get("name")) for d in ctl.directions()}
    except CtlError as error:
        log(f"direction list failed, relying on research_directions/: {error}")
    keys = [forced.key] if forced else [k for k in PREFERENCE if k != "blend-top-models" or blend_ready(directions)]
    refusals = 0
    for name, key in ((key + suffix, key) for suffix in ("", "-2", "-3", "-4", "-5") for key in keys):
        if name in used:
            continue
        try:
            ctl.declare(name, declare_rationale(FAMILIES[key], directions, settings.higher_is_better))
            log(f"declared direction {name}")
            return name, FAMILIES[key]
        except CtlError as error:
            log(f"declare {name} refused: {error}")
            refusals += 1
            name_taken = name in str(error) or re.search(r"conflict|used|exists|taken", str(error), re.IGNORECASE)
            if error.code != 1 or not name_taken or refusals >= 8:
                return None
    return None
