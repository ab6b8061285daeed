"""Typed checking of the later parts of a rule set: eligibility, guarantee G1–G15, quality Q1–Q9, recognition S1,
vetoes V1–V7 and the early-warning rules of the annual monitoring (decision 1: unknown keys are errors, so a typo
never silently falls back to the national value).

Each item code has a model that allows exactly the keys its evaluator reads (``youjun.engine.guarantee``,
``quality``, ``assessment``, ``recognition``), with their types, ranges and choices; cross-references are checked
against the workbook contract (``enumerations``): ``applies_to`` conditions, verdict and finding columns, the Q6
rating scale and the Q9 levels, and against the rule set itself (``min_rating`` ∈ ``ratings``, ``positive`` ⊆
``scale``, per-stage tables with exactly the rule set's stages, V7 following ``[recognition]``). A province may add
items: a new guarantee or quality code is judged on a reviewer's verdict (``kind = "evidence"``, its own
``*_verdict`` column allowed), a new veto follows the survey or reads a finding column of the template (the engine
gives only a verdict column the county sheet lacks blanks). ``[monitoring]`` lists the warning levels (lowest
first) and the rules, each checked by its ``kind`` (``WARNING_RULES``) with its level among the levels; it is
optional under every method (no section, no warning rules) and read typed through ``warning_rules``. The checked
tables stay plain dicts in ``RuleSet.sections``; only the problems are kept.

>>> problems = []
>>> check_sections({"eligibility": {"name": "满3年", "min_years_since_basic_balanse": 3}}, "basic-2012",
...     ("primary", "junior"), lambda key, message, value: problems.append((key, message)))
>>> for key, message in problems:
...     print(key)
...     print(" ", message)
eligibility.min_years_since_basic_balance
  缺少必填项
eligibility.min_years_since_basic_balanse
  未知的设置项（是否拼写错误？可用的设置项：min_years_since_basic_balance、name）
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

import youjun.standards.enumerations as contract
from youjun.errors import Location, Problem, YoujunError
from youjun.standards.tables import KIND_NAMES, unknown_key_message

#: Reports one problem: dotted key, Chinese message, the offending value (or None).
Fail = Callable[[str, str, object], None]

QUALITY_METHOD = "quality-2017"
YEAR_RANGE = (1900, 2100)  # as the workbook's year columns
ERROR_TYPE = "ruleset"


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError(ERROR_TYPE, message)


# ---------------------------------------------------------------------------------------------------------------
# Value types


def _rate(value: float) -> float:
    if not 0 <= value <= 1:
        raise _error("应为 0–1 之间的小数（如 0.85 表示 85%）")
    return value


def _year(value: int) -> int:
    low, high = YEAR_RANGE
    if not low <= value <= high:
        raise _error(f"应为 {low}–{high} 之间的四位年份")
    return value


def _unique(values: list[str]) -> list[str]:
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise _error("有重复项：" + "、".join(repeated))
    return values


def _among(allowed: Sequence[str], what: str) -> Callable[[list[str]], list[str]]:
    """Every value is one of ``allowed`` (an enumeration of the workbook), none repeated."""

    def check(values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise _error(f"不是工作簿中的{what}：{'、'.join(unknown)}（可用：{'、'.join(allowed)}）")
        return _unique(values)

    return check


def _whole_scale(allowed: Sequence[str], what: str) -> Callable[[list[str]], list[str]]:
    """An ordered scale (lowest first) of exactly the workbook's values: a value off the scale could not be judged."""

    def check(values: list[str]) -> list[str]:
        values = _among(allowed, what)(values)
        absent = [v for v in allowed if v not in values]
        if absent:
            raise _error(f"缺少工作簿中的{what}：{'、'.join(absent)}（填写该值的数据将无法评定）")
        return values

    return check


def _by_stage(value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
    """A per-stage table has exactly the rule set's stages (``stages`` of the validation context)."""
    stages: tuple[str, ...] = tuple((info.context or {}).get("stages", ()))
    if not stages:  # the rule set's own stages are wrong: reported there
        return value
    missing = [s for s in stages if s not in value]
    extra = [s for s in value if s not in stages]
    if missing or extra:
        parts = ([f"缺少 {'、'.join(missing)}"] if missing else []) + ([f"多出 {'、'.join(extra)}"] if extra else [])
        raise _error(f"应恰好列出本规则集的学段 {'、'.join(stages)}：{'；'.join(parts)}")
    return value


def _column(key: str, known: frozenset[str], what: str, suffix: str | None = None, example: str = "") -> str:
    """A county-sheet column an item reads: one of the template's ``known`` columns or, with a ``suffix``, a
    province's own column (``*_{suffix}``, blank unless the county sheet has it); never another template column."""
    if key in known:
        return key
    listed = "、".join(sorted(known))
    if key in contract.COUNTY_KEYS:
        raise _error(f"县级指标表中的该列不是{what}列（可用：{listed}）")
    if suffix is None:
        raise _error(f"应为县级指标表中的{what}列（可用：{listed}）")
    if not re.fullmatch(rf"[a-z][a-z0-9_]*_{suffix}", key):
        raise _error(
            f"应为县级指标表中的{what}列（如 {example}），或以 _{suffix} 结尾的省定列名（小写字母、数字、下划线）"
        )
    return key


def _verdict_column(key: str) -> str:
    return _column(key, contract.VERDICT_COLUMNS, "审核结论", "verdict", "g1_verdict")


def _finding_column(key: str) -> str:
    return _column(key, contract.FINDING_COLUMNS, "核查结论", "finding", "v1_finding")


Text = Annotated[str, Field(min_length=1)]
Rate = Annotated[float, AfterValidator(_rate)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0)]
PositiveCount = Annotated[int, Field(gt=0)]
Year = Annotated[int, AfterValidator(_year)]
SchoolTypes = Annotated[list[str], AfterValidator(_among(contract.SCHOOL_TYPES, "办学类型"))]
UrbanRural = Annotated[list[str], Field(min_length=1), AfterValidator(_among(contract.URBAN_RURAL, "城乡分类"))]
Ownership = Annotated[list[str], Field(min_length=1), AfterValidator(_among(contract.OWNERSHIP, "举办者类型"))]
YesNo = Annotated[list[str], Field(min_length=1), AfterValidator(_among(contract.YES_NO, "是/否取值"))]
StageCounts = Annotated[dict[str, PositiveCount], AfterValidator(_by_stage)]
StageRates = Annotated[dict[str, Rate], AfterValidator(_by_stage)]
StageAmounts = Annotated[dict[str, NonNegative], AfterValidator(_by_stage)]
StageAreas = Annotated[dict[str, Positive], AfterValidator(_by_stage)]
VerdictColumn = Annotated[str, AfterValidator(_verdict_column)]
FindingColumn = Annotated[str, AfterValidator(_finding_column)]


def _when_enabled(value: Any, info: ValidationInfo) -> Any:
    """A setting a switched-on relaxation needs (``enabled = true``); a switched-off one may leave it out."""
    if value is None and info.data.get("enabled") is True:
        raise _error("启用该放宽（enabled = true）时为必填项")
    return value


# ---------------------------------------------------------------------------------------------------------------
# Tables


class Table(BaseModel):
    """A rule-set table: only the declared keys, exact TOML types (no "85%" read as a number)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Condition(Table):
    """One ``applies_to`` condition: a school matches when each key given lists the school's value."""

    school_types: Annotated[SchoolTypes, Field(min_length=1)] | None = None
    urban_rural: UrbanRural | None = None
    ownership: Ownership | None = None
    boarding: YesNo | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Condition:
        if not self.model_fields_set:
            raise _error("条件至少需要一个键（" + "、".join(contract.CONDITION_VALUES) + "）")
        return self


class Item(Table):
    name: Text


class Evidence(Item):
    """G1, G10, Q5, Q7, Q8 and any item a province adds: the reviewer's verdict column."""

    kind: Literal["evidence"]
    verdict: VerdictColumn


class FourUnifications(Evidence):
    """G2: the verdict and a per-student public-funds floor per stage (0 = not checked)."""

    min_public_funds_quota: StageAmounts


class SchoolItem(Item):
    kind: Literal["school"]
    scope: Literal["resources", "all"]
    applies_to: Annotated[list[Condition], Field(min_length=1)] | None = None


class CountyItem(Item):
    kind: Literal["county"]


class RoomsRelaxation(Table):
    """G3 ``relaxation``: schools built in or before ``built_year_max`` also count rooms at the relaxed floors."""

    enabled: bool
    built_year_max: Year | None = Field(default=None, validate_default=True)
    music_room_min_area: Positive | None = None
    art_room_min_area: Positive | None = None

    @field_validator("built_year_max")
    @classmethod
    def _needed(cls, value: Any, info: ValidationInfo) -> Any:
        return _when_enabled(value, info)


class SmallRural(Table):
    """G3 ``small_rural``: schools of ``urban_rural`` whose largest class is below ``class_size_below`` also count
    rooms at the small-school floors (``room_min_area`` per stage)."""

    enabled: bool
    urban_rural: UrbanRural | None = Field(default=None, validate_default=True)
    class_size_below: PositiveCount | None = Field(default=None, validate_default=True)
    room_min_area: StageAreas | None = None

    @field_validator("urban_rural", "class_size_below")
    @classmethod
    def _needed(cls, value: Any, info: ValidationInfo) -> Any:
        return _when_enabled(value, info)


class MusicArtRooms(SchoolItem):
    """G3: music and art rooms per ``classes_per_room`` classes (the area floors describe the template's counts)."""

    classes_per_room: PositiveCount
    music_room_min_area: Positive | None = None
    art_room_min_area: Positive | None = None
    relaxation: RoomsRelaxation
    small_rural: SmallRural | None = None


class StudentLimits(Table):
    single_stage: PositiveCount
    multi_stage: PositiveCount


class SizeRelaxation(Table):
    """G4 ``relaxation``: built in or before ``built_year_max``, or migrant children above ``migrant_share_above``."""

    enabled: bool
    built_year_max: Year | None = Field(default=None, validate_default=True)
    migrant_share_above: Rate | None = Field(default=None, validate_default=True)
    max_students: StudentLimits | None = Field(default=None, validate_default=True)

    @field_validator("built_year_max", "migrant_share_above", "max_students")
    @classmethod
    def _needed(cls, value: Any, info: ValidationInfo) -> Any:
        return _when_enabled(value, info)


class SchoolSize(SchoolItem):
    """G4: compulsory students within the limit of the school type (``multi_stage_types`` or single stage)."""

    multi_stage_types: SchoolTypes
    max_students: StudentLimits
    relaxation: SizeRelaxation

    @field_validator("relaxation")
    @classmethod
    def _relaxes(cls, value: SizeRelaxation, info: ValidationInfo) -> SizeRelaxation:
        limits, relaxed = info.data.get("max_students"), value.max_students
        if not (value.enabled and limits is not None and relaxed is not None):
            return value
        if relaxed.single_stage < limits.single_stage or relaxed.multi_stage < limits.multi_stage:
            raise _error(
                f"放宽后的规模限额（{relaxed.single_stage} / {relaxed.multi_stage} 人）"
                f"不应低于标准限额（{limits.single_stage} / {limits.multi_stage} 人）"
            )
        return value


class ClassSize(SchoolItem):
    """G5: the largest class of each stage."""

    max_class_size: StageCounts


class SmallSchoolFunds(SchoolItem):
    """G6: schools under ``funded_min_students`` funded as if they had that many."""

    funded_min_students: PositiveCount


class SpecialEducationFunds(CountyItem):
    """G7: special-education public funds per student."""

    unit: Literal["元"]
    min_funds_per_student: Positive


class TeacherSalary(CountyItem):
    """G8: teacher ÷ civil-servant average salary."""

    min_salary_ratio: Positive


class TeacherRate(SchoolItem):
    """G9, G12: trained (certified) ÷ full-time teachers, per school and for the county."""

    unit: Literal["%"]
    min_rate: Rate


class TeacherRotation(CountyItem):
    """G11: rotated ÷ eligible teachers and rotated backbone ÷ rotated teachers."""

    unit: Literal["%"]
    min_rotation_rate: Rate
    min_backbone_share: Rate


class ZonedAdmission(SchoolItem):
    """G13: zoned ÷ compulsory students per stage; ``mixed_stages`` for a school with both stages."""

    unit: Literal["%"]
    min_rate: StageRates
    mixed_stages: Literal["weighted", "strictest"]


class RateAndVerdict(CountyItem):
    """G14, G15: a county rate and the reviewer's verdict on the second part."""

    verdict: VerdictColumn
    unit: Literal["%"]
    min_rate: Rate


class CountyRate(CountyItem):
    """Q1, Q2: a county rate."""

    unit: Literal["%"]
    min_rate: Rate


class CharterAndIct(SchoolItem):
    """Q3: every school answers 是."""


class TrainingFunds(SchoolItem):
    """Q4: teacher-training funds ÷ public-funds budget, per school."""

    unit: Literal["%"]
    min_share: Rate


class MoralEducation(SchoolItem):
    """Q6: the rating on ``ratings`` (lowest first, the workbook's values) at least ``min_rating``."""

    ratings: Annotated[list[str], AfterValidator(_whole_scale(contract.MORAL_RATING, "德育评价等级"))]
    min_rating: Text

    @field_validator("min_rating")
    @classmethod
    def _on_scale(cls, value: str, info: ValidationInfo) -> str:
        return _listed(value, info.data.get("ratings"), "ratings")


class Monitoring(CountyItem):
    """Q9: the lowest level on ``levels`` at least ``min_level``, the difference rate below the limit."""

    levels: Annotated[list[str], AfterValidator(_whole_scale(contract.MONITORING_LEVELS, "学业水平等级"))]
    min_level: Text
    max_difference_rate: Rate

    @field_validator("min_level")
    @classmethod
    def _on_scale(cls, value: str, info: ValidationInfo) -> str:
        return _listed(value, info.data.get("levels"), "levels")


def _listed(value: str, scale: Sequence[str] | None, key: str) -> str:
    if scale is not None and value not in scale:
        raise _error(f"应为 {key} 中的一项（{'、'.join(scale)}）")
    return value


class FindingVeto(Item):
    """V1–V6: a finding column (存在 → vetoed, 不存在 → clear, blank → not yet checked)."""

    kind: Literal["finding"]
    finding: FindingColumn


class SurveyVeto(Item):
    """V7: vetoed exactly when social recognition S1 is not met."""

    kind: Literal["survey"]
    follows: Literal["recognition"]


class Eligibility(Table):
    """Basic balance recognised at least ``min_years_since_basic_balance`` calendar years before."""

    name: Text
    min_years_since_basic_balance: Count


class RecognitionSettings(Table):
    """S1 (and V7): answer scale, positive and excluded options, threshold, sample rules, optional group weights."""

    name: Text
    threshold: Rate
    scale: Annotated[list[Text], Field(min_length=1), AfterValidator(_unique)]
    positive: Annotated[list[Text], Field(min_length=1), AfterValidator(_unique)]
    excluded: Annotated[list[Text], AfterValidator(_unique)]
    aggregation: Literal["share"]
    sample_per_mille: Positive
    sample_min: PositiveCount
    sample_min_population: Count
    parents_min_share: Rate
    valid_return_min: Rate
    group_weights: dict[str, NonNegative] | None = None

    @field_validator("positive", "excluded")
    @classmethod
    def _in_scale(cls, value: list[str], info: ValidationInfo) -> list[str]:
        scale = info.data.get("scale")
        if scale is not None and (absent := [v for v in value if v not in scale]):
            raise _error(f"不在答案选项（scale）中：{'、'.join(absent)}")
        if info.field_name == "excluded" and (both := [v for v in value if v in info.data.get("positive", ())]):
            raise _error(f"不能同时是认可选项（positive）：{'、'.join(both)}")
        return value

    @field_validator("group_weights")
    @classmethod
    def _some_weight(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value and sum(value.values()) <= 0:
            raise _error("权重总和应大于 0")
        return value


# ---------------------------------------------------------------------------------------------------------------
# Monitoring: the early-warning rules of the annual monitoring (youjun.engine.monitoring)

#: The parts of the verdict a 复查风险 rule may watch (``youjun.engine.assessment.PARTS``).
VerdictPart = Literal[
    "eligibility",
    "resource_allocation",
    "government_guarantee",
    "education_quality",
    "social_recognition",
    "vetoes",
]


def _level(value: str, info: ValidationInfo) -> str:
    """A rule's level is one of the section's ``levels`` (``levels`` of the validation context)."""
    levels: tuple[str, ...] = tuple((info.context or {}).get("levels", ()))
    if levels and value not in levels:
        raise _error(f"应为 levels 中的一级（{'、'.join(levels)}）")
    return value


class WarningRule(Table):
    """One early-warning rule (``[monitoring.rules.<code>]``): what the engine computes (``kind``), its Chinese name,
    its level and whether it is switched on; a province overrides a parameter or sets ``enabled = false``."""

    kind: str
    name: Text
    level: Annotated[Text, AfterValidator(_level)]
    enabled: bool = True


class CvNearLimit(WarningRule):
    """A difference coefficient within its limit by no more than ``margin``."""

    kind: Literal["cv_near_limit"]
    margin: Positive


class CvRising(WarningRule):
    """A difference coefficient rising ``years`` years running, each year by more than ``min_increase``."""

    kind: Literal["cv_rising"]
    years: PositiveCount
    min_increase: NonNegative


class UnitsPassingFalling(WarningRule):
    """Fewer school units passing the per-school rule than the year before (their ``share`` or their ``count``)."""

    kind: Literal["units_passing_falling"]
    measure: Literal["share", "count"]


class UnitFirstBelow(WarningRule):
    """A school unit that met an indicator's standard the year before and does not now."""

    kind: Literal["unit_first_below"]


class RecheckRisk(WarningRule):
    """A county of one of ``statuses`` (status → Chinese name) not meeting one of ``parts`` of the verdict."""

    kind: Literal["recheck_risk"]
    statuses: Annotated[dict[str, Text], Field(min_length=1)]
    parts: Annotated[list[VerdictPart], Field(min_length=1), AfterValidator(_unique)]


class SchoolSizeCap(WarningRule):
    """A school's compulsory students above the cap of its type (``multi_stage_types`` or single stage)."""

    kind: Literal["school_size"]
    multi_stage_types: SchoolTypes
    max_students: StudentLimits


class ClassSizeCap(WarningRule):
    """A stage's largest class above its cap (大班额)."""

    kind: Literal["class_size"]
    max_class_size: StageCounts


class RotationShortfall(WarningRule):
    """Rotated ÷ eligible teachers, or rotated backbone ÷ rotated teachers, below its floor."""

    kind: Literal["rotation"]
    min_rotation_rate: Rate
    min_backbone_share: Rate


class MonitoringTable(Table):
    """``[monitoring]``: the warning levels, lowest first, and the rules (each checked by its ``kind``)."""

    levels: Annotated[list[Text], Field(min_length=1), AfterValidator(_unique)]
    rules: dict[str, Any]


# ---------------------------------------------------------------------------------------------------------------
# Sections


@dataclass(frozen=True)
class ItemSection:
    """A section of coded items: the method's codes with their models, and the models of codes a province adds
    (by ``kind``)."""

    title: str
    prefix: str
    items: Mapping[str, type[Item]]
    added: Mapping[str, type[Item]]
    added_rule: str


GUARANTEE_ITEMS: dict[str, type[Item]] = {
    "G1": Evidence,
    "G2": FourUnifications,
    "G3": MusicArtRooms,
    "G4": SchoolSize,
    "G5": ClassSize,
    "G6": SmallSchoolFunds,
    "G7": SpecialEducationFunds,
    "G8": TeacherSalary,
    "G9": TeacherRate,
    "G10": Evidence,
    "G11": TeacherRotation,
    "G12": TeacherRate,
    "G13": ZonedAdmission,
    "G14": RateAndVerdict,
    "G15": RateAndVerdict,
}
QUALITY_ITEMS: dict[str, type[Item]] = {
    "Q1": CountyRate,
    "Q2": CountyRate,
    "Q3": CharterAndIct,
    "Q4": TrainingFunds,
    "Q5": Evidence,
    "Q6": MoralEducation,
    "Q7": Evidence,
    "Q8": Evidence,
    "Q9": Monitoring,
}
VETO_ITEMS: dict[str, type[Item]] = {**{f"V{i}": FindingVeto for i in range(1, 7)}, "V7": SurveyVeto}
_ADDED_EVIDENCE = '本系统没有该条目的计算规则：新增条目按审核结论评定（kind = "evidence"，以 verdict 指定审核结论列）'
ITEM_SECTIONS: dict[str, ItemSection] = {
    "guarantee": ItemSection("政府保障程度", "G", GUARANTEE_ITEMS, {"evidence": Evidence}, _ADDED_EVIDENCE),
    "quality": ItemSection("教育质量", "Q", QUALITY_ITEMS, {"evidence": Evidence}, _ADDED_EVIDENCE),
    "vetoes": ItemSection(
        "一票否决",
        "V",
        VETO_ITEMS,
        {"finding": FindingVeto, "survey": SurveyVeto},
        '新增的一票否决条目应为 kind = "finding"（以 finding 指定核查结论列）或 kind = "survey"（跟随社会认可度）',
    ),
}
TABLE_SECTIONS: dict[str, type[Table]] = {"eligibility": Eligibility, "recognition": RecognitionSettings}
WARNING_RULES: dict[str, type[WarningRule]] = {
    "cv_near_limit": CvNearLimit,
    "cv_rising": CvRising,
    "units_passing_falling": UnitsPassingFalling,
    "unit_first_below": UnitFirstBelow,
    "recheck_risk": RecheckRisk,
    "school_size": SchoolSizeCap,
    "class_size": ClassSizeCap,
    "rotation": RotationShortfall,
}
SECTIONS = ("eligibility", "guarantee", "quality", "recognition", "vetoes", "monitoring")


@dataclass(frozen=True)
class WarningRules:
    """The checked ``[monitoring]`` section: levels lowest first, and every rule (on or off) in file order."""

    levels: tuple[str, ...]
    rules: Mapping[str, WarningRule]

    def severity(self, level: str) -> int:
        return self.levels.index(level)


def warning_rules(section: Mapping[str, Any] | None, stages: Sequence[str]) -> WarningRules:
    """The typed ``[monitoring]`` section of a rule set (none: no levels, no rules); raises ``YoujunError`` with
    every problem when a table given directly (not through the loader) breaks a rule."""
    if section is None:
        return WarningRules((), {})
    problems: list[Problem] = []
    checked = _check_monitoring(
        section,
        {"stages": tuple(stages)},
        lambda key, message, value: problems.append(
            Problem(
                "ruleset_invalid", message, location=Location(field=key, value=None if value is None else str(value))
            )
        ),
    )
    if problems or checked is None:
        raise YoujunError(problems)
    return checked


def check_sections(data: Mapping[str, Any], method: str, stages: Sequence[str], fail: Fail) -> None:
    """Check the later sections of the merged rule set ``data``, reporting every problem through ``fail``.

    Under the 2017 method every section and every item code of the method is required (an item left out would
    silently drop a requirement); other methods may leave the sections out, and every method ``[monitoring]``."""
    required = method == QUALITY_METHOD
    context = {"stages": tuple(stages)}
    for section in SECTIONS:
        raw = data.get(section)
        if section == "monitoring":
            if raw is not None:
                _check_monitoring(raw, context, fail)
            continue
        if raw is None:
            if required:
                fail(section, f"缺少该表（table）：{QUALITY_METHOD} 方法需要该部分", None)
            continue
        if section in TABLE_SECTIONS:
            _validate(TABLE_SECTIONS[section], raw, section, context, fail)
        elif not isinstance(raw, dict):
            fail(section, "应为表（table）", raw)
        else:
            _check_items(section, ITEM_SECTIONS[section], raw, required, context, fail)
    vetoes = data.get("vetoes")
    if isinstance(vetoes, dict) and not isinstance(data.get("recognition"), dict):
        for code, item in vetoes.items():
            if isinstance(item, dict) and item.get("kind") == "survey":
                fail(f"vetoes.{code}.follows", "规则集没有社会认可度表（[recognition]），无从跟随", item.get("follows"))


def _check_items(
    section: str, spec: ItemSection, table: dict[str, Any], required: bool, context: dict[str, Any], fail: Fail
) -> None:
    if required:
        for code in spec.items:
            if code not in table:
                fail(f"{section}.{code}", f"缺少该条目（{spec.title}：{'、'.join(spec.items)}）", None)
    columns: dict[str, str] = {}  # verdict / finding column → the first item reading it
    for code, raw in table.items():
        path = f"{section}.{code}"
        if not re.fullmatch(rf"{spec.prefix}[1-9][0-9]*", code):
            fail(path, f"条目代码应为 {spec.prefix} 加序号（如 {spec.prefix}{len(spec.items) + 1}）", None)
        model, skip = spec.items.get(code), False
        if model is None:
            kind = raw.get("kind") if isinstance(raw, dict) else None
            model = spec.added.get(str(kind))
            if model is None:
                fail(f"{path}.kind", spec.added_rule, kind)
                model, skip = next(iter(spec.added.values())), True
        checked = _validate(model, raw, path, context, fail, skip_kind=skip)
        for key in ("verdict", "finding"):
            column = getattr(checked, key, None)
            if column is None:
                continue
            if column in columns:
                fail(f"{path}.{key}", f"该列已由 {columns[column]} 使用：每个条目应有自己的结论列", column)
            columns.setdefault(column, code)


def _check_monitoring(raw: object, context: Mapping[str, Any], fail: Fail) -> WarningRules | None:
    """Check ``[monitoring]``: its levels, then each rule by its ``kind`` (its level among the levels)."""
    table = _validate(MonitoringTable, raw, "monitoring", context, fail)
    if not isinstance(table, MonitoringTable):
        return None
    context = {**context, "levels": tuple(table.levels)}
    rules: dict[str, WarningRule] = {}
    ok = True
    for code, spec in table.rules.items():
        path = f"monitoring.rules.{code}"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", code):
            fail(path, "规则代码应为小写字母开头的小写字母、数字、下划线（如 cv_rising）", None)
            ok = False
        kind = spec.get("kind") if isinstance(spec, dict) else None
        model = WARNING_RULES.get(str(kind))
        if model is None:
            if not isinstance(spec, dict):
                fail(path, "应为表（table）", spec)
            else:
                fail(f"{path}.kind", "预警规则类型应为：" + " / ".join(WARNING_RULES), kind)
            ok = False
            continue
        checked = _validate(model, spec, path, context, fail)
        if isinstance(checked, WarningRule):
            rules[code] = checked
        else:
            ok = False
    return WarningRules(tuple(table.levels), rules) if ok else None


def _validate(
    model: type[Table],
    raw: object,
    path: str,
    context: Mapping[str, Any],
    fail: Fail,
    *,
    skip_kind: bool = False,
) -> Table | None:
    try:
        return model.model_validate(raw, context=dict(context))
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            if skip_kind and tuple(error["loc"]) == ("kind",):
                continue
            fail(_dotted(path, error["loc"]), _message(model, error), _shown(error))
        return None


# ---------------------------------------------------------------------------------------------------------------
# Messages

_TYPE_ERRORS: dict[str, type] = {
    "int_type": int,
    "float_type": float,
    "string_type": str,
    "bool_type": bool,
    "list_type": list,
}
_TABLE_ERRORS = frozenset({"model_type", "dict_type", "model_attributes_type"})


def _dotted(path: str, loc: Sequence[int | str]) -> str:
    """``guarantee.G6`` + ``("applies_to", 0, "ownership")`` → ``guarantee.G6.applies_to[0].ownership``."""
    out = path
    for part in loc:
        out = f"{out}[{part}]" if isinstance(part, int) else f"{out}.{part}" if out else str(part)
    return out


def _message(model: type[Table], error: ErrorDetails) -> str:
    """The Chinese message for one pydantic error."""
    kind, loc, ctx = error["type"], tuple(error["loc"]), error.get("ctx") or {}
    if kind == ERROR_TYPE:
        return error["msg"]
    if kind == "extra_forbidden":
        return unknown_key_message(str(loc[-1]), _keys_at(model, loc[:-1]))
    if kind == "missing":
        target = _annotation_at(model, loc)
        is_table = (isinstance(target, type) and issubclass(target, BaseModel)) or get_origin(target) is dict
        return "缺少该表（table）" if is_table else "缺少必填项"
    if kind in _TABLE_ERRORS:
        return "应为表（table）"
    if kind in _TYPE_ERRORS:
        return f"类型应为{KIND_NAMES[_TYPE_ERRORS[kind]]}"
    if kind == "literal_error":
        return "取值应为：" + " / ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    if kind == "greater_than":
        return f"应大于 {ctx['gt']}"
    if kind == "greater_than_equal":
        return f"应不小于 {ctx['ge']}"
    if kind == "too_short":
        return f"至少需要 {ctx['min_length']} 项"
    if kind == "string_too_short":
        return "不能为空"
    return "取值无效"


def _shown(error: ErrorDetails) -> object:
    """The offending value shown with the problem: not for a missing or unknown key, nor a whole table."""
    value = error.get("input")
    if error["type"] in ("missing", "extra_forbidden") or isinstance(value, dict):
        return None
    return value


def _strip(annotation: Any) -> Any:
    """``Annotated[X, …]`` and ``X | None`` → ``X``."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) != 1:
                return annotation
            annotation = rest[0]
        else:
            return annotation


def _annotation_at(model: type[BaseModel], loc: Sequence[int | str]) -> Any:
    """The declared type at ``loc`` inside ``model`` (through nested models, lists and dicts); None if unknown."""
    current: Any = model
    for part in loc:
        current = _strip(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is list:
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    return _strip(current)


def _keys_at(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    target = _annotation_at(model, loc)
    if isinstance(target, type) and issubclass(target, BaseModel):
        return list(target.model_fields)
    return []
