"""The shipped national hierarchy ``src/youjun/web/organisation/data/divisions.csv`` (see its README)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

CSV = Path(__file__).resolve().parents[1] / "src" / "youjun" / "web" / "organisation" / "data" / "divisions.csv"
HEADER = ["code", "name", "level", "parent_code", "province_code"]
PARENT_LEVEL = {"prefecture": "province", "county": "prefecture"}
PREFIX = {"province": 2, "prefecture": 4}
PROVINCE_PREFIXES = {
    *("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37"),
    *("41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65"),
}


@pytest.fixture(scope="module")
def divisions() -> pl.DataFrame:
    return pl.read_csv(CSV, infer_schema=False, encoding="utf8").with_columns(pl.col("parent_code").fill_null(""))


@pytest.fixture(scope="module")
def by_code(divisions: pl.DataFrame) -> dict[str, dict[str, str]]:
    return {r["code"]: r for r in divisions.iter_rows(named=True)}


def test_header_and_order(divisions: pl.DataFrame) -> None:
    assert CSV.read_text(encoding="utf-8").splitlines()[0] == ",".join(HEADER)
    assert divisions.columns == HEADER
    assert divisions["code"].to_list() == sorted(divisions["code"].to_list())


def test_codes_names_levels(divisions: pl.DataFrame) -> None:
    assert divisions["code"].str.contains(r"^\d{6}$").all()
    assert divisions["code"].is_unique().all()
    assert set(divisions["level"].unique()) == {"province", "prefecture", "county"}
    names = divisions["name"]
    assert names.null_count() == 0
    assert (names == names.str.strip_chars()).all()
    assert (names.str.len_chars() > 0).all()
    assert not divisions["code"].str.slice(0, 2).is_in(["71", "81", "82"]).any()


def test_parents(divisions: pl.DataFrame, by_code: dict[str, dict[str, str]]) -> None:
    for row in divisions.iter_rows(named=True):
        code, level = row["code"], row["level"]
        assert row["province_code"] == code[:2] + "0000", code
        assert by_code[row["province_code"]]["level"] == "province", code
        if level == "province":
            assert row["parent_code"] == "", code
            assert code.endswith("0000"), code
            continue
        parent = by_code.get(row["parent_code"])
        assert parent is not None, code
        assert parent["level"] == PARENT_LEVEL[level], code
        assert code != parent["code"]
        assert code.startswith(parent["code"][: PREFIX[parent["level"]]]), code


def test_counts(divisions: pl.DataFrame) -> None:
    counts = dict(divisions.group_by("level").len().iter_rows())
    provinces = set(divisions.filter(pl.col("level") == "province")["code"])
    assert len(provinces) == 32
    assert "660000" in provinces
    assert {c[:2] for c in provinces - {"660000"}} == PROVINCE_PREFIXES
    assert 330 <= counts["prefecture"] <= 380
    assert 2_800 <= counts["county"] <= 3_000
    # Every prefecture-level unit has at least one county-level unit.
    prefectures = set(divisions.filter(pl.col("level") == "prefecture")["code"])
    assert prefectures == set(divisions.filter(pl.col("level") == "county")["parent_code"])


@pytest.mark.parametrize(
    ("code", "name", "level", "parent"),
    [
        ("110000", "北京市", "province", ""),
        ("110100", "市辖区", "prefecture", "110000"),
        ("110101", "东城区", "county", "110100"),
        ("340000", "安徽省", "province", ""),
        ("340200", "芜湖市", "prefecture", "340000"),
        ("340207", "鸠江区", "county", "340200"),
        ("340281", "无为市", "county", "340200"),
        ("460202", "海棠区", "county", "460200"),
        ("500200", "县", "prefecture", "500000"),
        ("500229", "城口县", "county", "500200"),
        ("419000", "省直辖县级行政区划", "prefecture", "410000"),
        ("419001", "济源市", "county", "419000"),
        ("429021", "神农架林区", "county", "429000"),
        ("469001", "五指山市", "county", "469000"),
        ("659000", "自治区直辖县级行政区划", "prefecture", "650000"),
        ("659001", "石河子市", "county", "659000"),
        ("441901", "东莞市", "county", "441900"),
        ("620201", "嘉峪关市", "county", "620200"),
        ("520201", "钟山区", "county", "520200"),
        ("660000", "新疆生产建设兵团", "province", ""),
        ("660100", "第一师", "prefecture", "660000"),
        ("660101", "第一师（师本级）", "county", "660100"),
        ("661400", "第十四师", "prefecture", "660000"),
        ("661401", "第十四师（师本级）", "county", "661400"),
    ],
)
def test_known_units(by_code: dict[str, dict[str, str]], code: str, name: str, level: str, parent: str) -> None:
    row = by_code[code]
    assert (row["name"], row["level"], row["parent_code"]) == (name, level, parent)


@pytest.mark.parametrize(
    "code",
    [
        "460201",  # pseudo 市辖区 of 三亚: not in the source
        "340271",  # 芜湖经济技术开发区: NBS statistical zone, not GB/T 2260
        "410173",  # 郑州航空港经济综合实验区
        "232761",  # 加格达奇区: NBS only
        "632857",  # 大柴旦行政委员会: NBS only
        "441900",  # 东莞 is a prefecture, not also a county (its county-level unit is 441901)
    ],
)
def test_excluded_counties(by_code: dict[str, dict[str, str]], code: str) -> None:
    assert by_code.get(code, {}).get("level") != "county"
