"""The published worked examples (shared data) reproduced through the real pipeline."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from conftest import DATA, frame, school
from youjun.engine import difference_coefficient, evaluate_resources
from youjun.engine.split import split_shared_resources
from youjun.standards.model import RuleSet

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _csv(name: str) -> pl.DataFrame:
    return pl.read_csv(DATA / name, comment_prefix="#")


def test_weighted_cv_of_official_five_school_example_is_0_5153(basic: RuleSet) -> None:
    books = _csv("cv-worked-example.csv")
    rows = [
        school(school_id=f"s{i}", school_name=r["school"], students_primary=r["students"], books=r["books"])
        for i, r in enumerate(books.iter_rows(named=True))
    ]
    ev = evaluate_resources(frame(rows), basic)
    stage = ev.stages.row(0, named=True)
    assert stage["county_value_K5"] == pytest.approx(1913 / 302)
    assert stage["county_value_K5"] == pytest.approx(6.3344, abs=5e-5)
    assert stage["cv_K5"] == pytest.approx(0.5153, abs=5e-5)
    s = stage["cv_K5"] * stage["county_value_K5"]
    assert s == pytest.approx(3.2639, abs=5e-5)
    assert s**2 == pytest.approx(10.6528, abs=5e-4)


def test_unweighted_forms_differ_from_the_official_value() -> None:
    books = _csv("cv-worked-example.csv")
    x = (books["books"] / books["students"]).to_numpy()
    unweighted_population = x.std() / x.mean()
    unweighted_sample = x.std(ddof=1) / x.mean()
    weighted = difference_coefficient(list(x), books["students"].to_list())
    assert unweighted_population == pytest.approx(0.4888, abs=5e-5)
    assert unweighted_sample == pytest.approx(0.5464, abs=1e-4)  # the spec truncates 0.54646
    assert weighted == pytest.approx(0.5153, abs=5e-5)


def test_nine_year_school_books_split_9711_63_and_13514_37(national: RuleSet) -> None:
    ex = _csv("split-worked-example.csv").row(0, named=True)
    schools = frame(
        [
            school(
                school_type=ex["school_type"],
                students_primary=ex["students_primary"],
                students_junior=ex["students_junior"],
                books=ex["books"],
                teachers_junior=15,
            )
        ]
    )
    units = split_shared_resources(schools, national.split, national.stages)
    books = dict(zip(units["stage"], units["books"], strict=True))
    assert round(books["primary"], 2) == 9711.63
    assert round(books["junior"], 2) == 13514.37
    assert books["primary"] + books["junior"] == pytest.approx(23226)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared reference data not beside this checkout")
@pytest.mark.parametrize("name", ["cv-worked-example.csv", "split-worked-example.csv"])
def test_repo_copy_of_worked_example_matches_shared_reference(name: str) -> None:
    assert (DATA / name).read_bytes() == (SHARED / name).read_bytes()
