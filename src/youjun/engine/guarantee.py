"""Government guarantee (政府保障程度) G1–G15, standard-2017.md §4: every item must be met.

Thresholds, scopes and relaxations come from the rule set (``[guarantee.Gn]``); the shared machinery (statuses in
three-valued logic, scopes, county union, texts) is in ``youjun.engine.items``.

- G1, G10 (evidence): the reviewer's verdict (``g1_verdict``, ``g10_verdict``).
- G2: verdict, and per-student public-funds quota ≥ ``min_public_funds_quota`` of each stage where that floor > 0.
- G3 (school): music rooms ≥ ⌈classes / 12⌉ and art rooms ≥ ⌈classes / 12⌉, classes = primary + junior classes.
  Relaxations of the national procedure (on by default, decision 29): a school built in or before 2016 also counts
  the rooms reaching only the relaxed floors (``music_rooms_legacy``, ``art_rooms_legacy``, rooms *in addition to*
  the full-size ones); a rural school whose largest class is below 30 also counts those and the rooms reaching only
  the small-school floors (``music_rooms_small_rural``, ``art_rooms_small_rural``, template version 2).
- G4 (school): compulsory students (primary + junior) ≤ ``single_stage`` (小学, 初中, 教学点 and 完全中学, whose
  compulsory part is a junior school) or ``multi_stage`` (``multi_stage_types``: 九年一贯制, 十二年一贯制).
  Relaxation of the national procedure (on by default): built in or before 2010, or migrant children more than
  50 % of the compulsory students (超过: strict) → the relaxed limits (2,400 / 3,000).
- G5 (school): largest class ≤ 45 (primary) and ≤ 50 (junior), for each stage the school has students in.
- G6 (school): public 村小 (乡村 小学) and teaching points of any size with fewer than 100 compulsory students (不足:
  strict): public funds ≥ 100 × the county quota per student (``public_funds_quota_{stage}``; a school with both
  stages uses the student-weighted quota).
- G7: special-education funds per student ≥ ``min_funds_per_student`` (6000; a province may set 8000).
- G8: teacher average salary ÷ civil-servant average salary ≥ ``min_salary_ratio`` and performance pay approved
  in full (是).
- G9, G12 (school, with a county rate): trained (certified) ÷ full-time teachers of the compulsory stages, per
  school and Σ ÷ Σ for the county; the county item fails when either the county rate or any school falls short.
- G11: rotated ÷ eligible ≥ 10 % and rotated backbone ÷ rotated ≥ 20 %.
- G13 (school): urban and town (城区, 镇区) public non-boarding schools: zoned ÷ compulsory students ≥ 100 %
  (primary) / 95 % (junior). A school with both stages reports one zoned count; ``mixed_stages = "weighted"``
  (default) requires the student-weighted rate (p·100 % + j·95 %) ÷ (p + j), the least a school meeting both stage
  rates has, so it fails exactly the schools that provably miss one; ``"strictest"`` requires the higher rate.
- G14: quota allocated ÷ quality senior-high plan ≥ 50 %, and the tilt to rural junior schools (``g14_verdict``).
- G15: (migrant children in public + in purchased private places) ÷ eligible migrant children ≥ 85 %, and the
  left-behind-children care system (``g15_verdict``).

Which schools (rule set ``scope`` and ``applies_to``): G3, G4, G5, G9, G12 and G13 take the schools of the
resource evaluation (no special-education schools; teaching points from 50 students; private schools as the rule set
says); G13 then only urban and town public day schools. G6 takes every school with compulsory-stage students, then
public village primary schools and public teaching points under 100 students, however small (the item is about
them). G9 and G12 count the teachers of the compulsory stages (``teachers_primary + teachers_junior``): the trained
and certified counts must be of the same teachers. A school without teachers, or a stage with students but no
classes, cannot be checked (insufficient data), nor can a relaxation whose inputs are missing when the school needs
it (a school within the standard limit needs none).

Where only one figure fits ``value`` (G8, G11, G14, G15: the first ratio), the other part is in ``detail`` and
``inputs``. School items without a county figure (G3–G6, G13) have a null county ``value``; the counts of applicable,
failing and unchecked schools are in ``detail`` and ``inputs``.

>>> import polars as pl
>>> from youjun.standards import load_rule_set
>>> counties = pl.DataFrame({"year": [2024], "county_code": ["340207"], "county_name": ["示例区"],
...     "teacher_avg_salary": [98000.0], "civil_servant_avg_salary": [100000.0], "performance_pay_full": ["是"]})
>>> ev = evaluate_guarantee(pl.DataFrame(), counties, load_rule_set())
>>> g8 = ev.items.filter(pl.col("code") == "G8").row(0, named=True)
>>> g8["status"], g8["value"], g8["threshold"]
('not_met', 0.98, 1.0)
>>> print(g8["detail"])
教师平均工资收入 98,000 元 ÷ 公务员平均工资收入 100,000 元 = 0.98（要求不低于 1.00），未达标；足额核定绩效工资总量：是
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from youjun.engine.items import (
    MISSING_TEXT,
    Aggregate,
    CountyCheck,
    Evaluator,
    Item,
    ItemEvaluation,
    SchoolCheck,
    count_text,
    evaluate_items,
    evidence,
    need,
    ratio,
    verdict_ok,
    yes_ok,
)
from youjun.errors import YoujunError
from youjun.standards.model import RuleSet

__all__ = ["EVALUATORS", "ItemEvaluation", "evaluate_guarantee"]


def _has(stage: str) -> pl.Expr:
    """The school has students in ``stage``; a missing count counts as yes, so the stage's inputs are required."""
    return (pl.col(f"students_{stage}") > 0).fill_null(True)


def _compulsory(item: Item) -> pl.Expr:
    """Compulsory-stage students: primary + junior (null if either is missing)."""
    total = pl.lit(0, pl.Int64)
    for stage in item.rules.stages:
        total = total + pl.col(f"students_{stage}")
    return total


def _stage_sum(item: Item, base: str, *, positive: bool = False) -> pl.Expr:
    """Σ ``{base}_{stage}`` over the stages the school has students in; null when one of them is missing (or 0
    with ``positive``, e.g. no classes for a stage with students)."""
    total = pl.lit(0, pl.Int64)
    for stage in item.rules.stages:
        column = pl.col(f"{base}_{stage}")
        usable = pl.when(column > 0).then(column) if positive else column
        total = total + pl.when(_has(stage)).then(usable).otherwise(pl.lit(0, pl.Int64))
    return total


def _stage_gaps(item: Item, base: str, *, positive: bool = False) -> list[tuple[str, pl.Expr]]:
    gaps = []
    for stage in item.rules.stages:
        column = pl.col(f"{base}_{stage}")
        bad = (column.is_null() | (column <= 0)) if positive else column.is_null()
        gaps.append((f"{base}_{stage}", bad & _has(stage)))
    return gaps


def four_unifications(item: Item) -> CountyCheck:
    """G2 四统一: the verdict, and the per-student public-funds quota of each stage ≥ its floor where one is set."""
    key = str(item.get("verdict"))
    verdict = pl.col(key)
    ok = verdict_ok(verdict)
    parts = [pl.format("审核结论：{}", verdict.fill_null(MISSING_TEXT))]
    inputs: dict[str, pl.Expr] = {key: verdict}
    missing = [need(key)]
    boundary = pl.lit(False)
    for stage, floor in item.by_stage("min_public_funds_quota").items():
        if floor <= 0:
            continue
        column = f"public_funds_quota_{stage}"
        quota = item.clause(
            pl.col(column),
            floor,
            unit="元",
            shown=pl.format(
                "{}生均公用经费基准定额 {}", pl.lit(item.rules.stage_name(stage)), item.money_text(pl.col(column))
            ),
        )
        ok = ok & quota.ok
        boundary = boundary | quota.boundary
        parts.append(quota.text)
        inputs[column] = pl.col(column)
        missing.append(need(column))
    return CountyCheck(
        ok=ok, detail=pl.concat_str(parts, separator="；"), inputs=inputs, missing=missing, boundary=boundary
    )


def _largest_class(item: Item) -> pl.Expr:
    """The largest class over the stages the school has students in (null when one of them is missing)."""
    sizes = [pl.when(_has(stage)).then(pl.col(f"max_class_size_{stage}")) for stage in item.rules.stages]
    missing = pl.any_horizontal(
        [(pl.col(f"max_class_size_{stage}").is_null() & _has(stage)) for stage in item.rules.stages]
    )
    return pl.when(~missing).then(pl.max_horizontal(sizes))


def music_art_rooms(item: Item) -> SchoolCheck:
    """G3: music rooms and art rooms each ≥ ⌈classes / classes_per_room⌉ (rooms meeting the area floors).

    Relaxations of the national procedure (each switched in its own table of the rule set): ``relaxation`` — a
    school built in or before ``built_year_max`` also counts its rooms at the relaxed floors (``*_rooms_legacy``);
    ``small_rural`` — a school of ``urban_rural`` whose largest class is below ``class_size_below`` also counts
    those and the rooms reaching only the small-school floors (``*_rooms_small_rural``). The template counts each
    room once, in the highest floor it reaches, so a relaxed count adds the lower columns to the full-size ones.
    """
    per = item.number("classes_per_room")
    classes = _stage_sum(item, "classes", positive=True)
    required = (classes / per).ceil()
    music, art = pl.col("music_rooms"), pl.col("art_rooms")
    missing = [*_stage_gaps(item, "classes", positive=True), need("music_rooms"), need("art_rooms")]
    legacy_music, legacy_art = pl.col("music_rooms_legacy"), pl.col("art_rooms_legacy")
    small_music, small_art = pl.col("music_rooms_small_rural"), pl.col("art_rooms_small_rural")
    # (eligible, music counted, art counted, why) for each relaxation that is switched on, most generous last
    routes: list[tuple[pl.Expr, pl.Expr, pl.Expr, str]] = []
    legacy = item.get("relaxation")
    if legacy.get("enabled", False):
        built_max = item.number("built_year_max", legacy, "relaxation")
        eligible = pl.col("built_year") <= built_max
        routes.append((eligible, music + legacy_music, art + legacy_art, f"{built_max:.0f} 年及以前建成"))
        missing += [need("built_year"), need("music_rooms_legacy"), need("art_rooms_legacy")]
    small = item.settings.get("small_rural", {})
    if small.get("enabled", False):
        below = item.number("class_size_below", small, "small_rural")
        areas = small.get("urban_rural")
        if not isinstance(areas, list) or not areas:
            raise YoujunError.single(
                "ruleset_invalid", "urban_rural 应为城乡分类的列表", field=f"{item.section}.{item.code}.small_rural"
            )
        eligible = pl.col("urban_rural").is_in(areas) & (_largest_class(item) < below)
        routes.append(
            (
                eligible,
                music + legacy_music + small_music,
                art + legacy_art + small_art,
                f"{'、'.join(areas)}小规模学校最大班额小于 {below:.0f} 人",
            )
        )
        missing += [need("music_rooms_legacy"), need("art_rooms_legacy")]
        missing += [need("music_rooms_small_rural"), need("art_rooms_small_rural")]
    ok_music = item.at_least(music, required)
    ok_art = item.at_least(art, required)
    shown_music, shown_art, note = music, art, pl.lit("")
    for eligible, counted_music, counted_art, why in routes:
        ok_music = ok_music | (eligible & item.at_least(counted_music, required))
        ok_art = ok_art | (eligible & item.at_least(counted_art, required))
        applies = eligible.fill_null(False)
        shown_music = pl.when(applies).then(counted_music).otherwise(shown_music)
        shown_art = pl.when(applies).then(counted_art).otherwise(shown_art)
        note = pl.when(applies).then(pl.lit(f"（放宽：{why}，含达到放宽面积的教室）")).otherwise(note)
    need_text = count_text(required, "间")
    music_clause = item.clause(
        shown_music,
        required,
        unit="间",
        shown=pl.format("音乐专用教室 {}", count_text(shown_music, "间")),
        threshold_shown=need_text,
        ok=ok_music,
    )
    art_clause = item.clause(
        shown_art,
        required,
        unit="间",
        shown=pl.format("美术专用教室 {}", count_text(shown_art, "间")),
        threshold_shown=need_text,
        ok=ok_art,
    )
    detail = pl.format("班级 {}；{}；{}{}", count_text(classes, "个"), music_clause.text, art_clause.text, note)
    value = pl.when(shown_music.is_not_null() & shown_art.is_not_null()).then(pl.min_horizontal(shown_music, shown_art))
    return SchoolCheck(
        applies=pl.lit(True),
        ok=ok_music & ok_art,
        value=value,
        threshold=required,
        detail=detail,
        missing=missing,
    )


def school_size(item: Item) -> SchoolCheck:
    """G4: compulsory students ≤ the limit of the school type (single stage 2000, nine/twelve-year 2500)."""
    students = _compulsory(item)
    multi = pl.col("school_type").is_in(list(item.get("multi_stage_types")))
    limits = item.get("max_students")

    def limit_of(table: Mapping[str, object], path: str) -> pl.Expr:
        single = item.number("single_stage", table, path)
        several = item.number("multi_stage", table, path)
        return pl.when(multi).then(pl.lit(several)).otherwise(pl.lit(single))

    limit = limit_of(limits, "max_students")
    ok = item.at_most(students, limit)
    applied = limit
    missing: list[tuple[str, pl.Expr]] = []
    note = ""
    counted = pl.lit(False)
    relax = item.get("relaxation")
    if relax.get("enabled", False):
        built_max = item.number("built_year_max", relax, "relaxation")
        share_above = item.number("migrant_share_above", relax, "relaxation")
        relaxed = limit_of(item.get("max_students", relax, "relaxation"), "relaxation.max_students")
        migrant_share = ratio(pl.col("migrant_students"), students)
        eligible = (pl.col("built_year") <= built_max) | item.above(migrant_share, share_above, unit="%")
        ok = ok | (eligible & item.at_most(students, relaxed))
        counted = eligible.fill_null(False)
        applied = pl.when(counted).then(relaxed).otherwise(limit)
        note = f"，放宽：{built_max:.0f} 年及以前建成或随迁子女占比超过 {item.threshold_text(share_above, '%')}"
        missing += [need("built_year"), need("migrant_students")]
    size = item.clause(
        students,
        applied,
        "at_most",
        unit="人",
        shown=pl.format("{}义务教育阶段在校生 {}", pl.col("school_type"), count_text(students)),
        threshold_shown=count_text(applied),
        ok=ok,
        note=pl.when(counted).then(pl.lit(note)).otherwise(pl.lit("")),  # named where the relaxed limit applies
    )
    return SchoolCheck(
        applies=pl.lit(True), ok=ok, value=students, threshold=applied, detail=size.text, missing=missing
    )


def class_size(item: Item) -> SchoolCheck:
    """G5: the largest class of each stage the school has ≤ 45 (primary) / 50 (junior)."""
    limits = item.by_stage("max_class_size")
    oks, texts, excess, sizes = [], [], [], []
    for stage, limit in limits.items():
        size = pl.col(f"max_class_size_{stage}")
        clause = item.clause(
            size,
            limit,
            "at_most",
            unit="人",
            shown=pl.format("{}最大班额 {}", pl.lit(item.rules.stage_name(stage)), count_text(size)),
        )
        oks.append(pl.when(_has(stage)).then(clause.ok).otherwise(pl.lit(True)))
        texts.append(pl.when(_has(stage)).then(clause.text))
        excess.append(pl.when(_has(stage)).then(size - limit))
        sizes.append((size, limit))
    worst = pl.max_horizontal(excess)
    # value and threshold: the stage furthest above (or closest to) its limit
    value = pl.coalesce([pl.when(e == worst).then(s) for e, (s, _) in zip(excess, sizes, strict=True)])
    threshold = pl.coalesce([pl.when(e == worst).then(pl.lit(lim)) for e, (_, lim) in zip(excess, sizes, strict=True)])
    return SchoolCheck(
        applies=pl.lit(True),
        ok=pl.all_horizontal(oks),
        value=value,
        threshold=threshold,
        detail=pl.concat_str(texts, separator="；", ignore_nulls=True),
        missing=[(f"max_class_size_{s}", pl.col(f"max_class_size_{s}").is_null() & _has(s)) for s in limits],
    )


def small_school_funds(item: Item) -> SchoolCheck:
    """G6: a village school or teaching point under 100 students: public funds ≥ 100 × the quota per student."""
    funded = item.number("funded_min_students")
    students = _compulsory(item)
    weighted = pl.lit(0.0)
    quotas = []
    for stage in item.rules.stages:
        column = f"public_funds_quota_{stage}"
        quotas.append(column)
        weighted = weighted + pl.when(_has(stage)).then(pl.col(f"students_{stage}") * pl.col(column)).otherwise(0.0)
    quota = ratio(weighted, students)
    required = funded * quota
    funds = pl.col("public_funds")
    enough = item.clause(
        funds,
        required,
        unit="元",
        shown=pl.format("公用经费预算总额 {}", item.money_text(funds)),
        threshold_shown=item.money_text(required),
    )
    detail = pl.format(
        "在校生 {}，按 {} 人核定：{} × 生均公用经费基准定额 {} = {}；{}",
        count_text(students),
        pl.lit(f"{funded:.0f}"),
        pl.lit(f"{funded:.0f}"),
        item.money_text(quota),
        item.money_text(required),
        enough.text,
    )
    return SchoolCheck(
        applies=item.below(students, funded, unit="人"),
        ok=enough.ok,
        value=funds,
        threshold=required,
        detail=detail,
        missing=[need("public_funds"), *[need(q, _has(s)) for q, s in zip(quotas, item.rules.stages, strict=True)]],
        county_columns=quotas,
        boundary=enough.boundary,
    )


def special_education_funds(item: Item) -> CountyCheck:
    """G7: special-education public funds per student ≥ ``min_funds_per_student``."""
    minimum = item.number("min_funds_per_student")
    funds = pl.col("special_ed_funds_per_student")
    enough = item.clause(funds, minimum, shown=pl.format("特殊教育学校生均公用经费 {}", item.money_text(funds)))
    return CountyCheck(
        ok=enough.ok,
        value=funds,
        threshold=pl.lit(minimum),
        detail=enough.text,
        inputs={"special_ed_funds_per_student": funds},
        missing=[need("special_ed_funds_per_student")],
        boundary=enough.boundary,
    )


def teacher_salary(item: Item) -> CountyCheck:
    """G8: teacher average ÷ civil-servant average ≥ ``min_salary_ratio``, and performance pay in full (是)."""
    minimum = item.number("min_salary_ratio")
    teacher, civil, full = (
        pl.col("teacher_avg_salary"),
        pl.col("civil_servant_avg_salary"),
        pl.col("performance_pay_full"),
    )
    value = ratio(teacher, civil)
    salary = item.clause(
        value,
        minimum,
        shown=pl.format(
            "教师平均工资收入 {} ÷ 公务员平均工资收入 {} = {}",
            item.money_text(teacher),
            item.money_text(civil),
            item.rate_text(value),
        ),
    )
    detail = pl.format("{}；足额核定绩效工资总量：{}", salary.text, full.fill_null(MISSING_TEXT))
    return CountyCheck(
        ok=salary.ok & yes_ok(full),
        value=value,
        threshold=pl.lit(minimum),
        detail=detail,
        inputs={"teacher_avg_salary": teacher, "civil_servant_avg_salary": civil, "performance_pay_full": full},
        missing=[need("teacher_avg_salary"), need("civil_servant_avg_salary"), need("performance_pay_full")],
        boundary=salary.boundary,
    )


def _teacher_rate(item: Item, key: str, label: str) -> SchoolCheck:
    """G9, G12: ``key`` ÷ full-time teachers of the compulsory stages ≥ ``min_rate``, per school and for the county."""
    minimum = item.number("min_rate")
    teachers = _compulsory_teachers(item)
    count = pl.col(key)
    rate = ratio(count, teachers)
    clause = item.clause(
        rate,
        minimum,
        shown=pl.format(
            "{} {} ÷ 专任教师 {} = {}", pl.lit(label), count_text(count), count_text(teachers), item.rate_text(rate)
        ),
    )
    return SchoolCheck(
        applies=pl.lit(True),
        ok=clause.ok,
        value=rate,
        threshold=pl.lit(minimum),
        detail=clause.text,
        missing=[need(key), *[need(f"teachers_{s}") for s in item.rules.stages]],
        aggregate=Aggregate(count, teachers, label, "专任教师", minimum),
        boundary=clause.boundary,
    )


def _compulsory_teachers(item: Item) -> pl.Expr:
    total = pl.lit(0, pl.Int64)
    for stage in item.rules.stages:
        total = total + pl.col(f"teachers_{stage}")
    return total


def training_completion(item: Item) -> SchoolCheck:
    """G9: teachers with 360 hours of training in five years ÷ full-time teachers ≥ 100 %."""
    return _teacher_rate(item, "trained_360h_teachers", "近5年培训满360学时专任教师")


def teacher_rotation(item: Item) -> CountyCheck:
    """G11: rotated ÷ eligible ≥ 10 % and rotated backbone ÷ rotated ≥ 20 %."""
    rate_min = item.number("min_rotation_rate")
    share_min = item.number("min_backbone_share")
    eligible, rotated, backbone = (
        pl.col("rotation_eligible_teachers"),
        pl.col("rotated_teachers"),
        pl.col("rotated_backbone_teachers"),
    )
    rate = ratio(rotated, eligible)
    share = ratio(backbone, rotated)
    rotation = item.clause(
        rate,
        rate_min,
        shown=pl.format(
            "交流轮岗教师 {} ÷ 符合交流条件教师 {} = {}",
            count_text(rotated),
            count_text(eligible),
            item.rate_text(rate),
        ),
    )
    backbone_share = item.clause(
        share,
        share_min,
        shown=pl.format(
            "其中骨干教师 {} ÷ 交流轮岗教师 {} = {}", count_text(backbone), count_text(rotated), item.rate_text(share)
        ),
    )
    keys = ["rotation_eligible_teachers", "rotated_teachers", "rotated_backbone_teachers"]
    return CountyCheck(
        ok=rotation.ok & backbone_share.ok,
        value=rate,
        threshold=pl.lit(rate_min),
        detail=pl.format("{}；{}", rotation.text, backbone_share.text),
        inputs={k: pl.col(k) for k in keys},
        missing=[need(k) for k in keys],
        boundary=rotation.boundary | backbone_share.boundary,
    )


def certification(item: Item) -> SchoolCheck:
    """G12: full-time teachers holding a teacher's certificate ÷ full-time teachers = 100 %."""
    return _teacher_rate(item, "certified_teachers", "持教师资格证专任教师")


def zoned_admission(item: Item) -> SchoolCheck:
    """G13: zoned admissions ÷ compulsory students ≥ 100 % (primary) / 95 % (junior) in the schools it covers."""
    rates = item.by_stage("min_rate")
    mode = item.get("mixed_stages")
    students = _compulsory(item)
    if mode == "weighted":
        weighted = pl.lit(0.0)
        for stage, minimum in rates.items():
            weighted = weighted + pl.col(f"students_{stage}") * minimum
        threshold = ratio(weighted, students)
    elif mode == "strictest":
        threshold = pl.max_horizontal([pl.when(_has(s)).then(pl.lit(r)) for s, r in rates.items()])
    else:
        raise YoujunError.single(
            "ruleset_invalid",
            "mixed_stages 应为 weighted（按学生数加权）或 strictest（取高者）",
            field=f"{item.section}.{item.code}.mixed_stages",
            value=repr(mode),
        )
    zoned = pl.col("zoned_students")
    rate = ratio(zoned, students)
    both = pl.all_horizontal([_has(s) for s in rates])
    how = "、".join(f"{item.rules.stage_name(s)} {item.threshold_text(r)}" for s, r in rates.items())
    basis = f"，{how}按学生数加权" if mode == "weighted" else f"，{how}取高者"
    clause = item.clause(
        rate,
        threshold,
        shown=pl.format(
            "就近划片入学 {} ÷ 在校生 {} = {}", count_text(zoned), count_text(students), item.rate_text(rate)
        ),
        note=pl.when(both).then(pl.lit(basis)).otherwise(pl.lit("")),
    )
    return SchoolCheck(
        applies=pl.lit(True),
        ok=clause.ok,
        value=rate,
        threshold=threshold,
        detail=clause.text,
        missing=[need("zoned_students")],
        boundary=clause.boundary,
    )


def _rate_and_verdict(item: Item, numerator: list[str], denominator: str, text: str) -> CountyCheck:
    """G14, G15: Σ numerator ÷ denominator ≥ ``min_rate``, and the reviewer's verdict on the second part."""
    minimum = item.number("min_rate")
    key = str(item.get("verdict"))
    verdict = pl.col(key)
    total = pl.lit(0, pl.Int64)
    for column in numerator:
        total = total + pl.col(column)
    value = ratio(total, pl.col(denominator))
    rate = item.clause(
        value,
        minimum,
        shown=pl.format(
            text + "{}", *[count_text(pl.col(c)) for c in (*numerator, denominator)], item.rate_text(value)
        ),
    )
    keys = [*numerator, denominator, key]
    return CountyCheck(
        ok=rate.ok & verdict_ok(verdict),
        value=value,
        threshold=pl.lit(minimum),
        detail=pl.format("{}；审核结论：{}", rate.text, verdict.fill_null(MISSING_TEXT)),
        inputs={k: pl.col(k) for k in keys},
        missing=[need(k) for k in keys],
        boundary=rate.boundary,
    )


def quota_allocation(item: Item) -> CountyCheck:
    """G14: quality senior-high places allocated to junior schools ÷ the plan ≥ 50 %, and the rural tilt (verdict)."""
    return _rate_and_verdict(
        item,
        ["quality_hs_allocated"],
        "quality_hs_plan",
        "分配到初中学校的名额 {} ÷ 优质高中招生计划 {} = ",
    )


def migrant_children(item: Item) -> CountyCheck:
    """G15: (in public + in purchased private places) ÷ eligible migrant children ≥ 85 %, and the care system."""
    return _rate_and_verdict(
        item,
        ["migrant_in_public", "migrant_in_purchased"],
        "eligible_migrant_children",
        "（公办学校就读 {} + 政府购买服务民办学校就读 {}）÷ 符合条件的随迁子女 {} = ",
    )


EVALUATORS: dict[str, Evaluator] = {
    "G1": evidence,
    "G2": four_unifications,
    "G3": music_art_rooms,
    "G4": school_size,
    "G5": class_size,
    "G6": small_school_funds,
    "G7": special_education_funds,
    "G8": teacher_salary,
    "G9": training_completion,
    "G10": evidence,
    "G11": teacher_rotation,
    "G12": certification,
    "G13": zoned_admission,
    "G14": quota_allocation,
    "G15": migrant_children,
}


def evaluate_guarantee(schools: pl.DataFrame, counties: pl.DataFrame | None, rules: RuleSet) -> ItemEvaluation:
    """G1–G15 for every (year, county) of the school frame or the county sheet (``县级指标``)."""
    return evaluate_items(schools, counties, rules, "guarantee", EVALUATORS)
