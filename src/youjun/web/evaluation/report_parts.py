"""Parts of the self-evaluation report that apps above the evaluation provide: the planner's plan a pilot county
adopted into its implementation plan (registered by the programme app), printed as the chapter 达标规划方案."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from youjun.web.organisation.models import OrgUnit

PlanProvider = Callable[[OrgUnit, int], Mapping[str, Any] | None]
_PLAN_PROVIDERS: list[PlanProvider] = []


def register_plan(provider: PlanProvider) -> None:
    if provider not in _PLAN_PROVIDERS:
        _PLAN_PROVIDERS.append(provider)


def adopted_plan(county: OrgUnit, year: int) -> Mapping[str, Any] | None:
    """The plan the county adopted, for its report of ``year``; None when there is none."""
    for provider in _PLAN_PROVIDERS:
        found = provider(county, year)
        if found:
            return found
    return None
