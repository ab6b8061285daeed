"""The full assessment of a county (standard-2017.md §1–8): eligibility, the four parts, the vetoes and the verdict.

- Eligibility: national basic-balance recognition at least ``[eligibility] min_years_since_basic_balance`` years
  before the assessed year (counted in calendar years: year − basic_balance_year).
- Resource allocation: the county of ``evaluate_resources`` (all units pass, every CV within its limit); a county
  without school rows cannot be judged (insufficient data), one whose schools give no evaluated unit does not pass
  (decision 7).
- Government guarantee G1–G15 and education quality Q1–Q9: ``evaluate_guarantee`` / ``evaluate_quality``; a part is
  met when every item is.
- Social recognition S1: ``recognition_positive ÷ recognition_valid`` of the county sheet (answers such as 不了解
  already left out by whoever counted them: the survey or the county), or ``recognition_rate`` when the survey
  weighted its groups, at least ``[recognition] threshold``; undecided when the survey's valid returns
  (``recognition_returns`` of ``recognition_sample``, given by the web's survey) fall short of ``valid_return_min``.
- Vetoes V1–V7 (``[vetoes]`` of the rule set): V1–V6 are findings (存在 → vetoed, 不存在 → clear, blank → not yet
  checked); V7 follows S1. A veto item is ``met`` when the situation was not found.

The verdict: ``not_met`` when any part is not met, else ``insufficient_data`` when any part cannot be judged, else
``met``. Its reasons are ranked: what fails before what is unknown; within each, vetoes, eligibility, resource
allocation (failing units, then coefficients over the limit), guarantee, quality, recognition; items in rule-set
order. Each reason names the data behind it (``ref``: ``part/code``).

>>> import polars as pl
>>> from youjun.standards import load_rule_set
>>> counties = pl.DataFrame({"year": [2024], "county_code": ["340207"], "county_name": ["示例区"],
...     "basic_balance_year": [2015], "recognition_valid": [1200], "recognition_positive": [1095]})
>>> a = assess(pl.DataFrame(), counties, load_rule_set())
>>> a.recognition.row(0, named=True)["detail"]
'认可回答 1,095 个 ÷ 有效回答 1,200 个 = 91.25%（要求不低于 85.00%），达标'
>>> a.verdict.select("eligibility", "social_recognition", "resource_allocation", "status").row(0)
('met', 'met', 'insufficient_data', 'insufficient_data')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from youjun.contract import COUNTY_COLUMNS, FINDING, SCHOOL_COLUMNS
from youjun.engine.evaluate import ResourceEvaluation, evaluate_resources
from youjun.engine.guarantee import evaluate_guarantee
from youjun.engine.items import (
    COUNTY,
    INSUFFICIENT,
    ITEM_SCHEMA,
    MET,
    MISSING_TEXT,
    NOT_MET,
    CountyCheck,
    Evaluator,
    Item,
    ItemEvaluation,
    complete_frame,
    count_text,
    county_base,
    county_item_rows,
    evaluate_items,
    need,
    number_text,
    ratio,
)
from youjun.engine.quality import evaluate_quality
from youjun.engine.recognition import RETURNS, SAMPLE, valid_return_shortfall, with_return_inputs
from youjun.errors import YoujunError
from youjun.standards.model import RuleSet

CLEAR, FOUND = FINDING  # 不存在, 存在
PARTS = (
    "eligibility",
    "resource_allocation",
    "government_guarantee",
    "education_quality",
    "social_recognition",
    "vetoes",
)
#: Two-character labels for narrow tables (a terminal, a phone).
PART_SHORT = {
    "eligibility": "资格",
    "resource_allocation": "资源",
    "government_guarantee": "保障",
    "education_quality": "质量",
    "social_recognition": "认可",
    "vetoes": "否决",
}
PART_NAMES = {
    "eligibility": "申报资格",
    "resource_allocation": "资源配置",
    "government_guarantee": "政府保障程度",
    "education_quality": "教育质量",
    "social_recognition": "社会认可度",
    "vetoes": "一票否决",
}
#: How a status reads (tables, reports, the terminal).
STATUS_NAMES = {MET: "达标", NOT_MET: "未达标", INSUFFICIENT: "数据不足"}
CONCLUSIONS = {
    MET: "达到优质均衡发展标准",
    NOT_MET: "未达到优质均衡发展标准",
    INSUFFICIENT: "数据不足，暂不能作出结论",
}
#: The order of the reasons: vetoes first (any one decides), then the parts as the method lists them.
REASON_ORDER = ("vetoes", "eligibility", "resource_allocation", "government_guarantee", "education_quality")
REASON_SCHEMA: dict[str, pl.DataType] = {
    "year": pl.Int64(),
    "county_code": pl.String(),
    "rank": pl.Int64(),
    "part": pl.String(),
    "code": pl.String(),
    "status": pl.String(),
    "message": pl.String(),
    "ref": pl.String(),
}


@dataclass(frozen=True)
class Assessment:
    """Everything the verdict of every county rests on, part by part, traceable to the inputs.

    - ``resources``: the resource-allocation evaluation (schools only);
    - ``guarantee``, ``quality``, ``vetoes``: item evaluations (``youjun.engine.items.ItemEvaluation``);
    - ``recognition`` and ``eligibility``: one item row per county (codes ``S1`` and ``eligibility``);
    - ``verdict``: one row per county: ``status``, ``conclusion`` and the status of each part (columns ``PARTS``);
    - ``reasons``: the ranked reasons per county (``REASON_SCHEMA``), empty for a county that meets the standard.
    """

    rules: RuleSet
    resources: ResourceEvaluation
    guarantee: ItemEvaluation
    quality: ItemEvaluation
    recognition: pl.DataFrame
    vetoes: ItemEvaluation
    eligibility: pl.DataFrame
    verdict: pl.DataFrame
    reasons: pl.DataFrame


def _section_item(rules: RuleSet, section: str, code: str, **defaults: str) -> Item:
    table = rules.sections.get(section)
    if not isinstance(table, Mapping) or not table:
        raise YoujunError.single("ruleset_invalid", "规则集缺少该部分的设置", field=section)
    return Item(section, code, {**defaults, **table}, rules)


def recognition_check(item: Item) -> CountyCheck:
    """S1: positive ÷ valid answers (or the survey's weighted rate) ≥ the threshold."""
    threshold = item.number("threshold")
    valid, positive, weighted = pl.col("recognition_valid"), pl.col("recognition_positive"), pl.col("recognition_rate")
    counted = pl.when(positive <= valid).then(ratio(positive, valid))  # more positive than valid: undefined
    is_weighted = weighted.is_not_null()
    value = pl.when(is_weighted).then(weighted.cast(pl.Float64)).otherwise(counted)
    shown = (
        pl.when(is_weighted)
        .then(pl.format("按群体加权的社会认可度 {}", item.rate_text(value)))
        .otherwise(
            pl.format(
                "认可回答 {} ÷ 有效回答 {} = {}",
                count_text(positive, "个"),
                count_text(valid, "个"),
                item.rate_text(counted),
            )
        )
    )
    clause = item.clause(value, threshold, shown=shown)
    # Below the valid-return minimum the sample decides nothing: S1 (and V7) undecided, with the reason.
    short, short_reason = valid_return_shortfall(
        item.number("valid_return_min"), lambda e: item.rate_text(e, "%"), number_text
    )
    detail = (
        pl.when((positive > valid).fill_null(False) & ~is_weighted)
        .then(pl.lit("认可回答数大于有效回答数，无法计算"))
        .when(short)
        .then(short_reason)
        .otherwise(clause.text)
    )
    return CountyCheck(
        ok=pl.when(short).then(pl.lit(None, pl.Boolean)).otherwise(clause.ok),
        value=pl.when(short).then(pl.lit(None, pl.Float64)).otherwise(value),
        threshold=pl.lit(threshold),
        detail=detail,
        inputs={
            "recognition_valid": valid,
            "recognition_positive": positive,
            "recognition_rate": weighted,
            RETURNS: pl.col(RETURNS),
            SAMPLE: pl.col(SAMPLE),
        },
        missing=[need("recognition_valid", ~is_weighted), need("recognition_positive", ~is_weighted)],
        boundary=clause.boundary & ~short,
    )


def eligibility_check(item: Item) -> CountyCheck:
    """Basic balance recognised at least N calendar years before the assessed year."""
    minimum = item.number("min_years_since_basic_balance")
    recognised = pl.col("basic_balance_year")
    years = pl.col("year") - recognised
    clause = item.clause(
        years,
        minimum,
        unit="年",
        shown=pl.format(
            "{} 年通过国家基本均衡认定，距评估年度 {} 年", recognised.cast(pl.String), years.cast(pl.String)
        ),
        threshold_shown=f"{minimum:g} 年",
        ok=years >= minimum,
        decimals=0,
    )
    return CountyCheck(
        ok=clause.ok,
        value=years.cast(pl.Float64),
        threshold=pl.lit(minimum),
        detail=clause.text,
        inputs={"basic_balance_year": recognised},
        missing=[need("basic_balance_year")],
    )


def finding_check(item: Item) -> CountyCheck:
    """A veto finding: 不存在 → clear (met), 存在 → vetoed (not met), blank → not yet checked."""
    key = str(item.get("finding"))
    column = pl.col(key)
    ok = pl.when(column == CLEAR).then(pl.lit(True)).when(column == FOUND).then(pl.lit(False))
    return CountyCheck(
        ok=ok.otherwise(pl.lit(None, pl.Boolean)),
        detail=pl.format("核查结论：{}", column.fill_null("未核查")),
        inputs={key: column},
        missing=[need(key)],
    )


def _follows_recognition(item: Item) -> CountyCheck:
    """V7: vetoed exactly when S1 is not met (the same figures and rule)."""
    return recognition_check(_section_item(item.rules, "recognition", "S1", unit="%", kind="survey"))


def _veto_evaluators(rules: RuleSet) -> dict[str, Evaluator]:
    table: Mapping[str, Any] = rules.sections.get("vetoes", {})
    evaluators: dict[str, Evaluator] = {}
    for code, settings in table.items():
        if "finding" in settings:
            evaluators[code] = finding_check
        elif settings.get("follows") == "recognition":
            evaluators[code] = _follows_recognition
        else:
            raise YoujunError.single(
                "ruleset_invalid",
                '一票否决条目须有 finding（核查结论列）或 follows = "recognition"',
                field=f"vetoes.{code}",
            )
    return evaluators


def _part_status(items: pl.DataFrame) -> pl.DataFrame:
    """Per county: the part's status from its items (any not met → not met; any unknown → unknown) and counts."""
    return items.group_by(COUNTY).agg(
        pl.when((pl.col("status") == NOT_MET).any())
        .then(pl.lit(NOT_MET))
        .when((pl.col("status") == INSUFFICIENT).any())
        .then(pl.lit(INSUFFICIENT))
        .otherwise(pl.lit(MET))
        .alias("status")
    )


def _item_reasons(items: pl.DataFrame, part: str, label: pl.Expr | None = None, ref: str = "") -> pl.DataFrame:
    """The items not met (or unknown) as reasons: "code name：detail", linked to ``part/code`` (or ``ref``)."""
    label = pl.concat_str(pl.col("code"), pl.lit(" "), pl.col("name")) if label is None else label
    return items.filter(pl.col("status") != MET).select(
        *COUNTY,
        pl.lit(part).alias("part"),
        "code",
        "status",
        pl.format("{}：{}", label, pl.col("detail")).alias("message"),
        (pl.lit(ref) if ref else pl.format("{}/{}", pl.lit(part), pl.col("code"))).alias("ref"),
        pl.int_range(pl.len()).over(COUNTY).alias("_order"),
    )


def _resource_reasons(ev: ResourceEvaluation, universe: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The resource part's status per county and its reasons: failing units, then coefficients over the limit."""
    counties = universe.join(ev.counties.select(*COUNTY, "units", "units_passed", "passed"), on=COUNTY, how="left")
    status = (
        pl.when(pl.col("passed").is_null())
        .then(pl.lit(INSUFFICIENT))
        .when(pl.col("passed"))
        .then(pl.lit(MET))
        .otherwise(pl.lit(NOT_MET))
    )
    counties = counties.with_columns(status.alias("status"))
    unit_message = (
        pl.when(pl.col("status") == INSUFFICIENT)
        .then(pl.lit("资源配置：学校表中无本县（区）学校，无法评估"))
        .when(pl.col("units") == 0)
        .then(pl.lit("资源配置：无纳入评估的学校单元"))
        .otherwise(
            pl.format(
                "资源配置：{} 个学校单元中 {} 个未达到校际均衡指标要求",
                pl.col("units"),
                pl.col("units") - pl.col("units_passed"),
            )
        )
    )
    failing_units = (pl.col("status") == INSUFFICIENT) | (pl.col("units") == 0)
    failing_units = failing_units | (pl.col("units_passed") < pl.col("units"))
    units = counties.filter(failing_units & (pl.col("status") != MET)).select(
        *COUNTY,
        pl.lit("resource_allocation").alias("part"),
        pl.lit("units").alias("code"),
        "status",
        unit_message.alias("message"),
        pl.lit("resource_allocation/units").alias("ref"),
        pl.lit(0, pl.Int64).alias("_order"),
    )
    pieces = [units]
    rules = ev.rules
    if ev.stages.height and f"cv_passed_{ev.codes[0]}" in ev.stages.columns:
        decimals = rules.precision.display_cv_decimals
        for position, code in enumerate(ev.codes, start=1):
            indicator = rules.indicators[code]
            over = ev.stages.filter(~pl.col(f"cv_passed_{code}"))
            stage_name = pl.col("stage").replace_strict(dict(rules.stage_names), default=pl.col("stage"))
            cv = number_text(pl.col(f"cv_{code}"), decimals)
            message = pl.format(
                "资源配置：{} {} {}差异系数 {}，超过 {}",
                stage_name,
                pl.lit(code),
                pl.lit(indicator.label),
                cv.fill_null("无法计算"),
                number_text(pl.col("cv_limit"), 2),
            )
            pieces.append(
                over.select(
                    *COUNTY,
                    pl.lit("resource_allocation").alias("part"),
                    pl.lit(code).alias("code"),
                    pl.lit(NOT_MET).alias("status"),
                    message.alias("message"),
                    pl.format("resource_allocation/{}/{}", pl.col("stage"), pl.lit(code)).alias("ref"),
                    (pl.col("stage").rank("dense").cast(pl.Int64) * 100 + position).alias("_order"),
                )
            )
    return counties.select(*COUNTY, "status"), pl.concat(pieces, how="vertical_relaxed")


def _ranked(pieces: list[pl.DataFrame]) -> pl.DataFrame:
    frame = pl.concat(pieces, how="vertical_relaxed")
    part_order = {part: i for i, part in enumerate((*REASON_ORDER, "social_recognition"))}
    frame = frame.with_columns(
        (pl.col("status") == INSUFFICIENT).alias("_tier"),
        pl.col("part").replace_strict(part_order, return_dtype=pl.Int32).alias("_part"),
    ).sort([*COUNTY, "_tier", "_part", "_order"], maintain_order=True)
    return frame.with_columns(pl.int_range(1, pl.len() + 1).over(COUNTY).cast(pl.Int64).alias("rank")).select(
        list(REASON_SCHEMA)
    )


def assess(schools: pl.DataFrame, counties: pl.DataFrame | None, rules: RuleSet) -> Assessment:
    """The full assessment of every (year, county) of the school frame or the county sheet (``县级指标``)."""
    # A county sheet without school rows still gives every frame of the resource evaluation, empty and typed.
    resources = evaluate_resources(schools if schools.height else complete_frame(schools, SCHOOL_COLUMNS), rules)
    counties = with_return_inputs(counties)  # the survey's valid returns and sample, null where not given
    guarantee = evaluate_guarantee(schools, counties, rules)
    quality = evaluate_quality(schools, counties, rules)
    vetoes = evaluate_items(schools, counties, rules, "vetoes", _veto_evaluators(rules))

    sheet = complete_frame(counties if counties is not None else pl.DataFrame(), COUNTY_COLUMNS)
    base = county_base(complete_frame(schools, SCHOOL_COLUMNS), sheet)
    s1 = _section_item(rules, "recognition", "S1", unit="%", kind="survey")
    recognition = county_item_rows(s1, recognition_check(s1), base)
    eligible = _section_item(rules, "eligibility", "eligibility", name="通过国家义务教育基本均衡发展认定满规定年限")
    eligibility = county_item_rows(eligible, eligibility_check(eligible), base)

    universe = base.select(*COUNTY, "county_name")
    resource_status, resource_reasons = _resource_reasons(resources, universe)
    parts = {
        "eligibility": eligibility.select(*COUNTY, "status"),
        "resource_allocation": resource_status,
        "government_guarantee": _part_status(guarantee.items),
        "education_quality": _part_status(quality.items),
        "social_recognition": recognition.select(*COUNTY, "status"),
        "vetoes": _part_status(vetoes.items),
    }
    verdict = universe
    for part, frame in parts.items():
        verdict = verdict.join(frame.rename({"status": part}), on=COUNTY, how="left")
    verdict = verdict.with_columns(pl.col(list(PARTS)).fill_null(INSUFFICIENT))
    statuses = [pl.col(p) for p in PARTS]
    overall = (
        pl.when(pl.any_horizontal([s == NOT_MET for s in statuses]))
        .then(pl.lit(NOT_MET))
        .when(pl.any_horizontal([s == INSUFFICIENT for s in statuses]))
        .then(pl.lit(INSUFFICIENT))
        .otherwise(pl.lit(MET))
    )
    verdict = verdict.with_columns(overall.alias("status")).with_columns(
        pl.col("status").replace_strict(CONCLUSIONS, return_dtype=pl.String).alias("conclusion")
    )
    reasons = _ranked(
        [
            _item_reasons(vetoes.items, "vetoes"),
            _item_reasons(eligibility, "eligibility", pl.lit(PART_NAMES["eligibility"]), "verdict/eligibility"),
            resource_reasons,
            _item_reasons(guarantee.items, "government_guarantee"),
            _item_reasons(quality.items, "education_quality"),
            _item_reasons(recognition, "social_recognition"),
        ]
    )
    return Assessment(rules, resources, guarantee, quality, recognition, vetoes, eligibility, verdict, reasons)


__all__ = [
    "CONCLUSIONS",
    "ITEM_SCHEMA",
    "MISSING_TEXT",
    "PARTS",
    "PART_NAMES",
    "PART_SHORT",
    "REASON_SCHEMA",
    "STATUS_NAMES",
    "Assessment",
    "assess",
]
