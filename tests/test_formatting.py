"""One way to write a number (youjun.formatting): half-up at the rule set's decimals, the same text as the engine's
vectorised formatter, and the same text on every surface (pages, documents, terminal, survey)."""

from __future__ import annotations

import doctest
import math
from pathlib import Path

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import example, given, settings

import youjun.formatting as formatting
from conftest import frame
from test_assessment import full_county
from test_guarantee import counties, good_school
from youjun.cli import _fmt
from youjun.engine import assess
from youjun.engine.items import number_text
from youjun.formatting import Display, count, excel_format, number, percent, rule_number
from youjun.io.documents import format_value
from youjun.standards import load_rule_set
from youjun.web.evaluation.pages import fmt, fmt_pct

# ---------------------------------------------------------------------------------------------------------------
# The module's own examples and the edge cases of the brief


def test_the_module_doctests_pass() -> None:
    result = doctest.testmod(formatting, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 15


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (0.505, 2, "0.51"),  # stored as 0.50499…: half-up as written, not as stored
        (2.675, 2, "2.68"),  # Python's format gives 2.67
        (-0.975, 2, "-0.98"),  # half away from zero
        (1234567.891, 2, "1,234,567.89"),
        (None, 2, "—"),
        (float("nan"), 2, "—"),
        (float("inf"), 3, "—"),
        (-0.0001, 3, "0.000"),  # never "-0.000"
        (0.5153, 3, "0.515"),
        (999.5, 0, "1,000"),
        (5_000_000.0, 2, "5,000,000.00"),  # a relative 1e-9 tolerance would show 5,000,000.01
        (100_000_000.0, 2, "100,000,000.00"),
        (12, 2, "12.00"),
    ],
)
def test_numbers_round_half_up_with_separators(value: float | None, decimals: int, expected: str) -> None:
    assert number(value, decimals) == expected


def test_rates_are_percentages_rounded_half_up() -> None:
    assert percent(0.9125, 2) == "91.25%"
    assert percent(0.91125, 2) == "91.13%"  # 91.125 is exact in binary: Python's format gives 91.12
    assert f"{0.91125 * 100:.2f}%" == "91.12%"  # the behaviour replaced
    assert percent(0.8499999, 2) == "85.00%" and percent(None, 2) == "—"


def test_units_counts_and_rule_numbers() -> None:
    assert number(2496.7, 2, unit="㎡") == "2,496.70 ㎡"
    assert number(6000.0, 2, unit="元", trim=True) == "6,000 元"
    assert number(6000.5, 2, unit="元", trim=True) == "6,000.50 元"
    assert [count(2001, "人"), count(3, "间"), count(12, "个"), count(None, "人")] == ["2,001 人", "3 间", "12 个", "—"]
    # a rule is written as it is: never rounded into another rule
    assert [rule_number(0.5, 2), rule_number(0.455, 2), rule_number(0.85, 0, percent_=True)] == ["0.50", "0.455", "85%"]


def test_decimals_come_from_the_rule_set(tmp_path: Path) -> None:
    national = Display.of(load_rule_set("national-2017").precision)
    assert (national.value(0.50178), national.cv(0.50178), national.rate(0.50178)) == ("0.50", "0.502", "50.18%")
    path = tmp_path / "province.toml"
    path.write_text(
        'id = "p"\nextends = "national-2017"\nname = "测试省"\n[precision]\ndisplay_cv_decimals = 4\n'
        "display_value_decimals = 1\n",
        encoding="utf-8",
    )
    province = Display.of(load_rule_set(str(path)).precision)
    assert (province.value(0.50178), province.cv(0.50178), province.rate(0.50178)) == ("0.5", "0.5018", "50.2%")


def test_excel_formats_follow_the_decimals() -> None:
    assert excel_format(2, grouping=True) == "#,##0.00"
    assert excel_format(3) == "0.000"
    assert excel_format(2, percent_=True) == "0.00%"
    assert excel_format(2, grouping=True, signed=True) == "+#,##0.00;-#,##0.00;0.00"


# ---------------------------------------------------------------------------------------------------------------
# The scalar module and the engine's vectorised formatter write the same text

FINITE = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


def ties(decimals: int) -> st.SearchStrategy[float]:
    """Values written with a 5 one place beyond ``decimals`` (2.675, -0.975): the cases half-up is about."""
    return st.integers(min_value=-(10**9), max_value=10**9).map(lambda k: (10 * k + 5) / 10 ** (decimals + 1))


def engine_texts(values: list[float | None], decimals: int, *, trim: bool = False, rate: bool = False) -> list[str]:
    column = pl.Series("v", values, dtype=pl.Float64).to_frame()
    value = pl.col("v") * 100 if rate else pl.col("v")
    text = number_text(value, decimals, trim=trim)
    return column.select((text + "%" if rate else text).alias("t"))["t"].to_list()


@settings(max_examples=150, deadline=None)
@given(data=st.data(), decimals=st.integers(min_value=0, max_value=4), trim=st.booleans())
@example(data=None, decimals=2, trim=False)
def test_scalar_and_vectorised_numbers_agree(data: st.DataObject | None, decimals: int, trim: bool) -> None:
    fixed = [0.505, 2.675, -0.975, 1234567.891, 0.91125 * 100, 999.5, -0.0001, 0.0, -0.0, 5e6, 1e8, 98000.0]
    drawn = data.draw(st.lists(st.one_of(FINITE, ties(decimals)), min_size=1, max_size=40)) if data else []
    values: list[float | None] = [*fixed, *drawn, None]
    expected = engine_texts(values, decimals, trim=trim)
    got = [number(v, decimals, trim=trim, missing=None) for v in values]  # type: ignore[arg-type]
    assert got == expected


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(st.one_of(st.floats(min_value=0, max_value=10, allow_nan=False), ties(4)), min_size=1),
    decimals=st.integers(min_value=0, max_value=3),
)
@example(values=[0.91125, 0.9125, 0.85, 0.8499999, 0.005, 1.0], decimals=2)
def test_scalar_and_vectorised_rates_agree(values: list[float], decimals: int) -> None:
    """The engine writes a rate as ``number_text(value * 100) + "%"`` (``Item.rate_text``)."""
    assert [percent(v, decimals) for v in values] == engine_texts(list(values), decimals, rate=True)


def test_every_surface_writes_the_same_text() -> None:
    values = [0.505, 2.675, -0.975, 1234567.891, 0.50178, 4.2, 0.0, None]
    for decimals in (0, 2, 3):
        texts = [number(v, decimals) for v in values]
        assert [fmt(v, decimals) for v in values] == texts  # pages
        assert [_fmt(v, decimals) for v in values] == texts  # terminal
        assert [format_value(v, decimals=decimals) for v in values] == texts  # documents and annexes
    assert fmt_pct(0.91125, 2) == percent(0.91125, 2) == format_value(0.91125, decimals=2, rate=True) == "91.13%"


# ---------------------------------------------------------------------------------------------------------------
# 0.91125 through the survey's code path shows as it does everywhere else


def test_a_survey_rate_of_0_91125_shows_91_13_percent_on_the_campaign_page_and_in_the_verdict() -> None:
    from youjun.engine.recognition import recognition
    from youjun.web.survey import services

    rules = services.rules_for("national-2017")
    answers = ["满意"] * 729 + ["不满意"] * 71 + ["不了解"] * 5  # 不了解 leaves the denominator
    frame_ = pl.DataFrame(
        {
            "response": list(range(len(answers))),
            "group": ["parents"] * len(answers),
            "question": ["P1"] * len(answers),
            "answer": answers,
        },
        schema=services.ANSWER_SCHEMA,
    )
    result = recognition(frame_, rules)
    assert (result.valid, result.positive) == (800, 729) and math.isclose(result.rate, 0.91125)  # type: ignore[arg-type]
    decimals = services.display_for("national-2017").value_decimals
    group = services.GroupProgress(
        group="parents", name="家长", quota=800, responses=805, valid_returns=800, valid=800, positive=729,
        rate=result.rate, decimals=decimals,
    )  # fmt: skip
    assert services.pct(result.rate, decimals) == group.rate_text == "91.13%"
    # the engine's S1 sentence (the verdict, the report) says the same figure
    county = full_county(recognition_valid=800, recognition_positive=729)
    a = assess(frame([good_school()]), counties([county]), load_rule_set("national-2017"))
    s1 = a.recognition.row(0, named=True)
    assert "= 91.13%（要求不低于 85.00%），达标" in s1["detail"]


def test_survey_requirements_are_written_from_the_rule_set() -> None:
    from youjun.web.survey import services

    assert services.share_text(0.85) == "85%" and services.share_text(0.875) == "87.5%"
    assert services.share_text(services.rules_for("national-2017").valid_return_min) == "70%"
