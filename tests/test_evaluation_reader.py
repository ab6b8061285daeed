"""The evaluation JSON read back (youjun.io.evaluation_reader): the county objects the real writer wrote, for several
years, give the ``Stacked`` of the live engine objects, hence the same series and the same warnings; an object that
cannot be read is refused in Chinese, naming the county, the year and the key, never with a KeyError."""

from __future__ import annotations

import copy
import io
import json
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from youjun.engine import assess, evaluate_resources
from youjun.engine.assessment import Assessment
from youjun.engine.evaluate import ResourceEvaluation
from youjun.engine.monitoring import Context, Series, Stacked, series, stack, warnings
from youjun.errors import YoujunError
from youjun.io.evaluation_json import to_dict, write_json
from youjun.io.evaluation_reader import evaluation_documents, read_evaluation_json, stacked_from_documents
from youjun.io.synth import SyntheticData, generate
from youjun.standards import load_rule_set
from youjun.standards.model import RuleSet

RULES = load_rule_set("national-2017")
YEARS = (2022, 2023, 2024)
SERIES_FRAMES = ("indicators", "stages", "counties", "items", "units", "regions", "region_counties", "region_items")
#: The unit columns the JSON does not carry (``stacked_from_documents`` takes them from ``schools`` when given).
NOT_IN_JSON = ["school_type", "max_class_size"]

Evaluation = ResourceEvaluation | Assessment


@pytest.fixture(scope="module")
def data() -> dict[int, SyntheticData]:
    """Six counties of one province over three years, a seed per year."""
    return {y: generate(6, seed=70 + y, year=y, province="34") for y in YEARS}


@pytest.fixture(scope="module")
def schools(data: dict[int, SyntheticData]) -> pl.DataFrame:
    return pl.concat([d.schools for d in data.values()], how="diagonal_relaxed")


@pytest.fixture(scope="module")
def resources(data: dict[int, SyntheticData]) -> dict[int, Evaluation]:
    return {y: evaluate_resources(d.schools, RULES) for y, d in data.items()}


@pytest.fixture(scope="module")
def assessments(data: dict[int, SyntheticData]) -> dict[int, Evaluation]:
    return {y: assess(d.schools, d.counties, RULES) for y, d in data.items()}


def written(live: Mapping[int, Evaluation], folder: Path) -> list[dict[str, Any]]:
    """The county objects of every year, each year written to its own file by the real writer and read back."""
    documents: list[dict[str, Any]] = []
    for year, evaluation in live.items():
        path = folder / f"evaluation-{year}.json"
        write_json(evaluation, path)
        documents += read_evaluation_json(path)
    return documents


def context(data: Mapping[int, SyntheticData], schools: pl.DataFrame) -> Context:
    """Every context frame, so that every kind of rule can fire: the school rows, statuses and the rotation."""
    counties = pl.concat([d.counties for d in data.values()], how="diagonal_relaxed")
    codes = sorted(set(counties["county_code"]))
    statuses = pl.DataFrame({"county_code": codes[:3], "status": ["recognised", "pilot", "recognised"]})
    return Context(schools=schools, statuses=statuses, rotation=counties)


def assert_stacked_equal(mine: Stacked, theirs: Stacked) -> None:
    """Frame by frame; the counties of a stack of assessments come in a join's order, which ``series`` sorts."""
    assert mine.codes == theirs.codes
    assert_frame_equal(mine.stages, theirs.stages)
    assert_frame_equal(mine.units, theirs.units)
    assert_frame_equal(mine.counties, theirs.counties.sort("year", "county_code"))
    assert_frame_equal(mine.items, theirs.items)


def assert_series_equal(mine: Series, theirs: Series) -> None:
    for name in SERIES_FRAMES:
        assert_frame_equal(getattr(mine, name), getattr(theirs, name), check_exact=True)


def _without_unit_keys(document: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    for unit in copied["resource_allocation"]["units"]:
        for key in keys:
            unit.pop(key, None)
    return copied


@pytest.mark.parametrize("kind", ["resources", "assessments"])
def test_documents_give_the_stack_series_and_warnings_of_the_engine(
    kind: str,
    request: pytest.FixtureRequest,
    data: dict[int, SyntheticData],
    schools: pl.DataFrame,
    tmp_path: Path,
) -> None:
    live: dict[int, Evaluation] = request.getfixturevalue(kind)
    documents = written(live, tmp_path)
    assert len(documents) == 6 * len(YEARS)
    theirs = stack(live)

    read = stacked_from_documents(documents)
    # The documents alone give the units exactly, the school's type and largest class included.
    assert_frame_equal(read.units, theirs.units)
    older = [_without_unit_keys(d, NOT_IN_JSON) for d in documents]  # documents written before those keys
    assert (
        stacked_from_documents(older).units.select(pl.col(NOT_IN_JSON).null_count()).row(0) == (read.units.height,) * 2
    )
    assert_frame_equal(read.stages, theirs.stages)
    assert_frame_equal(series(read).indicators, series(theirs).indicators, check_exact=True)

    # With the school rows, the stack itself, hence every series frame and every warning.
    mine = stacked_from_documents(documents, schools=schools)
    assert_stacked_equal(mine, theirs)
    mine_series, their_series = series(mine), series(theirs)
    assert_series_equal(mine_series, their_series)
    every = context(data, schools)
    found = warnings(mine_series, RULES, every)
    assert_frame_equal(found, warnings(their_series, RULES, every))
    fired = set(found["rule"])
    assert {"cv_near_limit", "cv_rising", "unit_first_below", "school_size", "class_size", "recheck_risk"} <= fired
    # The rules that read the school rows from the context, not the units, agree without them in the stack.
    assert_frame_equal(warnings(series(read), RULES, every), found)
    if kind == "assessments":
        assert set(mine.items["part"]) == {
            "eligibility",
            "government_guarantee",
            "education_quality",
            "social_recognition",
            "vetoes",
        }
        assert mine.counties["status"].null_count() == 0


def test_objects_in_any_order_and_with_keys_reordered_give_the_same_stack(
    assessments: dict[int, Evaluation], schools: pl.DataFrame
) -> None:
    """The web's database may hand the objects back in any order and (PostgreSQL jsonb) reorder their keys."""
    documents = [d for ev in assessments.values() for d in evaluation_documents(to_dict(ev))]

    def reordered(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: reordered(value[k]) for k in sorted(value, key=lambda k: (len(k), k))}
        if isinstance(value, list):
            return [reordered(v) for v in value]
        return value

    shuffled = [reordered(d) for d in documents]
    random.Random(5).shuffle(shuffled)
    assert list(shuffled[0]["resource_allocation"]["stages"]) == ["junior", "primary"]
    assert_stacked_equal(stacked_from_documents(shuffled, schools=schools), stack(assessments))


def test_rule_sets_by_year_and_counties_without_units(data: dict[int, SyntheticData]) -> None:
    """Another rule set in one year (given, or named by the objects); a county of the county sheet without school
    rows (its resource part unjudged: no figures) and one whose every school is out of scope (no unit, not passed)."""
    province = load_rule_set("example-province-2017")
    later = data[2024].schools
    codes = sorted(set(later["county_code"]))
    later = later.filter(pl.col("county_code") != codes[0]).with_columns(
        pl.when(pl.col("county_code") == codes[1])
        .then(pl.lit("特殊教育学校"))
        .otherwise(pl.col("school_type"))
        .alias("school_type")
    )
    live: dict[int, Evaluation] = {
        2023: assess(data[2023].schools, data[2023].counties, RULES),
        2024: assess(later, data[2024].counties, province),
    }
    both = pl.concat([data[2023].schools, later], how="diagonal_relaxed")
    documents = [d for ev in live.values() for d in evaluation_documents(to_dict(ev))]
    named = stacked_from_documents(documents, schools=both)
    assert_stacked_equal(named, stack(live))
    given = stacked_from_documents(documents, {2023: RULES, 2024: province}, schools=both)
    assert_stacked_equal(given, stack(live))
    counties = named.counties.filter(pl.col("year") == 2024).sort("county_code")
    assert counties.select("units", "passed", "resource_allocation").rows()[:2] == [
        (None, None, "insufficient_data"),
        (0, False, "not_met"),
    ]


def test_the_2012_rule_set_with_its_composite_and_no_school_rule(data: dict[int, SyntheticData]) -> None:
    basic = load_rule_set("basic-2012")
    live: dict[int, Evaluation] = {y: evaluate_resources(d.schools, basic) for y, d in data.items()}
    schools = pl.concat([d.schools for d in data.values()], how="diagonal_relaxed")
    documents = [d for ev in live.values() for d in evaluation_documents(to_dict(ev))]
    mine = stacked_from_documents(documents, schools=schools)
    assert {"composite", "composite_limit"} <= set(mine.stages.columns)
    assert not any(c.startswith("cv_passed_") for c in mine.stages.columns)
    assert_stacked_equal(mine, stack(live))
    assert_series_equal(series(mine), series(live))


def test_no_documents_give_an_empty_stack() -> None:
    mine, theirs = stacked_from_documents([]), stack({})
    assert mine.codes == theirs.codes == ()
    for name in ("stages", "units", "counties", "items"):
        assert getattr(mine, name).height == 0
        assert getattr(mine, name).schema == getattr(theirs, name).schema


def test_a_whole_file_from_a_stream(resources: dict[int, Evaluation]) -> None:
    buffer = io.BytesIO()
    write_json(resources[2024], buffer)
    buffer.seek(0)
    documents = read_evaluation_json(buffer)
    assert {(d["schema_version"], d["standard"], d["year"]) for d in documents} == {(1, "national-2017", 2024)}


# ---------------------------------------------------------------------------------------------------------------
# Refusals


@pytest.fixture(scope="module")
def one_year(assessments: dict[int, Evaluation]) -> list[dict[str, Any]]:
    return evaluation_documents(to_dict(assessments[2024]))


def _first_unit(d: dict[str, Any]) -> dict[str, Any]:
    unit: dict[str, Any] = d["resource_allocation"]["units"][3]
    return unit


def _stage(d: dict[str, Any]) -> dict[str, Any]:
    stage: dict[str, Any] = d["resource_allocation"]["stages"]["junior"]
    return stage


MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "another schema version": (lambda d: d.update(schema_version=2), "格式版本为 2，只能读取版本 1"),
    "no resource part": (lambda d: d.pop("resource_allocation"), "「resource_allocation」缺少该项"),
    "no units": (lambda d: d["resource_allocation"].pop("units"), "「resource_allocation.units」缺少该项"),
    "no shortfalls": (
        lambda d: d["resource_allocation"].pop("shortfalls"),
        "「resource_allocation.shortfalls」缺少该项",
    ),
    "a unit without values": (
        lambda d: _first_unit(d).pop("values"),
        "「resource_allocation.units[3].values」缺少该项",
    ),
    "a unit without R5": (
        lambda d: _first_unit(d)["values"].pop("R5"),
        "「resource_allocation.units[3].values.R5」缺少该项",
    ),
    "students as text": (
        lambda d: _first_unit(d).update(students="845"),
        "「resource_allocation.units[3].students」应为整数",
    ),
    "a unit that is not an object": (
        lambda d: d["resource_allocation"]["units"].__setitem__(3, None),
        "「resource_allocation.units[3]」应为 JSON 对象",
    ),
    "a CV as text": (
        lambda d: _stage(d)["cv"].update(R2="0.3"),
        "「resource_allocation.stages.junior.cv.R2」应为数值或 null",
    ),
    "no CV verdicts": (
        lambda d: _stage(d).pop("cv_passed"),
        "「resource_allocation.stages.junior.cv_passed」缺少该项",
    ),
    "boundary not a list": (
        lambda d: _stage(d).update(cv_boundary="R5"),
        "「resource_allocation.stages.junior.cv_boundary」应为列表",
    ),
    "no verdict": (lambda d: d.pop("verdict"), "「verdict」缺少该项"),
    "no part status": (lambda d: d["verdict"]["parts"].pop("vetoes"), "「verdict.parts.vetoes」缺少该项"),
    "an item without status": (
        lambda d: d["government_guarantee"]["items"][2].pop("status"),
        "「government_guarantee.items[2].status」缺少该项",
    ),
    "no eligibility years": (
        lambda d: d["verdict"]["eligibility"].pop("years"),
        "「verdict.eligibility.years」缺少该项",
    ),
    "another indicator": (
        lambda d: [s["county_value"].update(R8=1.0) for s in d["resource_allocation"]["stages"].values()],
        "的指标（R1、R2、R3、R4、R5、R6、R7、R8）与规则集「national-2017」的指标（R1、R2、R3、R4、R5、R6、R7）不一致",
    ),
    "no rule set named": (lambda d: d.pop("standard"), "未注明规则集（standard）"),
    "an unknown rule set": (lambda d: d.update(standard="nowhere-2017"), "所用规则集「nowhere-2017」无法载入"),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_an_object_that_cannot_be_read_is_refused_naming_county_year_and_key(
    mutation: str, one_year: list[dict[str, Any]]
) -> None:
    documents = copy.deepcopy(one_year)
    change, expected = MUTATIONS[mutation]
    target = documents[2]
    change(target)
    with pytest.raises(YoujunError) as caught:
        stacked_from_documents(documents)
    message = str(caught.value)
    assert f"{target['county_name']}（{target['county_code']}）2024 年" in message
    assert expected in message


def test_an_object_without_its_year_or_twice_is_refused(one_year: list[dict[str, Any]]) -> None:
    documents = copy.deepcopy(one_year)
    first = documents[0]
    name = f"{first['county_name']}（{first['county_code']}）"
    with pytest.raises(YoujunError, match=f"{name}2024 年的评估结果重复出现"):
        stacked_from_documents([*documents, copy.deepcopy(first)])
    del first["year"]
    with pytest.raises(YoujunError, match=f"{name}（年度不明）的评估结果中「year」缺少该项"):
        stacked_from_documents(documents)
    with pytest.raises(YoujunError, match="第 2 个县（区）的评估结果应为 JSON 对象"):
        stacked_from_documents([documents[1], ["not", "an", "object"]])  # type: ignore[list-item]


def test_indicators_differing_between_years_are_refused(
    data: dict[int, SyntheticData], assessments: dict[int, Evaluation]
) -> None:
    basic: RuleSet = load_rule_set("basic-2012")
    documents = evaluation_documents(to_dict(assessments[2023]))
    documents += evaluation_documents(to_dict(evaluate_resources(data[2024].schools, basic)))
    with pytest.raises(YoujunError, match="各年度评估的指标不一致"):
        stacked_from_documents(documents)


def test_files_that_are_not_evaluation_json_are_refused(tmp_path: Path, resources: dict[int, Evaluation]) -> None:
    path = tmp_path / "result.json"
    with pytest.raises(YoujunError, match="找不到评估结果文件"):
        read_evaluation_json(path)
    path.write_text('{"schema_version": 1, "counties": [', encoding="utf-8")
    with pytest.raises(YoujunError, match="不是有效的 JSON（第 1 行"):
        read_evaluation_json(path)
    path.write_text(json.dumps([1, 2]), encoding="utf-8")
    with pytest.raises(YoujunError, match="应为含 schema_version、standard 和 counties 的 JSON 对象"):
        read_evaluation_json(path)
    envelope = to_dict(resources[2024]) | {"schema_version": 2}
    path.write_text(json.dumps(envelope), encoding="utf-8")
    with pytest.raises(YoujunError) as caught:
        read_evaluation_json(path)
    assert caught.value.problems[0].location.file == "result.json"
    assert "评估结果的格式版本为 2，只能读取版本 1" in str(caught.value)
