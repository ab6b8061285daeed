"""Row checks as data (src/youjun/io/checks.toml): a province's own file adds, drops and changes checks without code,
and every mistake in such a file is reported at once with its file and dotted key."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import frame, school
from youjun.errors import YoujunError
from youjun.io.reader import CHECKS_FILE, load_checks, read_school_data


def _csv(tmp_path: Path, **overrides: object) -> Path:
    path = tmp_path / "学校.csv"
    frame([school(**overrides)]).write_csv(path)
    return path


def _province_checks(tmp_path: Path, extra: str, drop: str | None = None) -> Path:
    """The shipped checks file with one check removed (by its code) and ``extra`` TOML appended."""
    text = CHECKS_FILE.read_text(encoding="utf-8")
    if drop is not None:
        blocks = text.split("\n[[")
        kept = [b for b in blocks if f'code = "{drop}"' not in b or "stages =" in b]
        text = "\n[[".join(kept)
    path = tmp_path / "checks.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    return path


def test_the_shipped_file_gives_the_products_checks(tmp_path: Path) -> None:
    data = read_school_data([_csv(tmp_path, max_class_size_primary=70)], checks=load_checks())
    assert [w.code for w in data.warnings] == ["oversized_class"]


def test_a_province_adds_a_check_of_its_own(tmp_path: Path) -> None:
    rule = '[[school]]\ncode = "few_multimedia_rooms"\nfield = "multimedia_rooms"\nfails = "multimedia_rooms < 15"\n'
    rule += 'message = "「{multimedia_rooms!h}」只有 {multimedia_rooms} 间，本省要求至少 15 间"\nseverity = "warning"\n'
    checks = load_checks(_province_checks(tmp_path, rule))
    data = read_school_data([_csv(tmp_path, multimedia_rooms=14)], checks=checks)
    found = [w for w in data.warnings if w.code == "few_multimedia_rooms"]
    assert [w.message for w in found] == ["「网络多媒体教室数(间)」只有 14 间，本省要求至少 15 间"]
    assert not [
        w
        for w in read_school_data([_csv(tmp_path, multimedia_rooms=20)], checks=checks).warnings
        if w.code == "few_multimedia_rooms"
    ]


def test_a_province_drops_a_check(tmp_path: Path) -> None:
    checks = load_checks(_province_checks(tmp_path, "", drop="oversized_class"))
    data = read_school_data([_csv(tmp_path, max_class_size_primary=70)], checks=checks)
    assert "oversized_class" not in [w.code for w in data.warnings]


def test_a_province_turns_a_warning_into_an_error(tmp_path: Path) -> None:
    rule = (
        '[[school]]\ncode = "class_over_55"\nfield = "max_class_size_primary"\nfails = "max_class_size_primary > 55"\n'
    )
    rule += 'message = "小学最大班额 {max_class_size_primary} 人，本省不得超过 55 人"\n'
    checks = load_checks(_province_checks(tmp_path, rule))
    with pytest.raises(YoujunError) as caught:
        read_school_data([_csv(tmp_path, max_class_size_primary=56)], checks=checks)
    assert [p.message for p in caught.value.errors] == ["小学最大班额 56 人，本省不得超过 55 人"]


def test_every_mistake_of_a_checks_file_is_reported_with_its_key(tmp_path: Path) -> None:
    bad = (
        '[[school]]\ncode = "a"\nfield = "no_such_column"\nfails = "students > 1"\nmessage = "x"\n'
        '[[school]]\ncode = "b"\nfield = "students_primary"\nfails = "__import__(\'os\')"\nmessage = "x"\n'
        '[[school]]\ncode = "c"\nfield = "students_primary"\nfails = "students_primary >"\nmessage = "x"\n'
        '[[school]]\ncode = "d"\nfield = "students_primary"\nfails = "students_primary > 1"\nmessage = "{nope}"\n'
        'severity = "fatal"\n'
    )
    path = tmp_path / "checks.toml"
    path.write_text('[stages]\nprimary = "小学"\njunior = "初中"\n' + bad, encoding="utf-8")
    with pytest.raises(YoujunError) as caught:
        load_checks(path)
    fields = {p.location.field for p in caught.value.problems}
    # entries are counted from 1, as a person reading the file counts them
    assert fields == {
        "school[1].field",
        "school[2].fails",
        "school[3].fails",
        "school[4].severity",
        "school[4].message",
    }
    assert all(p.location.file == str(path) for p in caught.value.problems)
