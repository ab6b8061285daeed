"""Writes of the organisation app: the national hierarchy from the shipped data file."""

from __future__ import annotations

import csv
from pathlib import Path

from django.db import transaction

from youjun.web.organisation.models import MINISTRY_CODE, PREFIX_LENGTH, Level, OrgUnit

DIVISIONS = Path(__file__).with_name("data") / "divisions.csv"


@transaction.atomic
def load_divisions(path: Path = DIVISIONS) -> dict[str, int]:
    """Create or update the ministry and every province, prefecture and county of the data file (idempotent)."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ministry, _ = OrgUnit.objects.update_or_create(
        code=MINISTRY_CODE, defaults={"name": "教育部", "level": Level.MINISTRY, "parent": None, "prefix": ""}
    )
    names = {r["code"]: r["name"] for r in rows}
    existing = {u.code: u for u in OrgUnit.objects.all()}
    counts = {level: 0 for level in ("province", "prefecture", "county")}
    for level in ("province", "prefecture", "county"):
        new, changed = [], []
        for r in (r for r in rows if r["level"] == level):
            parent = existing[r["parent_code"]] if r["parent_code"] else ministry
            province = names.get(r.get("province_code") or "", "") if level != "province" else ""
            fields = {"name": r["name"], "level": level, "parent": parent, "province_name": province}
            unit = existing.get(r["code"])
            if unit is None:
                unit = OrgUnit(code=r["code"], prefix=r["code"][: PREFIX_LENGTH[Level(level)]], **fields)
                new.append(unit)
            elif any(getattr(unit, k) != v for k, v in fields.items()):
                for k, v in fields.items():
                    setattr(unit, k, v)
                changed.append(unit)
            counts[level] += 1
        OrgUnit.objects.bulk_create(new, batch_size=1000)
        OrgUnit.objects.bulk_update(changed, ["name", "level", "parent", "province_name"], batch_size=1000)
        existing.update({u.code: u for u in OrgUnit.objects.filter(level=level)})
    return counts
