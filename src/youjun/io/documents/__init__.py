"""The county's self-evaluation documents: the report (自评报告, Word) and the assessment annex (Excel).

Both render one county object of the evaluation JSON (data-contract.md §2 and docs/assessment-json.md) under the
rule set it was computed with, and nothing else, so the CLI, the web application and a province's own scripts produce
the same documents from the same data. A section the JSON lacks (the CLI without a ``县级指标`` sheet writes resource
allocation only) is stated as not evaluated, never shown as passed.

- :mod:`.terms`: what the documents take from the rule set (:class:`Terms`) and how they write values and statuses;
- :mod:`.county`: reading one county object (stages in order, failing units, part statuses);
- :mod:`.report`: the Word report, section by section;
- :mod:`.annex`: the Excel annex, sheet by sheet.
"""

from __future__ import annotations

from youjun.io.documents.annex import ANNEX_SHEETS, annex_tables, assessment_annex_xlsx
from youjun.io.documents.report import self_evaluation_docx
from youjun.io.documents.terms import Terms, format_value, item_value, rate_codes, status_label

__all__ = [
    "ANNEX_SHEETS",
    "Terms",
    "annex_tables",
    "assessment_annex_xlsx",
    "format_value",
    "item_value",
    "rate_codes",
    "self_evaluation_docx",
    "status_label",
]
