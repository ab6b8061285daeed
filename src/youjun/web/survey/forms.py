"""Forms of the county pages: a campaign with its quotas, link generation.

Every message is attached to the field it is about (shown beside it) and listed in the summary above the form
(``error_summary``, for ``youjun/_error_summary.html``); only sentences about the whole sample stay general.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

from youjun.engine.recognition import quota_issues
from youjun.errors import YoujunError
from youjun.web.survey import questionnaires
from youjun.web.survey.services import MAX_LINKS_PER_REQUEST, rules_for


def error_summary(form: forms.Form, anchor: str, general: str) -> list[dict[str, str]]:
    """The form's errors for the error summary: one entry per message, linked to its field (``anchor`` and the
    label ``general`` for messages about the whole form)."""
    entries: list[dict[str, str]] = []
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS:
            entries += [{"id": anchor, "label": general, "message": str(e)} for e in errors]
        else:
            field = form[name]
            entries += [{"id": field.id_for_label, "label": str(field.label), "message": str(e)} for e in errors]
    return entries


def add_problems(form: forms.Form, exc: YoujunError) -> None:
    """A service's refusal onto the form: each problem at its field when the form has it, else general."""
    for p in exc.problems:
        field = p.location.field
        form.add_error(field if field in form.fields else None, p.message)


class QuotaForm(forms.Form):
    """Resident population and one quota per respondent group, validated against the rule set."""

    population = forms.IntegerField(
        label="常住人口（人）",
        min_value=0,
        max_value=50_000_000,
        required=False,
        error_messages={"invalid": "请填写整数（人）。"},
    )

    def __init__(self, *args: Any, standard: str, groups: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.standard = standard
        for group, name in (groups or questionnaires.group_names()).items():
            self.fields[f"quota_{group}"] = forms.IntegerField(
                label=f"{name}样本数",
                min_value=0,
                max_value=1_000_000,
                error_messages={"required": "请填写样本数（没有该类对象填 0）。", "invalid": "请填写整数。"},
            )

    @property
    def quota_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith("quota_")]

    def quotas(self) -> dict[str, int]:
        return {
            name.removeprefix("quota_"): int(v) for name, v in self.cleaned_data.items() if name.startswith("quota_")
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        for group, problem in quota_issues(self.quotas(), data.get("population"), rules_for(self.standard)):
            name = f"quota_{group}" if group is not None else None
            self.add_error(name if name in self.fields else None, problem)
        return data


class CampaignForm(QuotaForm):
    title = forms.CharField(label="调查名称", max_length=128, error_messages={"required": "请填写调查名称。"})
    year = forms.IntegerField(
        label="评估年度",
        min_value=2000,
        max_value=2100,
        error_messages={"required": "请填写评估年度。", "invalid": "评估年度应为四位年份，如 2025。"},
    )
    opens_at = forms.DateTimeField(
        label="计划开始时间（可选）", required=False, error_messages={"invalid": "时间格式应为 2025-03-01 08:00。"}
    )
    closes_at = forms.DateTimeField(
        label="计划结束时间（可选）", required=False, error_messages={"invalid": "时间格式应为 2025-03-31 18:00。"}
    )

    field_order = ["title", "year", "population", "opens_at", "closes_at"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "结束时间应晚于开始时间")
        return data


class LinksForm(forms.Form):
    group = forms.ChoiceField(
        label="调查对象", error_messages={"required": "请选择调查对象。", "invalid_choice": "请选择列表中的调查对象。"}
    )
    count = forms.IntegerField(
        label="生成数量",
        min_value=1,
        max_value=MAX_LINKS_PER_REQUEST,
        error_messages={
            "required": "请填写生成数量。",
            "invalid": "请填写整数。",
            "min_value": "至少生成 1 个。",
            "max_value": f"一次最多生成 {MAX_LINKS_PER_REQUEST} 个。",
        },
    )

    def __init__(self, *args: Any, groups: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["group"]).choices = list(groups.items())
