"""What the county and its reviewers record for the full assessment (standard-2017.md §4–8).

- ``CountyInputs``: the county's ``县级指标`` values of a year (keys of ``COUNTY_COLUMNS``), versioned so that two
  people editing at once cannot overwrite each other; every change is an ``InputChange`` (who, when, old → new, why).
- ``Evidence``: a file the county (or a reviewer, for a veto) uploaded for an item; stored under a random name.
- ``Review``: a reviewer's verdict on an evidence item; the latest one feeds the item's ``*_verdict`` column.
- ``VetoFinding``: a reviewer's finding on a veto V1–V6; the latest one feeds ``v1_finding``…``v6_finding``.
- ``Narrative``: one chapter the county writes for its self-evaluation report (the chapters: ``CHAPTERS`` of
  ``youjun.io.documents.chapters``); it feeds the Word report, not the evaluation.

Reviews and findings are never edited: a new one supersedes the previous, so the history is the table itself.
Which items take evidence and verdicts, and which vetoes take findings, is the rule set's (``EVIDENCE_ITEMS``,
``VETO_ITEMS``, ``in_force``: read when used); the fields' ``choices`` are the database's fixed vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, overload

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

from youjun.errors import YoujunError
from youjun.io.documents.chapters import CHAPTERS, MAX_CHARS
from youjun.standards import RuleSet, load_rule_set
from youjun.web.organisation.models import OrgUnit

# ---------------------------------------------------------------------------------------------------------------
# Which items are reviewed, from the rule set in force (``settings.YOUJUN_STANDARD``), read when used


@dataclass(frozen=True)
class Reviewed:
    """What reviewers record under one rule set, in its order: the evidence items (``kind = "evidence"`` or a
    ``verdict`` column, guarantee and quality tables) and the vetoes decided by a finding (``kind = "finding"``),
    each with the county-sheet column it feeds (``verdict`` / ``finding``) when it names one."""

    evidence: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    verdict_columns: Mapping[str, str] = field(default_factory=dict)
    finding_columns: Mapping[str, str] = field(default_factory=dict)


_BY_DIGEST: dict[str, Reviewed] = {}


def reviewed_in(rules: RuleSet) -> Reviewed:
    """The reviewed items of a rule set (computed once per rule-set digest)."""
    found = _BY_DIGEST.get(rules.digest) if rules.digest else None
    if found is None:
        found = _reviewed(rules.sections)
        if rules.digest:
            _BY_DIGEST[rules.digest] = found
    return found


@lru_cache(maxsize=8)
def reviewed_items(standard: str) -> Reviewed:
    """The reviewed items of a rule set by id or path; none when it cannot be read (nothing can be recorded)."""
    try:
        return reviewed_in(load_rule_set(standard))
    except YoujunError:
        return Reviewed()


def _reviewed(sections: Mapping[str, Any]) -> Reviewed:
    evidence = {
        str(code): table
        for part in ("guarantee", "quality")
        for code, table in (sections.get(part) or {}).items()
        if isinstance(table, Mapping) and (table.get("kind") == "evidence" or "verdict" in table)
    }
    findings = {
        str(code): table
        for code, table in (sections.get("vetoes") or {}).items()
        if isinstance(table, Mapping) and table.get("kind") == "finding"
    }
    return Reviewed(
        evidence=tuple(evidence),
        findings=tuple(findings),
        verdict_columns={c: str(t["verdict"]) for c, t in evidence.items() if t.get("verdict")},
        finding_columns={c: str(t["finding"]) for c, t in findings.items() if t.get("finding")},
    )


def in_force() -> Reviewed:
    """The reviewed items of the default rule set (``settings.YOUJUN_STANDARD``); a county-year under a provincial
    assignment has its own (``services.reviewed_of``)."""
    return reviewed_items(str(settings.YOUJUN_STANDARD))


class RuleSetCodes(Sequence[str]):
    """Item codes of the default rule set, computed when used (never at import): behaves like the tuple it replaces
    (``in``, iteration, ``len``, indexing), so callers keep importing ``EVIDENCE_ITEMS`` and ``VETO_ITEMS``. Writes
    are checked against the county-year's own rule set by the services."""

    def __init__(self, which: str, doc: str) -> None:
        self._which = which
        self.__doc__ = doc

    def codes(self) -> tuple[str, ...]:
        codes: tuple[str, ...] = getattr(in_force(), self._which)
        return codes

    def __contains__(self, code: object) -> bool:
        return code in self.codes()

    def __iter__(self) -> Iterator[str]:
        return iter(self.codes())

    def __len__(self) -> int:
        return len(self.codes())

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...

    def __getitem__(self, index: Any) -> Any:
        return self.codes()[index]

    def __repr__(self) -> str:
        return repr(self.codes())


#: Items whose judgement rests on documents and a reviewer's verdict (standard-2017.md §4–5).
EVIDENCE_ITEMS = RuleSetCodes("evidence", "Evidence items of the default rule set: G1, G2, G10, G14, G15, Q5, Q7, Q8.")
#: Vetoes decided by a reviewer's finding (V7 follows the survey).
VETO_ITEMS = RuleSetCodes("findings", "Veto findings of the default rule set: V1–V6.")

#: The database's vocabulary of item codes, fixed by migration 0001 and independent of the rule set (choices that
#: followed the rule set would need a migration per rule set). Which codes may be recorded is the rule set's
#: decision, checked by the services.
ITEM_CHOICES = [
    (c, c) for c in ("G1", "G2", "G10", "G14", "G15", "Q3", "Q5", "Q7", "Q8", "V1", "V2", "V3", "V4", "V5", "V6")
]
VETO_CHOICES = [(c, c) for c in ("V1", "V2", "V3", "V4", "V5", "V6")]


class Verdict(models.TextChoices):
    MET = "达标", "达标"
    NOT_MET = "不达标", "不达标"
    PENDING = "待补充", "待补充"


class Found(models.TextChoices):
    ABSENT = "不存在", "不存在"
    PRESENT = "存在", "存在"


class FindingSource(models.TextChoices):
    INSPECTION = "督导检查", "督导检查"
    PETITION = "信访举报", "信访举报"
    MEDIA = "媒体报道", "媒体报道"
    DATA_CHECK = "数据核查", "数据核查"
    OTHER = "其他", "其他"


class CountyInputs(models.Model):
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="assessment_inputs", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    values = models.JSONField("县级指标", default=dict)
    version = models.PositiveIntegerField("版本", default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="最后修改人"
    )
    updated_at = models.DateTimeField("最后修改时间", auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["county", "year"], name="one_inputs_per_county_year")]
        verbose_name = "县级指标"
        verbose_name_plural = "县级指标"


class InputChange(models.Model):
    inputs = models.ForeignKey(CountyInputs, models.CASCADE, related_name="changes")
    field = models.CharField("字段", max_length=64)
    old = models.JSONField("原值", null=True)
    new = models.JSONField("新值", null=True)
    reason = models.TextField("原因", blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]


class Evidence(models.Model):
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="evidence", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    item = models.CharField("指标", max_length=4, choices=ITEM_CHOICES)
    original_name = models.CharField("文件名", max_length=255)
    stored_name = models.CharField("存储名", max_length=64, unique=True)
    content_type = models.CharField("文件类型", max_length=128)
    size = models.PositiveBigIntegerField("大小")
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    #: A deleted file leaves its row (who deleted it, when) so the audit trail stays whole; the bytes are removed.
    deleted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+")
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["item", "uploaded_at", "pk"]
        indexes = [models.Index(fields=["county", "year", "item"])]
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"


class Review(models.Model):
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    item = models.CharField("指标", max_length=4, choices=ITEM_CHOICES)
    verdict = models.CharField("审核结论", max_length=8, choices=Verdict.choices)
    comment = models.TextField("审核意见", blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["county", "year", "item"])]


class VetoFinding(models.Model):
    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    code = models.CharField("否决事项", max_length=4, choices=VETO_CHOICES)
    found = models.CharField("核查结论", max_length=8, choices=Found.choices)
    evidence = models.TextField("核查情况", blank=True)
    source = models.CharField("线索来源", max_length=8, choices=FindingSource.choices)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["county", "year", "code"])]


#: The chapters the county writes for its self-evaluation report, from the one list the report itself follows.
CHAPTER_CHOICES = [(c.key, c.title) for c in CHAPTERS]


class Narrative(models.Model):
    """One chapter of the county's self-evaluation report in the county's own words (主要做法, 存在的问题, …),
    merged into the Word report at its place. ``version`` makes a save conditional, so two people editing the same
    chapter cannot overwrite each other unseen."""

    county = models.ForeignKey(OrgUnit, models.PROTECT, related_name="+", verbose_name="县（区）")
    year = models.PositiveIntegerField("统计年度")
    chapter = models.CharField("章节", max_length=16, choices=CHAPTER_CHOICES)
    text = models.TextField("正文", blank=True)
    version = models.PositiveIntegerField("版本", default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+", verbose_name="最后修改人"
    )
    updated_at = models.DateTimeField("最后修改时间", null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["county", "year", "chapter"], name="one_narrative_per_chapter"),
            models.CheckConstraint(
                condition=models.Q(chapter__in=[key for key, _ in CHAPTER_CHOICES]), name="narrative_chapter_known"
            ),
            models.CheckConstraint(condition=LessThanOrEqual(Length("text"), MAX_CHARS), name="narrative_text_capped"),
        ]
        verbose_name = "自评报告章节"
        verbose_name_plural = "自评报告章节"
