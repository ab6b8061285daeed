from __future__ import annotations

from typing import Any

from django import template

from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.organisation.status import status_of

register = template.Library()


@register.inclusion_tag("youjun/organisation/_status.html")
def county_status(county: OrgUnit | None) -> dict[str, Any]:
    """The county's standing (pilot, applied, recognised, re-checked) as a line of badges."""
    if county is None or getattr(county, "level", None) != Level.COUNTY:
        return {"lines": []}
    return {"lines": status_of(county)}
