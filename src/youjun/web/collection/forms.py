"""Forms of the collection pages (the school record form is built from ``SCHOOL_COLUMNS`` in the view and
validated by the workbook reader, so that the web and the importer apply the same rules)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def error_summary(form: forms.Form, anchor: str, general: str) -> list[dict[str, str]]:
    """The form's errors for ``youjun/_error_summary.html``: one entry per message, linked to its field (``anchor``
    and the label ``general`` for messages about the whole form)."""
    entries: list[dict[str, str]] = []
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS:
            entries += [{"id": anchor, "label": general, "message": str(e)} for e in errors]
        else:
            field = form[name]
            entries += [{"id": field.id_for_label, "label": str(field.label), "message": str(e)} for e in errors]
    return entries


class CollectionYearForm(forms.Form):
    """Open a collection year (or change its window) for the user's unit."""

    year = forms.IntegerField(
        label="统计年度",
        min_value=2000,
        max_value=2100,
        error_messages={
            "required": "请填写统计年度。",
            "invalid": "统计年度应为四位年份，如 2025。",
            "min_value": "统计年度应在 2000 至 2100 之间。",
            "max_value": "统计年度应在 2000 至 2100 之间。",
        },
    )
    opens_at = forms.DateTimeField(
        label="开始时间",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={"required": "请填写开始时间。", "invalid": "开始时间格式不正确。"},
    )
    closes_at = forms.DateTimeField(
        label="截止时间",
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={"required": "请填写截止时间。", "invalid": "截止时间格式不正确。"},
    )

    def clean(self) -> dict[str, Any]:
        data = cast("dict[str, Any]", super().clean())  # Form.clean returns cleaned_data (never None)
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "截止时间必须晚于开始时间。")
        return data
