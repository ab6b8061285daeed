"""The published list of pilot counties and the library of typical experiences (no login)."""

from __future__ import annotations

from typing import Any

import polars as pl
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from youjun.io.workbook import Table
from youjun.web.exports import xlsx_response
from youjun.web.programme import selectors
from youjun.web.programme.catalogue import catalogue
from youjun.web.programme.models import (
    Experience,
    NominationStatus,
)
from youjun.web.programme.services import list_title

# ----------------------------------------------------------------------------------------------------
# The published list (public)


def _published() -> list[dict[str, Any]]:
    """The published lists, each batch only from its publication date on, counties by province."""
    out = []
    for b in selectors.published():
        confirmed = b.nominations.filter(status=NominationStatus.CONFIRMED).select_related("county__parent", "province")
        groups: dict[str, dict[str, Any]] = {}
        for n in confirmed.order_by("province__code", "county__code"):
            groups.setdefault(n.province.code, {"province": n.province, "counties": []})["counties"].append(n.county)
        total = sum(len(g["counties"]) for g in groups.values())
        out.append({"batch": b, "title": list_title(b), "provinces": list(groups.values()), "total": total})
    return out


def public_list(request: HttpRequest) -> HttpResponse:
    return render(request, "youjun/programme/public.html", {"published": _published()})


def public_export(request: HttpRequest) -> HttpResponse:
    rows = [
        {
            "batch": p["batch"].name,
            "published": p["batch"].published_on.isoformat() if p["batch"].published_on else "",
            "province": g["province"].name,
            "county": c.local_name,
            "code": c.code,
        }
        for p in _published()
        for g in p["provinces"]
        for c in g["counties"]
    ]
    frame = pl.DataFrame(rows, schema={k: pl.String for k in ("batch", "published", "province", "county", "code")})
    headers = {
        "batch": "批次",
        "published": "公布日期",
        "province": "省份",
        "county": "县（市、区）",
        "code": "行政区划代码",
    }
    table = Table("先行创建县名单", frame, headers, title="义务教育优质均衡先行创建县（市、区）名单")
    return xlsx_response([table], "先行创建县名单.xlsx", "pilot-counties.xlsx")


def experiences(request: HttpRequest) -> HttpResponse:
    """The library of typical experiences (典型经验) the ministry published, filterable by tackling item."""
    items = catalogue().by_code()
    chosen = request.GET.get("item", "")
    qs = Experience.objects.filter(published=True).select_related("county__parent")
    if chosen in items:
        qs = qs.filter(item=chosen)
    rows = [{"e": e, "item": items.get(e.item)} for e in qs[:200]]
    context = {"rows": rows, "groups": catalogue().groups, "chosen": chosen}
    return render(request, "youjun/programme/experiences.html", context)
