"""A county's standing in the programme, shown on every page about the county (pilot → applied → recognised →
re-checked). Apps above this one register a provider when they start; pages render the lines with the template tag
``{% county_status county %}`` (``organisation_tags``), so no page imports the apps that know the standing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from youjun.web.organisation.models import OrgUnit


@dataclass(frozen=True)
class StatusLine:
    """One fact of the county's standing: ``text`` (Chinese), a tone (``good``, ``warn``, ``bad`` or none), a link."""

    text: str
    tone: str = ""
    url: str = ""
    order: int = 0


Provider = Callable[[OrgUnit], list[StatusLine]]
PROVIDERS: list[Provider] = []


def register(provider: Provider) -> None:
    if provider not in PROVIDERS:
        PROVIDERS.append(provider)


def status_of(county: OrgUnit) -> list[StatusLine]:
    """Every registered provider's lines for the county, in their order."""
    lines = [line for provider in PROVIDERS for line in provider(county)]
    return sorted(lines, key=lambda line: line.order)
