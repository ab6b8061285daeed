"""Forms of the county pages: a campaign with its quotas, link generation."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from youjun.engine.recognition import quota_problems
from youjun.web.survey import questionnaires
from youjun.web.survey.services import MAX_LINKS_PER_REQUEST, rules_for


class QuotaForm(forms.Form):
    """Resident population and one quota per respondent group, validated against the rule set."""

    population = forms.IntegerField(label="常住人口（人）", min_value=0, max_value=50_000_000, required=False)

    def __init__(self, *args: Any, standard: str, groups: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.standard = standard
        for group, name in (groups or questionnaires.group_names()).items():
            self.fields[f"quota_{group}"] = forms.IntegerField(label=f"{name}样本数", min_value=0, max_value=1_000_000)

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
        for problem in quota_problems(self.quotas(), data.get("population"), rules_for(self.standard)):
            self.add_error(None, problem)
        return data


class CampaignForm(QuotaForm):
    title = forms.CharField(label="调查名称", max_length=128)
    year = forms.IntegerField(label="评估年度", min_value=2000, max_value=2100)
    opens_at = forms.DateTimeField(label="计划开始时间（可选）", required=False)
    closes_at = forms.DateTimeField(label="计划结束时间（可选）", required=False)

    field_order = ["title", "year", "population", "opens_at", "closes_at"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "结束时间应晚于开始时间")
        return data


class LinksForm(forms.Form):
    group = forms.ChoiceField(label="调查对象")
    count = forms.IntegerField(label="生成数量", min_value=1, max_value=MAX_LINKS_PER_REQUEST)

    def __init__(self, *args: Any, groups: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["group"]).choices = list(groups.items())
