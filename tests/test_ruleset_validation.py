"""Rule sets fully validated (decision 1): every key of every section is typed and checked, so a province file with
a typo is refused with its file and dotted key instead of silently using the national value."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from conftest import frame
from test_guarantee import counties, county, good_school
from youjun.engine import assess
from youjun.engine import guarantee as guarantee_engine
from youjun.engine import items as items_engine
from youjun.engine import quality as quality_engine
from youjun.engine.items import Item, SchoolCheck
from youjun.engine.recognition import recognition_rules
from youjun.errors import Problem, YoujunError
from youjun.standards import available_rule_sets, load_rule_set
from youjun.standards.loader import BUILTIN_DIR
from youjun.standards.sections import GUARANTEE_ITEMS, QUALITY_ITEMS, Condition

HEADER = 'id = "test-province"\nextends = "national-2017"\nname = "测试省细则"\n'
NATIONAL_TEXT = (BUILTIN_DIR / "national-2017.toml").read_text(encoding="utf-8")


def province(tmp_path: Path, body: str, name: str = "province.toml", header: str = HEADER) -> Path:
    path = tmp_path / name
    path.write_text(header + body, encoding="utf-8")
    return path


def standalone(tmp_path: Path, old: str, new: str) -> Path:
    """The national rule set as a file of its own, with one passage changed (a key a variant cannot remove)."""
    assert old in NATIONAL_TEXT, old
    path = tmp_path / "standalone.toml"
    path.write_text(NATIONAL_TEXT.replace(old, new, 1).replace('id = "national-2017"', 'id = "standalone"'), "utf-8")
    return path


def refused(path: Path) -> dict[str, Problem]:
    """The problems of a refused rule-set file, by dotted key."""
    with pytest.raises(YoujunError) as caught:
        load_rule_set(path)
    problems = caught.value.problems
    assert all(p.code == "ruleset_invalid" and p.severity == "error" for p in problems)
    return {p.location.field or "": p for p in problems}


def only(path: Path, key: str) -> Problem:
    problems = refused(path)
    assert set(problems) == {key}, [p.describe() for p in problems.values()]
    return problems[key]


# ---------------------------------------------------------------------------------------------------------------
# A typo in every section and every item kind


#: (table, misspelt key, the key meant): each guarantee and quality item (every evaluator kind), eligibility,
#: recognition, both kinds of veto, the G3/G4 relaxation tables and an ``applies_to`` condition.
TYPOS = [
    ("eligibility", "min_years_since_basic_balanse = 3", "min_years_since_basic_balance"),
    ("guarantee.G1", 'verdikt = "g1_verdict"', "verdict"),
    ("guarantee.G2", "min_public_funds_quotas = { primary = 600, junior = 800 }", "min_public_funds_quota"),
    ("guarantee.G3", "classes_per_rooms = 10", "classes_per_room"),
    ("guarantee.G3.relaxation", "built_year_maks = 2018", "built_year_max"),
    ("guarantee.G3.small_rural", "class_size_bellow = 35", "class_size_below"),
    ("guarantee.G4", "max_student = { single_stage = 1800, multi_stage = 2200 }", "max_students"),
    ("guarantee.G4.relaxation", "migrant_share_abuve = 0.4", "migrant_share_above"),
    ("guarantee.G5", "max_class_sizes = { primary = 40, junior = 45 }", "max_class_size"),
    ("guarantee.G6", "funded_min_student = 120", "funded_min_students"),
    ("guarantee.G7", "min_funds_per_studnet = 8000", "min_funds_per_student"),
    ("guarantee.G8", "min_salary_ration = 1.1", "min_salary_ratio"),
    ("guarantee.G9", 'applies_to = [{ school_type = ["小学"] }]', "school_types"),
    ("guarantee.G10", 'verdit = "g10_verdict"', "verdict"),
    ("guarantee.G11", "min_rotation_rat = 0.15", "min_rotation_rate"),
    ("guarantee.G12", "min_rates = 0.98", "min_rate"),
    ("guarantee.G13", 'mixed_stage = "strictest"', "mixed_stages"),
    ("guarantee.G14", "min_rat = 0.6", "min_rate"),
    ("guarantee.G15", 'verdicts = "g15_verdict"', "verdict"),
    ("quality.Q1", "min_rat = 0.97", "min_rate"),
    ("quality.Q2", 'unti = "%"', "unit"),
    ("quality.Q3", 'scoep = "all"', "scope"),
    ("quality.Q4", "min_shares = 0.06", "min_share"),
    ("quality.Q5", 'verdikt = "q5_verdict"', "verdict"),
    ("quality.Q6", 'min_ratings = "优秀"', "min_rating"),
    ("quality.Q7", 'naem = "课程开齐开足"', "name"),
    ("quality.Q8", 'knid = "evidence"', "kind"),
    ("quality.Q9", "max_difference_rates = 0.1", "max_difference_rate"),
    ("recognition", "treshold = 0.95", "threshold"),
    ("vetoes.V1", 'findings = "v1_finding"', "finding"),
    ("vetoes.V7", 'follow = "recognition"', "follows"),
]


def _typo_key(table: str, line: str) -> str:
    key = line.split(" = ")[0]
    if key == "applies_to":
        return f"{table}.applies_to[0].school_type"
    return f"{table}.{key}"


@pytest.mark.parametrize(("table", "line", "meant"), TYPOS, ids=[t[0] for t in TYPOS])
def test_a_typo_in_any_section_is_refused_with_file_key_and_the_key_meant(
    tmp_path: Path, table: str, line: str, meant: str
) -> None:
    key = _typo_key(table, line)
    problem = only(province(tmp_path, f"[{table}]\n{line}\n"), key)
    assert problem.location.file == "province.toml"
    assert problem.message.startswith(f"未知的设置项（是否拼写错误？可用的设置项：{meant}、"), problem.message
    assert problem.describe().startswith(f"文件「province.toml」，字段「{key}」：未知的设置项")


def test_the_g7_typo_names_every_key_g7_allows(tmp_path: Path) -> None:
    problem = only(
        province(tmp_path, "[guarantee.G7]\nmin_funds_per_studnet = 8000\n"), "guarantee.G7.min_funds_per_studnet"
    )
    assert problem.message == "未知的设置项（是否拼写错误？可用的设置项：min_funds_per_student、name、kind、unit）"


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    body = "".join(f"[{table}]\n{line}\n" for table, line, _ in TYPOS)
    body += '[balance]\ncv_limitt = 1\n[precision]\ncompare = "rouned"\n'  # and the early parts of the same file
    with pytest.raises(YoujunError) as caught:
        load_rule_set(province(tmp_path, body))
    problems = caught.value.problems
    expected = {_typo_key(table, line) for table, line, _ in TYPOS} | {"balance.cv_limitt", "precision.compare"}
    assert sorted(p.location.field or "" for p in problems) == sorted(expected)  # one error, each problem once
    assert {p.location.file for p in problems} == {"province.toml"}
    assert str(caught.value).endswith(f"（另有 {len(expected) - 1} 个问题）")


# ---------------------------------------------------------------------------------------------------------------
# Types and ranges


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        ('[guarantee.G7]\nmin_funds_per_student = "8000"\n', "guarantee.G7.min_funds_per_student", "类型应为数值"),
        ("[guarantee.G7]\nmin_funds_per_student = -1\n", "guarantee.G7.min_funds_per_student", "应大于 0"),
        ("[guarantee.G9]\nmin_rate = 100\n", "guarantee.G9.min_rate", "应为 0–1 之间的小数（如 0.85 表示 85%）"),
        ('[quality.Q4]\nmin_share = "5%"\n', "quality.Q4.min_share", "类型应为数值"),
        ("[guarantee.G13.min_rate]\njunior = 1.2\n", "guarantee.G13.min_rate.junior", "应为 0–1 之间的小数"),
        ("[guarantee.G4.max_students]\nsingle_stage = 2000.5\n", "guarantee.G4.max_students.single_stage", "整数"),
        ("[guarantee.G5.max_class_size]\nprimary = 0\n", "guarantee.G5.max_class_size.primary", "应大于 0"),
        (
            "[guarantee.G2.min_public_funds_quota]\njunior = -5\n",
            "guarantee.G2.min_public_funds_quota.junior",
            "应不小于 0",
        ),
        ('[guarantee.G3.relaxation]\nenabled = "yes"\n', "guarantee.G3.relaxation.enabled", "类型应为布尔值"),
        ("[guarantee.G3.relaxation]\nbuilt_year_max = 16\n", "guarantee.G3.relaxation.built_year_max", "1900–2100"),
        ("[guarantee.G3]\nrelaxation = 5\n", "guarantee.G3.relaxation", "应为表（table）"),
        ("[guarantee]\nG7 = 8000\n", "guarantee.G7", "应为表（table）"),
        ('[guarantee.G6]\napplies_to = { ownership = ["公办"] }\n', "guarantee.G6.applies_to", "类型应为列表"),
        ("[guarantee.G6]\napplies_to = []\n", "guarantee.G6.applies_to", "至少需要 1 项"),
        ('[guarantee.G6]\nname = ""\n', "guarantee.G6.name", "不能为空"),
        ('[guarantee.G13]\nmixed_stages = "average"\n', "guarantee.G13.mixed_stages", "取值应为：weighted / strictest"),
        ('[guarantee.G6]\nscope = "everything"\n', "guarantee.G6.scope", "取值应为：resources / all"),
        ('[guarantee.G7]\nkind = "school"\n', "guarantee.G7.kind", "取值应为：county"),
        ('[guarantee.G9]\nunit = "‰"\n', "guarantee.G9.unit", "取值应为：%"),
        ('[vetoes.V7]\nfollows = "survey"\n', "vetoes.V7.follows", "取值应为：recognition"),
        ('[vetoes.V7]\nkind = "finding"\n', "vetoes.V7.kind", "取值应为：survey"),
        ('[quality.Q9]\nmax_difference_rate = "0.15"\n', "quality.Q9.max_difference_rate", "类型应为数值"),
        (
            "[eligibility]\nmin_years_since_basic_balance = -1\n",
            "eligibility.min_years_since_basic_balance",
            "应不小于 0",
        ),
        ("[eligibility]\nmin_years_since_basic_balance = true\n", "eligibility.min_years_since_basic_balance", "整数"),
        ("[eligibility]\nmin_years_since_basic_balance = 2.5\n", "eligibility.min_years_since_basic_balance", "整数"),
        ("[recognition]\nthreshold = 1.5\n", "recognition.threshold", "应为 0–1 之间的小数"),
        ("[recognition]\nsample_min = 0\n", "recognition.sample_min", "应大于 0"),
        ('[recognition]\naggregation = "mean"\n', "recognition.aggregation", "取值应为：share"),
        ("[recognition.group_weights]\nparents = -1\n", "recognition.group_weights.parents", "应不小于 0"),
        ("[recognition.group_weights]\nparents = 0\n", "recognition.group_weights", "权重总和应大于 0"),
    ],
)
def test_wrong_types_and_values_out_of_range_are_refused(tmp_path: Path, body: str, key: str, message: str) -> None:
    problem = only(province(tmp_path, body), key)
    assert message in problem.message
    assert problem.location.file == "province.toml"


def test_the_offending_value_is_shown_with_the_problem(tmp_path: Path) -> None:
    problem = only(province(tmp_path, "[guarantee.G9]\nmin_rate = 100\n"), "guarantee.G9.min_rate")
    assert problem.location.value == "100"
    assert "值「100」" in problem.describe()


# ---------------------------------------------------------------------------------------------------------------
# Cross-references: the workbook's enumerations and columns, the rule set's own scales and stages


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        (
            '[guarantee.G6]\napplies_to = [{ ownership = ["国有"] }]\n',
            "guarantee.G6.applies_to[0].ownership",
            "不是工作簿中的举办者类型：国有（可用：公办、民办）",
        ),
        (
            '[guarantee.G6]\napplies_to = [{ school_types = ["高中"] }]\n',
            "guarantee.G6.applies_to[0].school_types",
            "办学类型",
        ),
        (
            '[guarantee.G13]\napplies_to = [{ urban_rural = ["农村"] }]\n',
            "guarantee.G13.applies_to[0].urban_rural",
            "城乡",
        ),
        ('[guarantee.G13]\napplies_to = [{ boarding = ["可能"] }]\n', "guarantee.G13.applies_to[0].boarding", "是/否"),
        ("[guarantee.G6]\napplies_to = [{}]\n", "guarantee.G6.applies_to[0]", "条件至少需要一个键"),
        ('[guarantee.G4]\nmulti_stage_types = ["一贯制学校"]\n', "guarantee.G4.multi_stage_types", "办学类型"),
        ('[guarantee.G3.small_rural]\nurban_rural = ["农村"]\n', "guarantee.G3.small_rural.urban_rural", "城乡分类"),
        (
            '[quality.Q6]\nmin_rating = "很好"\n',
            "quality.Q6.min_rating",
            "应为 ratings 中的一项（不合格、合格、良好、优秀）",
        ),
        (
            '[quality.Q6]\nratings = ["不合格", "合格", "良好"]\n',
            "quality.Q6.ratings",
            "缺少工作簿中的德育评价等级：优秀",
        ),
        ('[quality.Q9]\nmin_level = "Ⅴ"\n', "quality.Q9.min_level", "应为 levels 中的一项"),
        ('[quality.Q9]\nlevels = ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ"]\n', "quality.Q9.levels", "不是工作簿中的学业水平等级：Ⅴ"),
        (
            '[recognition]\npositive = ["满意", "非常满意"]\n',
            "recognition.positive",
            "不在答案选项（scale）中：非常满意",
        ),
        ('[recognition]\nexcluded = ["满意"]\n', "recognition.excluded", "不能同时是认可选项（positive）：满意"),
        ('[recognition]\nscale = ["满意", "满意", "不满意"]\n', "recognition.scale", "有重复项：满意"),
        ('[guarantee.G1]\nverdict = "public_funds_quota_primary"\n', "guarantee.G1.verdict", "不是审核结论列"),
        ('[guarantee.G1]\nverdict = "G1-verdict"\n', "guarantee.G1.verdict", "以 _verdict 结尾"),
        ('[guarantee.G10]\nverdict = "g1_verdict"\n', "guarantee.G10.verdict", "该列已由 G1 使用"),
        ('[vetoes.V1]\nfinding = "g1_verdict"\n', "vetoes.V1.finding", "不是核查结论列"),
        ('[vetoes.V1]\nfinding = "V9-Finding"\n', "vetoes.V1.finding", "或以 _finding 结尾的省定列名"),
        ('[vetoes.V2]\nfinding = "v1_finding"\n', "vetoes.V2.finding", "该列已由 V1 使用"),
        ("[guarantee.G5.max_class_size]\nsenior = 55\n", "guarantee.G5.max_class_size", "多出 senior"),
        (
            "[guarantee.G4.relaxation.max_students]\nsingle_stage = 1800\n",
            "guarantee.G4.relaxation",
            "放宽后的规模限额（1800 / 3000 人）不应低于标准限额（2000 / 2500 人）",
        ),
        (
            '[guarantee.G16]\nname = "省定条目"\nkind = "evidence"\nverdict = "g16_verdict"\n[guarantee.X1]\n'
            'name = "代码有误"\nkind = "evidence"\nverdict = "x1_verdict"\n',
            "guarantee.X1",
            "条目代码应为 G 加序号",
        ),
        ('[scope]\nexcluded_school_types = ["特教学校"]\n', "scope.excluded_school_types", "不是工作簿中的办学类型"),
        (
            '[relaxations.R3_itinerant]\nwhen = [{ urban_rural = ["农村"] }]\n',
            "relaxations.R3_itinerant.when[0].urban_rural",
            "城乡分类",
        ),
        ('[stage_names]\nhigh = "高中"\n', "stage_names.high", "未知学段"),
    ],
)
def test_cross_references_are_checked(tmp_path: Path, body: str, key: str, message: str) -> None:
    problem = only(province(tmp_path, body), key)
    assert message in problem.message, problem.message


def test_a_province_item_without_an_evaluator_must_be_judged_on_a_verdict(tmp_path: Path) -> None:
    problems = refused(province(tmp_path, '[guarantee.G16]\nname = "省定条目"\nkind = "county"\nmin_rate = 0.9\n'))
    assert set(problems) == {"guarantee.G16.kind", "guarantee.G16.min_rate", "guarantee.G16.verdict"}
    assert "本系统没有该条目的计算规则" in problems["guarantee.G16.kind"].message
    assert problems["guarantee.G16.verdict"].message == "缺少必填项"
    veto = refused(province(tmp_path, '[vetoes.V8]\nname = "省定否决"\nkind = "other"\n'))
    assert set(veto) == {"vetoes.V8.kind", "vetoes.V8.finding"}
    assert 'kind = "finding"' in veto["vetoes.V8.kind"].message


def test_a_switched_on_relaxation_needs_its_settings_a_switched_off_one_does_not(tmp_path: Path) -> None:
    full = "relaxation = { enabled = true, built_year_max = 2016, music_room_min_area = 73, art_room_min_area = 67 }"
    problem = only(
        standalone(tmp_path, full, "relaxation = { enabled = true }"), "guarantee.G3.relaxation.built_year_max"
    )
    assert problem.message == "启用该放宽（enabled = true）时为必填项"
    assert problem.location.file == "standalone.toml"
    rules = load_rule_set(standalone(tmp_path, full, "relaxation = { enabled = false }"))
    assert rules.sections["guarantee"]["G3"]["relaxation"] == {"enabled": False}


def test_missing_settings_items_and_sections_are_errors_not_defaults(tmp_path: Path) -> None:
    problem = only(standalone(tmp_path, 'mixed_stages = "weighted"\n', ""), "guarantee.G13.mixed_stages")
    assert problem.message == "缺少必填项"
    assert only(standalone(tmp_path, "threshold = 0.85\n", ""), "recognition.threshold").message == "缺少必填项"
    g3 = "relaxation = { enabled = true, built_year_max = 2016, music_room_min_area = 73, art_room_min_area = 67 }\n"
    assert only(standalone(tmp_path, g3, ""), "guarantee.G3.relaxation").message == "缺少该表（table）"
    no_g9 = NATIONAL_TEXT[NATIONAL_TEXT.index("[guarantee.G9]") : NATIONAL_TEXT.index("[guarantee.G10]")]
    assert "缺少该条目" in only(standalone(tmp_path, no_g9, ""), "guarantee.G9").message
    no_stage = "max_class_size = { primary = 45, junior = 50 }"
    problem = only(standalone(tmp_path, no_stage, "max_class_size = { primary = 45 }"), "guarantee.G5.max_class_size")
    assert problem.message == "应恰好列出本规则集的学段 primary、junior：缺少 junior"


def test_v7_cannot_follow_a_recognition_table_the_rule_set_lacks(tmp_path: Path) -> None:
    without = NATIONAL_TEXT[NATIONAL_TEXT.index("[recognition]") :]
    problems = refused(standalone(tmp_path, without, ""))
    assert set(problems) == {"recognition", "vetoes.V7.follows"}
    assert "缺少该表" in problems["recognition"].message


# ---------------------------------------------------------------------------------------------------------------
# Which file a problem belongs to


def test_each_problem_names_the_variant_that_introduced_the_key(tmp_path: Path) -> None:
    province(
        tmp_path,
        '[guarantee.G16]\nname = "省定条目"\nkind = "evidence"\n'  # its verdict column is missing: this file's
        "[guarantee.G9]\nmin_rate = 2\n"  # left as it is by the city file
        '[guarantee.G8]\nmin_salary_ratio = "1"\n',  # replaced by the city file
        name="a.toml",
    )
    city = province(
        tmp_path,
        '[guarantee.G16]\nname = "改名的省定条目"\n'
        "[guarantee.G8]\nmin_salary_ratio = 0\n"
        "[guarantee.G7]\nmin_funds_per_studnet = 9000\n",
        name="b.toml",
        header='id = "city"\nextends = "a.toml"\nname = "某市"\n',
    )
    files = {key: p.location.file for key, p in refused(city).items()}
    assert files == {
        "guarantee.G16.verdict": "a.toml",
        "guarantee.G9.min_rate": "a.toml",
        "guarantee.G8.min_salary_ratio": "b.toml",
        "guarantee.G7.min_funds_per_studnet": "b.toml",
    }


# ---------------------------------------------------------------------------------------------------------------
# What loads, and what the engine can rely on


def test_the_shipped_rule_sets_load() -> None:
    assert {"national-2017", "basic-2012", "example-province-2017"} <= set(available_rule_sets())
    for rid in available_rule_sets():
        rules = load_rule_set(rid)
        assert rules.id == rid
        if rules.method == "quality-2017":
            assert set(rules.sections) == {"eligibility", "guarantee", "quality", "recognition", "vetoes", "monitoring"}
    assert load_rule_set("example-province-2017").sections["guarantee"]["G7"]["min_funds_per_student"] == 8000


def test_a_valid_province_may_add_items_and_switch_relaxations_off(tmp_path: Path) -> None:
    rules = load_rule_set(
        province(
            tmp_path,
            '[guarantee.G16]\nname = "省定条目"\nkind = "evidence"\nverdict = "g16_verdict"\n'
            '[vetoes.V8]\nname = "省定否决事项"\nkind = "survey"\nfollows = "recognition"\n'
            "[guarantee.G3.relaxation]\nenabled = false\n[guarantee.G3.small_rural]\nenabled = false\n"
            "[guarantee.G4.relaxation]\nenabled = false\n"
            '[guarantee.G13]\nmixed_stages = "strictest"\n[recognition.group_weights]\nparents = 2\nstudents = 1\n',
        )
    )
    # Every evaluator finds every setting it reads: no rule-set error at run time.
    findings = {f"v{i}_finding": "不存在" for i in range(1, 7)}
    result = assess(frame([good_school()]), counties([county(**findings)]), rules)
    statuses = dict(pl.concat([result.guarantee.items, result.vetoes.items]).select("code", "status").iter_rows())
    assert statuses["G16"] == "insufficient_data"  # its verdict column is not in the sheet
    assert statuses["V8"] == statuses["V7"]  # both follow S1
    assert statuses["G1"] == statuses["V1"] == "met"


def test_every_shipped_rule_set_evaluates_without_rule_set_errors() -> None:
    for rid in available_rule_sets():
        rules = load_rule_set(rid)
        if rules.method == "quality-2017":
            assert assess(frame([good_school()]), counties([county()]), rules).verdict.height == 1


def test_the_models_cover_exactly_the_engine_evaluators() -> None:
    assert set(GUARANTEE_ITEMS) == set(guarantee_engine.EVALUATORS)
    assert set(QUALITY_ITEMS) == set(quality_engine.EVALUATORS)
    assert set(Condition.model_fields) == set(items_engine._CONDITION_COLUMNS)
    rules = load_rule_set("national-2017")
    for section, evaluators in (("guarantee", guarantee_engine.EVALUATORS), ("quality", quality_engine.EVALUATORS)):
        for code, settings in rules.sections[section].items():
            check = evaluators[code](Item(section, code, settings, rules))
            assert isinstance(check, SchoolCheck) == (settings["kind"] == "school"), code


def test_recognition_rules_have_no_defaults_of_their_own() -> None:
    section = dict(load_rule_set("national-2017").sections["recognition"])
    assert recognition_rules(section).threshold == section["threshold"]
    for key in ("threshold", "scale", "sample_min", "name"):
        with pytest.raises(ValueError, match=re.escape(f"recognition.{key}")):
            recognition_rules({k: v for k, v in section.items() if k != key})


def test_loaded_rule_sets_do_not_share_tables_and_an_edited_file_is_read_again(tmp_path: Path) -> None:
    first = load_rule_set("national-2017")
    first.sections["guarantee"]["G7"]["min_funds_per_student"] = 1
    assert load_rule_set("national-2017").sections["guarantee"]["G7"]["min_funds_per_student"] == 6000
    path = province(tmp_path, "[guarantee.G7]\nmin_funds_per_student = 8000\n")
    assert load_rule_set(path).sections["guarantee"]["G7"]["min_funds_per_student"] == 8000
    province(tmp_path, "[guarantee.G7]\nmin_funds_per_student = 9000\n")
    assert load_rule_set(path).sections["guarantee"]["G7"]["min_funds_per_student"] == 9000


def test_a_province_may_add_a_veto_with_its_own_finding_column(tmp_path: Path) -> None:
    """The engine reads a province's own finding column (blank — not yet checked — when the sheet lacks it)."""
    path = tmp_path / "province.toml"
    path.write_text(
        'id = "p"\nextends = "national-2017"\nname = "省细则"\n'
        '[vetoes.V8]\nname = "违规补课"\nkind = "finding"\nfinding = "v8_finding"\n',
        encoding="utf-8",
    )
    rules = load_rule_set(str(path))
    counties = pl.DataFrame({"year": [2024], "county_code": ["340207"], "county_name": ["示例区"]})
    vetoes = assess(pl.DataFrame(), counties, rules).vetoes.items
    v8 = vetoes.filter(pl.col("code") == "V8").row(0, named=True)
    assert (v8["status"], v8["detail"]) == ("insufficient_data", "数据不足：缺少「v8_finding」")
    found = counties.with_columns(pl.lit("存在").alias("v8_finding"))
    v8 = assess(pl.DataFrame(), found, rules).vetoes.items.filter(pl.col("code") == "V8").row(0, named=True)
    assert v8["status"] == "not_met"
