"""Filters of the pilot pages: ``{{ county|place }}`` names a county with its prefecture (芜湖市鸠江区);
``{{ rows|by_group }}`` sorts experience rows under the tackling list's group headings."""

from __future__ import annotations

from typing import Any

from django import template

from youjun.web.organisation.models import OrgUnit
from youjun.web.programme.catalogue import Group, catalogue
from youjun.web.programme.services.pilots import place_name

register = template.Library()


@register.filter
def place(unit: OrgUnit | None) -> str:
    return place_name(unit) if unit is not None else ""


@register.filter
def by_group(rows: list[dict[str, Any]]) -> list[tuple[Group | None, list[dict[str, Any]]]]:
    """Rows ``{"e": experience, "item": catalogue item or None}`` by group, in the notice's order of groups and
    items (whatever the query's order); rows whose item the catalogue no longer lists come last, under None."""
    order = {item.code: n for n, item in enumerate(catalogue().items)}
    out: list[tuple[Group | None, list[dict[str, Any]]]] = []
    for group in catalogue().groups:
        mine = [r for r in rows if r.get("item") is not None and r["item"].group == group.code]
        if mine:
            out.append((group, sorted(mine, key=lambda r: order.get(r["item"].code, 0))))
    others = [r for r in rows if r.get("item") is None or r["item"].code not in order]
    if others:
        out.append((None, others))
    return out
