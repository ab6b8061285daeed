"""The recommendation form on paper: one nomination as Word or Excel, and every form of a province or of a batch in
one .zip of Word files named 「<省><市><县>推荐表.docx」 (the files a province forwards one by one, unchanged)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

from youjun import forms
from youjun.web.programme import recommendation
from youjun.web.programme.models import Nomination


def values_of(nomination: Nomination) -> tuple[forms.FormDefinition, dict[str, Any]]:
    """The nomination's definition and its values as they stand: the stored entries and the live fields."""
    defn = recommendation.definition_of(nomination.form_id, nomination.form_version)
    live = recommendation.live_values(defn, nomination.county, nomination.batch.year, nomination.batch.min_years)
    return defn, {**nomination.values, **live}


def document(nomination: Nomination, fmt: str) -> bytes:
    """The filled form as ``docx`` or ``xlsx`` (rates as percentages, tackling items in the catalogue's words)."""
    defn, values = values_of(nomination)
    shown = recommendation.printable(defn, values)
    return forms.form_docx(defn, shown) if fmt == "docx" else forms.form_xlsx(defn, shown)


def file_name(nomination: Nomination, fmt: str) -> str:
    """「安徽省芜湖市鸠江区推荐表.docx」: the county with its province and prefecture."""
    return f"{nomination.county.national_name}推荐表.{fmt}"


def bundle(
    nominations: Sequence[Nomination], on_progress: Callable[[int, int], None] | None = None
) -> tuple[bytes, int]:
    """Every nomination's Word form in one .zip (UTF-8 names), and how many it holds; ``on_progress(done, total)``
    after each form."""
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for nomination in nominations:
            archive.writestr(file_name(nomination, "docx"), document(nomination, "docx"))
            count += 1
            if on_progress is not None:
                on_progress(count, len(nominations))
    return buffer.getvalue(), count
