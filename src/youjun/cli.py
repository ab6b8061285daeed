"""``youjun`` command line: template, check, evaluate, report, monitor, synth, standards.

Messages are Simplified Chinese; any failure reaches the user as a located Chinese message, never a traceback
(the detail of an unexpected failure goes to a log file).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import time
import traceback
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from youjun.errors import Problem, YoujunError

if TYPE_CHECKING:
    import polars as pl

    from youjun.engine.assessment import Assessment
    from youjun.engine.evaluate import ResourceEvaluation
    from youjun.io.reader import SchoolData
    from youjun.standards import RuleSet

app = typer.Typer(
    name="youjun",
    help="优均：县域义务教育优质均衡发展评估工具（教督〔2017〕6号）。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _state_home() -> Path:
    """The user's private state directory: ``$XDG_STATE_HOME`` (if absolute), else ``~/.local/state``;
    ``%LOCALAPPDATA%`` on Windows."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"])
    configured = os.environ.get("XDG_STATE_HOME", "")
    return Path(configured) if os.path.isabs(configured) else Path(os.path.expanduser("~")) / ".local" / "state"


#: Details of unexpected failures, in a directory only the user can read (0700; the file 0600, never a symlink).
LOG = _state_home() / "youjun" / "error.log"


class Format(StrEnum):
    table = "table"
    json = "json"
    xlsx = "xlsx"


Files = Annotated[list[Path], typer.Argument(help="学校年度数据表：.xlsx 或 .csv，可多个", show_default=False)]


def _print_problems(problems: list[Problem], limit: int, console: Console = err) -> None:
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for title, items, style in (("错误", errors, "red"), ("提醒", warnings, "yellow")):
        if not items:
            continue
        table = Table(title=f"{title}（{len(items)} 条）", title_style=f"bold {style}", show_lines=False, expand=False)
        for col in ("文件", "工作表", "行", "列", "值", "问题"):
            table.add_column(col, overflow="fold")
        for p in items[:limit]:
            loc = p.location
            table.add_row(
                loc.file or "",
                loc.sheet or "",
                "" if loc.row is None else str(loc.row),
                loc.column or loc.field or "",
                loc.value or "",
                Text(p.message, style=style),
            )
        console.print(table)
        if len(items) > limit:
            console.print(f"[{style}]……另有 {len(items) - limit} 条{title}未显示（可用 --limit 调整）[/]")


def _read(files: list[Path]) -> SchoolData:
    from youjun.io.reader import read_school_data

    with err.status("正在读取并校验数据……", spinner="dots"):
        return read_school_data(files)


@app.command()
def template(
    out_path: Annotated[Path, typer.Argument(metavar="OUT.xlsx", help="输出的空白模板文件")],
) -> None:
    """生成空白的学校年度数据表模板（含中文表头、单位、下拉选项和填表说明）。"""
    from youjun.io.workbook import write_template

    write_template(out_path)
    out.print(f"已生成模板：{out_path}")


@app.command()
def check(
    files: Files,
    limit: Annotated[int, typer.Option(help="每类最多显示的问题条数")] = 50,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="没有错误时只输出一行")] = False,
) -> None:
    """校验学校年度数据表：列出所有错误（位置精确到工作表、行、列）和提醒。有错误时退出码为 1。"""
    import polars as pl

    try:
        data = _read(files)
    except YoujunError as exc:
        _print_problems(exc.problems, limit, out)
        out.print(f"[bold red]校验未通过：{len(exc.errors)} 个错误，数据未导入。[/]")
        raise typer.Exit(1) from None
    schools = data.schools
    if not quiet:
        _print_problems(list(data.warnings), limit, out)
    keys = schools.select("year", "county_code")
    if data.counties is not None:
        keys = pl.concat([keys, data.counties.select("year", "county_code")])
    counties = keys.unique().height
    out.print(
        f"[bold green]校验通过[/]：{schools.height} 所学校，{counties} 个县（区）年度，"
        f"{len(data.warnings)} 条提醒需确认或说明。"
    )


@app.command()
def evaluate(
    files: Files,
    standard: Annotated[str, typer.Option("--standard", "-s", help="规则集标识或规则集文件路径")] = "national-2017",
    fmt: Annotated[Format, typer.Option("--format", "-f", help="输出格式")] = Format.table,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="输出文件（json 缺省输出到标准输出）")] = None,
    limit: Annotated[int, typer.Option(help="表格输出时展开的县数和每县列出的未达标学校数")] = 20,
) -> None:
    """评估资源配置（R1–R7）：逐校达标、校际差异系数、差距清单和影响最大的学校。

    数据含「县级指标」表时，另评估政府保障程度（G1–G15）、教育质量（Q1–Q9）、社会认可度（S1）、
    一票否决事项（V1–V7）和申报资格，并给出总体结论及原因。
    """
    from youjun.engine.evaluate import evaluate_resources
    from youjun.standards import load_rule_set

    rules = load_rule_set(standard)
    data = _read(files)
    full = data.counties is not None and "guarantee" in rules.sections and bool(rules.sections["guarantee"])
    if full:  # the county parts are imported only when there is a county sheet
        from youjun.engine.assessment import assess
    started = time.perf_counter()
    assessment = assess(data.schools, data.counties, rules) if full else None
    ev = assessment.resources if assessment is not None else evaluate_resources(data.schools, rules)
    elapsed = time.perf_counter() - started
    if fmt is Format.json:
        from youjun.io.evaluation_json import write_json

        result = assessment if assessment is not None else ev
        if out_path is None:
            sys.stdout.flush()
            write_json(result, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            write_json(result, out_path)
            err.print(f"已写出评估结果 JSON：{out_path}")
    elif fmt is Format.xlsx:
        from youjun.io.report_xlsx import write_report

        target = out_path or Path("评估报告.xlsx")
        with err.status("正在写出 Excel 报告……", spinner="dots"):
            write_report(ev, target)
        err.print(f"已写出 Excel 报告：{target}")
    else:
        _render(ev, limit)
        if assessment is not None:
            _render_verdicts(assessment, limit)
        out.print(f"[dim]规则集：{rules.name}（{rules.id}）；评估用时 {elapsed:.2f} 秒。[/]")
    if data.warnings and fmt is not Format.json:
        err.print(f"[yellow]数据有 {len(data.warnings)} 条提醒，请用 youjun check 查看并确认。[/]")


STATUS_STYLES = {"met": "green", "not_met": "bold red", "insufficient_data": "yellow"}


def _status(status: str) -> Text:
    from youjun.engine.assessment import STATUS_NAMES

    return Text(STATUS_NAMES.get(status, status), style=STATUS_STYLES.get(status, ""))


def _render_verdicts(a: Assessment, limit: int) -> None:
    """The full assessment: one row per county with each part's status and the conclusion, then the reasons."""
    from youjun.engine.assessment import PART_SHORT, PARTS

    table = Table(title="县域义务教育优质均衡发展综合评估", title_style="bold")
    for col in ("年度", "代码", "县（区）", *(PART_SHORT[p] for p in PARTS), "结论"):
        table.add_column(col, no_wrap=col in ("代码", "县（区）"))
    verdict = a.verdict
    for row in verdict.head(max(limit, 50)).iter_rows(named=True):
        conclusion = _status(row["status"])
        cells = [_status(row[p]) for p in PARTS]
        table.add_row(str(row["year"]), row["county_code"], row["county_name"], *cells, conclusion)
    out.print(table)
    met = verdict.filter(verdict["status"] == "met").height
    out.print(f"[bold]{met} / {verdict.height}[/] 个县（区）达到优质均衡发展标准。")
    reasons = a.reasons
    for row in verdict.head(limit).iter_rows(named=True):
        mine = reasons.filter((reasons["year"] == row["year"]) & (reasons["county_code"] == row["county_code"]))
        if mine.height == 0:
            continue
        out.print(f"[bold]{row['county_name']}（{row['county_code']}，{row['year']} 年）未达到或无法判定的原因：[/]")
        for r in mine.head(limit).iter_rows(named=True):
            style = STATUS_STYLES[r["status"]]
            out.print(f"  {r['rank']}. [{style}]{r['message']}[/]")
        if mine.height > limit:
            out.print(f"  ……共 {mine.height} 条，完整清单请用 --format json。")


def _fmt(value: float | None, decimals: int) -> str:
    from youjun.formatting import number

    return number(value, decimals)


def _render(ev: ResourceEvaluation, limit: int) -> None:
    import polars as pl

    from youjun.io.report import shortfalls

    rules = ev.rules
    precision = rules.precision
    codes = ev.codes
    counties = ev.counties
    short = shortfalls(ev)
    summary = Table(title="县域资源配置评估汇总", title_style="bold")
    for col in ("年度", "代码", "县（区）", "评估单元", "达标单元", "差异系数超限", "结论"):
        summary.add_column(col, justify="right" if col in ("评估单元", "达标单元") else "left")
    over = (
        ev.stages.unpivot(index=["year", "county_code", "stage"], on=[f"cv_passed_{c}" for c in codes])
        .filter(~pl.col("value"))
        .group_by(["year", "county_code"])
        .len()
        if f"cv_passed_{codes[0]}" in ev.stages.columns
        else pl.DataFrame({"year": [], "county_code": [], "len": []})
    )
    over_map = {(r[0], r[1]): r[2] for r in over.iter_rows()}
    for row in counties.head(max(limit, 50)).iter_rows(named=True):
        key = (row["year"], row["county_code"])
        verdict: str | Text = Text("达标", style="bold green") if row["passed"] else Text("未达标", style="bold red")
        summary.add_row(
            str(row["year"]),
            row["county_code"],
            row["county_name"],
            str(row["units"]),
            str(row["units_passed"]),
            str(over_map.get(key, 0)),
            verdict,
        )
    out.print(summary)
    if counties.height > max(limit, 50):
        out.print(f"……共 {counties.height} 个县（区）年度，其余未显示；完整结果请用 --format xlsx 或 json。")
    passed = counties.filter(pl.col("passed")).height
    out.print(f"[bold]{passed} / {counties.height}[/] 个县（区）资源配置达标。")

    for row in counties.head(limit).iter_rows(named=True):
        key = (row["year"], row["county_code"])
        stages = ev.stages.filter((pl.col("year") == key[0]) & (pl.col("county_code") == key[1]))
        verdict = "[green]达标[/]" if row["passed"] else "[red]未达标[/]"
        table = Table(title=f"{row['county_name']}（{row['county_code']}，{row['year']} 年）资源配置：{verdict}")
        table.add_column("指标")
        found = {s["stage"]: s for s in stages.iter_rows(named=True)}
        stage_rows = {stage: found[stage] for stage in rules.stages if stage in found}
        for stage in rules.stages:
            if stage in stage_rows:
                s = stage_rows[stage]
                name = rules.stage_name(stage)
                table.add_column(f"{name}县域值", justify="right")
                table.add_column(f"{name}差异系数", justify="right")
        for code, ind in rules.indicators.items():
            cells: list[str | Text] = [f"{code} {ind.label}"]
            for stage in rules.stages:
                if stage not in stage_rows:
                    continue
                s = stage_rows[stage]
                cells.append(_fmt(s[f"county_value_{code}"], precision.display_value_decimals))
                cv_text = _fmt(s[f"cv_{code}"], precision.display_cv_decimals)
                if f"cv_passed_{code}" in s:
                    ok = s[f"cv_passed_{code}"]
                    mark = (" ✓" if ok else " ✗") + (" ⚠临界" if s[f"cv_boundary_{code}"] else "")
                    cells.append(Text(cv_text + mark, style="green" if ok else "bold red"))
                else:
                    cells.append(cv_text)
            table.add_row(*cells)
        if "composite" in stages.columns:
            cells = ["综合差异系数"]
            for stage in rules.stages:
                if stage in stage_rows:
                    s = stage_rows[stage]
                    cells += [
                        "",
                        f"{_fmt(s['composite'], precision.display_cv_decimals)}（≤{s['composite_limit']}）",
                    ]
            table.add_row(*cells)
        line = "，".join(
            f"{rules.stage_name(s['stage'])} {s['units_passed']}/{s['units']} 个单元达标"
            + ("" if s.get("cv_limit") is None else f"、差异系数限值 ≤ {s['cv_limit']:.2f}")
            for s in stage_rows.values()
        )
        out.print(table)
        out.print(f"  {line}")
        if short.height:
            failing = short.filter((pl.col("year") == key[0]) & (pl.col("county_code") == key[1]) & ~pl.col("passed"))
            if failing.height:
                lines = (
                    failing.group_by(["school_id", "school_name", "stage"], maintain_order=True)
                    .agg(pl.col("indicator"), pl.col("shortfall"), pl.col("unit"), pl.col("boundary"))
                    .head(limit)
                )
                fail_table = Table(title="未达标学校及差距", title_style="red")
                for col in ("学校", "学段", "差距（达到标准还需）"):
                    fail_table.add_column(col, overflow="fold")
                for r in lines.iter_rows(named=True):
                    gaps = "；".join(
                        f"{c} {_fmt(v, 0 if rules.indicators[c].integral else precision.display_value_decimals)} {u}"
                        + (" ⚠临界" if b else "")
                        for c, v, u, b in zip(r["indicator"], r["shortfall"], r["unit"], r["boundary"], strict=True)
                    )
                    fail_table.add_row(r["school_name"], rules.stage_name(r["stage"]), gaps)
                out.print(fail_table)
                total = failing.select("school_id", "stage").unique().height
                if total > lines.height:
                    out.print(f"  ……另有 {total - lines.height} 个未达标学校单元，完整清单见 Excel 报告。")
    if counties.height > limit:
        out.print(f"[dim]仅展开前 {limit} 个县（区），可用 --limit 调整。[/]")


class Document(StrEnum):
    report = "report"
    annex = "annex"
    application = "application"


DOCUMENT_NAMES = {
    Document.report: ("自评报告", ".docx"),
    Document.annex: ("评估附表", ".xlsx"),
    Document.application: ("申报表", ".docx"),
}


@app.command()
def report(
    files: Files,
    county: Annotated[str, typer.Option("--county", "-c", help="县级区划代码（6 位）", show_default=False)],
    kind: Annotated[
        Document, typer.Option("--kind", "-k", help="report 自评报告 / annex 评估附表 / application 申报表")
    ] = (Document.report),
    year: Annotated[int | None, typer.Option(help="评估年度（缺省为数据中该县的最近年度）")] = None,
    standard: Annotated[str, typer.Option("--standard", "-s", help="规则集标识或规则集文件路径")] = "national-2017",
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="输出文件（缺省按县名和文件类型命名）")] = None,
    xlsx: Annotated[bool, typer.Option("--xlsx", help="申报表输出为 Excel（缺省 Word）")] = False,
) -> None:
    """生成一个县的自评报告（Word，含图表）、评估附表（Excel）或申报表（Word / Excel）。需要「县级指标」表。"""
    import polars as pl

    from youjun.engine import assess
    from youjun.io.evaluation_json import to_dict
    from youjun.standards import load_rule_set

    rules = load_rule_set(standard)
    data = _read(files)
    if data.counties is None:
        raise YoujunError.single("no_county_sheet", "生成报告需要「县级指标」表（县级指标、一票否决核查结论等）")
    mine = pl.col("county_code") == county
    schools = data.schools.filter(mine)
    counties = data.counties.filter(mine)
    years = sorted(set(schools["year"].to_list()) | set(counties["year"].to_list()))
    if not years:
        raise YoujunError.single("unknown_county", "数据中没有该县（区）", field="county", value=county)
    chosen = year if year is not None else years[-1]
    if chosen not in years:
        raise YoujunError.single(
            "unknown_year", f"数据中该县（区）只有 {'、'.join(map(str, years))} 年度", value=str(chosen)
        )
    at = pl.col("year") == chosen
    with err.status("正在评估并生成文件……", spinner="dots"):
        doc = to_dict(assess(schools.filter(at), counties.filter(at), rules))["counties"][0]
        content, suffix = _document(kind, doc, schools.filter(at), counties.filter(at), xlsx, rules)
    name, _ = DOCUMENT_NAMES[kind]
    target = out_path or Path(f"{doc['county_name']}{chosen}年{name}{suffix}")
    from youjun.io.targets import check_target

    check_target(target).write_bytes(content)
    out.print(f"已生成{name}：{target}（{doc['verdict']['conclusion']}）")


def _document(
    kind: Document,
    county: dict[str, Any],
    schools: pl.DataFrame,
    counties: pl.DataFrame,
    xlsx: bool,
    rules: RuleSet,
) -> tuple[bytes, str]:
    from youjun.io.documents import assessment_annex_xlsx, self_evaluation_docx

    if kind is Document.report:
        return self_evaluation_docx(county, rules), ".docx"
    if kind is Document.annex:
        return assessment_annex_xlsx(county, rules), ".xlsx"
    from youjun.forms import form_docx, form_xlsx, load_form, make_context, prefill, registry_summary

    inputs = counties.to_dicts()[0] if counties.height else {}
    context = make_context(
        county={"code": county["county_code"], "name": county["county_name"]},
        evaluation=county,
        inputs=inputs,
        registry=registry_summary(schools),
    )
    form = load_form("application-2019")
    values = prefill(form, context)
    return (form_xlsx(form, values), ".xlsx") if xlsx else (form_docx(form, values), ".docx")


@app.command()
def monitor(
    files: Files,
    years: Annotated[
        str | None,
        typer.Option("--years", "-y", help="监测的年度，如 2019-2025 或 2023,2024（缺省：数据中的全部年度）"),
    ] = None,
    standard: Annotated[str, typer.Option("--standard", "-s", help="规则集标识或规则集文件路径")] = "national-2017",
    fmt: Annotated[Format, typer.Option("--format", "-f", help="输出格式")] = Format.table,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="输出文件（json 缺省输出到标准输出）")] = None,
    limit: Annotated[int, typer.Option(help="表格输出时列出的预警条数")] = 50,
    grades: Annotated[Path | None, typer.Option("--grades", help="分年级在校生 CSV（给出时预测今后各年）")] = None,
    births: Annotated[
        Path | None, typer.Option("--births", help="各县出生人口 CSV（一年级按六年前出生人口推算）")
    ] = None,
    horizon: Annotated[int, typer.Option(help="预测年数", min=1, max=10)] = 5,
    county: Annotated[str | None, typer.Option("--county", help="生成该县的年度监测报告（与 --report 同用）")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="年度监测报告（Word）的输出文件")] = None,
) -> None:
    """年度监测与预警：多个年度的数据（一个或多个文件）逐年评估，给出各县逐年的指标序列和预警事项。

    预警规则取自规则集的 [monitoring] 部分（差异系数接近限值、连续上升、达标单元减少、学校指标首次低于标准、
    学校规模和大班额、教师交流轮岗等）；数据含「县级指标」表时另评估各部分并给出复查风险。
    """
    from youjun import cli_monitor
    from youjun.standards import load_rule_set

    rules = load_rule_set(standard)
    chosen = cli_monitor.parse_years(years)
    data = _read(files)
    if (county is None) != (report is None):
        raise YoujunError.single(
            "monitor_report", "生成年度监测报告须同时给出 --county 县级区划代码 和 --report 输出文件"
        )
    with err.status("正在逐年评估并计算监测序列……", spinner="dots"):
        frames, found = cli_monitor.monitor(data.schools, data.counties, rules, chosen)
        fc = None
        if grades is not None:
            born = cli_monitor.read_births(births) if births is not None else None
            fc = cli_monitor.project(data.schools, cli_monitor.read_grades(grades), born, rules, horizon)
    if county is not None and report is not None:
        cli_monitor.write_report(frames, found, rules, county, report, fc)
        err.print(f"已写出年度监测报告：{report}")
    if fmt is Format.json:
        cli_monitor.write_json(frames, found, out_path, fc)
        if out_path is not None:
            err.print(f"已写出监测结果 JSON：{out_path}")
    elif fmt is Format.xlsx:
        target = out_path or Path("年度监测.xlsx")
        cli_monitor.write_xlsx(frames, found, rules, target, fc)
        err.print(f"已写出年度监测附表：{target}")
    else:
        cli_monitor.render(out, frames, found, limit)
        if fc is not None:
            cli_monitor.render_forecast(out, fc, limit)


@app.command()
def plan(
    files: Files,
    county: Annotated[str | None, typer.Option("--county", "-c", help="县级区划代码（数据只有一个县时可省略）")] = None,
    standard: Annotated[str, typer.Option("--standard", "-s", help="规则集标识或规则集文件路径")] = "national-2017",
    costs: Annotated[
        Path | None, typer.Option("--costs", help="单价文件（TOML，键名同 standards/costs.toml；缺省用示例单价）")
    ] = None,
    limits: Annotated[
        Path | None,
        typer.Option("--limits", help="各校上限 CSV：学校标识码、可新建用房面积、可新增场地面积（㎡，空白为不限）"),
    ] = None,
    max_teachers: Annotated[
        int | None, typer.Option("--max-teachers", help="全县最多新增教师数（编制）", min=0)
    ] = None,
    budget: Annotated[float | None, typer.Option("--budget", help="预算上限（元）", min=0)] = None,
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="cost 最低费用；rotation 仅交流轮岗；combined 先轮岗、再补充；budget 预算内最大达标（需 --budget）",
        ),
    ] = "cost",
    eligible: Annotated[
        int | None,
        typer.Option("--eligible", help="符合交流条件教师数（缺省取县级指标表，再缺省为全县专任教师数）", min=0),
    ] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", help="求解时间上限（秒）", min=1)] = 60.0,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="输出格式")] = Format.table,
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="输出文件（json 缺省输出到标准输出）")] = None,
) -> None:
    """达标规划：一个县（区）最近年度的数据，求新增教师、校舍、场地、设备和多媒体教室的最低费用方案。

    约束：每个学校单元达到逐校标准（至少 6 项达标、其余不低于 85%），各学段各项差异系数不超过限值；可给出各校
    建设和场地上限、全县编制和预算上限。用精确求解器（SCIP）求解并给出最优性差距，方案经评估引擎复核达标。
    """
    from youjun import cli_plan
    from youjun.engine.planner import Limits, load_costs
    from youjun.engine.planner import plan as make_plan
    from youjun.io.plan_workbook import write_xlsx
    from youjun.standards import load_rule_set

    rules = load_rule_set(standard)
    unit_costs = load_costs(costs)
    caps = (
        cli_plan.read_limits(limits, max_teachers, budget)
        if limits is not None
        else Limits(max_teachers=max_teachers, budget=budget)
    )
    data = _read(files)
    if eligible is None and data.counties is not None and "rotation_eligible_teachers" in data.counties.columns:
        import polars as pl

        chosen = data.counties.filter(pl.col("county_code") == county) if county else data.counties
        known = chosen["rotation_eligible_teachers"].drop_nulls()
        eligible = int(known[0]) if known.len() == 1 else None
    with err.status("正在求解达标方案……", spinner="dots"):
        result = make_plan(
            data.schools,
            rules,
            county=county,
            costs=unit_costs,
            limits=caps,
            time_limit=time_limit,
            mode=mode,
            eligible=eligible,
        )
    if fmt is Format.json:
        cli_plan.write_json(result, out_path)
        if out_path is not None:
            err.print(f"已写出达标方案 JSON：{out_path}")
    elif fmt is Format.xlsx:
        target = out_path or Path("达标方案.xlsx")
        write_xlsx(result, rules, target)
        err.print(f"已写出达标方案：{target}")
    else:
        cli_plan.render(out, result, rules)


@app.command()
def synth(
    counties: Annotated[int, typer.Option(help="县（区）数量")] = 12,
    seed: Annotated[int, typer.Option(help="随机种子（相同种子生成相同数据）")] = 2024,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="输出文件：.csv 或 .xlsx")] = Path("synthetic.csv"),
    year: Annotated[
        int | None, typer.Option(help="统计年度（缺省 2024；与 --years 二选一）", show_default=False)
    ] = None,
    years: Annotated[
        str | None,
        typer.Option(help="年度范围，如 2019-2025：生成同一批县（区）和学校逐年演变的多年度数据", show_default=False),
    ] = None,
    province: Annotated[str | None, typer.Option(help="只生成某省（2 位代码，如 34）")] = None,
) -> None:
    """生成确定性的模拟数据（全国或一个省），用于演示和性能测试。

    只给 --year（或都不给）时生成一个年度：.csv 写出学校表，.xlsx 写出「学校」「县级指标」两张表。

    给 --years（如 2019-2025）时，同一批县（区）和学校（学校标识码不变）逐年演变：

    乡村学校在校生逐年减少，镇区、城区学校增加；全国小学在校生 2023 年达到高峰，初中约 2026 年。

    教师退休、补充、交流轮岗，骨干教师数变化；个别学校新建校舍或运动场，设备值逐年增长；个别乡村小规模学校撤并。

    每个年度一个文件，文件名为输出文件名加「-年度」：

    --out 数据.csv 写出 数据-2019.csv（学校表）和 数据-2019-县级指标.csv，依此类推；

    --out 数据.xlsx 写出 数据-2019.xlsx（「学校」「县级指标」两张表），依此类推。

    另写出 数据-分年级在校生.csv（各校各年度一至九年级在校生）和 数据-出生人口.csv（各县逐年出生人口）。

    评估全部年度：youjun evaluate 数据-20*.csv（或 数据-20*.xlsx）。
    """
    from youjun.io.synth import generate, write_csv

    if years is not None:
        if year is not None:
            raise YoujunError.single("SYNTH_YEARS", "--year 与 --years 只能给出一个", field="synth")
        _synth_years(counties, seed, out_path, years, province)
        return
    with err.status("正在生成模拟数据……", spinner="dots"):
        data = generate(counties, seed, year=2024 if year is None else year, province=province)
        if out_path.suffix.lower() == ".xlsx":
            from youjun.contract import COUNTY_SHEET, SCHOOL_SHEET
            from youjun.io.workbook import write_data_workbook

            write_data_workbook(out_path, {SCHOOL_SHEET: data.schools, COUNTY_SHEET: data.counties})
        else:
            write_csv(data.schools, out_path)
    out.print(f"已生成 {data.schools.height} 所学校、{data.counties.height} 个县（区）的模拟数据：{out_path}")


def _synth_years(counties: int, seed: int, out_path: Path, years: str, province: str | None) -> None:
    """``synth --years``: one file per year (and its county sheet), the grades and the births beside them."""
    from youjun.contract import COUNTY_SHEET, SCHOOL_SHEET
    from youjun.io.synth import write_csv
    from youjun.io.synth_years import BIRTHS_HEADERS, GRADE_HEADERS, parse_years, synth_years, write_table_csv
    from youjun.io.targets import check_target
    from youjun.io.workbook import write_data_workbook

    span = parse_years(years)
    suffix = out_path.suffix or ".csv"
    xlsx = suffix.lower() == ".xlsx"

    def beside(tail: str, ext: str) -> Path:
        return check_target(out_path.with_name(f"{out_path.stem}-{tail}{ext}"))

    with err.status("正在生成多年度模拟数据……", spinner="dots"):
        run = synth_years(counties, span, seed, province=province)
        written: list[Path] = []
        for y in run.years:
            target = beside(str(y), suffix)
            if xlsx:
                write_data_workbook(target, {SCHOOL_SHEET: run.schools[y], COUNTY_SHEET: run.counties[y]})
                written.append(target)
            else:
                county_target = beside(f"{y}-{COUNTY_SHEET}", suffix)
                write_csv(run.schools[y], target)
                write_csv(run.counties[y], county_target)
                written += [target, county_target]
        grades, births = beside("分年级在校生", ".csv"), beside("出生人口", ".csv")
        write_table_csv(run.grades, GRADE_HEADERS, grades)
        write_table_csv(run.births, BIRTHS_HEADERS, births)
    first, last = run.years[0], run.years[-1]
    heights = [run.schools[y].height for y in run.years]
    out.print(
        f"已生成 {first}–{last} 年 {run.counties[first].height} 个县（区）的模拟数据"
        f"（学校数 {heights[0]} → {heights[-1]}），共 {len(written)} 个文件："
    )
    for path in [*written, grades, births]:
        out.print(f"  {path}")


@app.command()
def standards() -> None:
    """列出内置的规则集（国家标准、2012 年基本均衡办法和省级示例）。"""
    from youjun.standards import available_rule_sets, load_rule_set

    table = Table(title="内置规则集")
    for col in ("标识", "名称", "继承自"):
        table.add_column(col)
    for rid in available_rule_sets():
        rules = load_rule_set(rid)
        table.add_row(rid, rules.name, " → ".join(s.removesuffix(".toml") for s in rules.sources[:-1]) or "—")
    out.print(table)


USAGE_PHRASES = (
    ("No such option", "没有这个选项"),
    ("No such command", "没有这个命令"),
    ("Missing argument", "缺少参数"),
    ("Missing option", "缺少选项"),
    ("Invalid value for", "取值无效："),
    ("Got unexpected extra argument", "多余的参数"),
    ("Option", "选项"),
    ("requires an argument", "需要一个值"),
    ("is not a valid integer", "不是有效的整数"),
    ("is not one of", "不在可选范围内："),
    ("Did you mean", "您是否想输入"),
)


def _usage_message(text: str) -> str:
    for english, chinese in USAGE_PHRASES:
        text = text.replace(english, chinese)
    return text


#: Causes of file-system errors, in words (errno → Chinese).
OS_ERROR_CAUSES = {
    errno.ENOENT: "文件或目录不存在",
    errno.EACCES: "没有权限（请检查文件和目录的权限，或文件是否正被 Excel 等程序打开）",
    errno.EPERM: "操作不被允许（请检查文件和目录的权限）",
    errno.ENOSPC: "磁盘空间不足",
    errno.EDQUOT: "超出磁盘配额",
    errno.EROFS: "所在的文件系统是只读的",
    errno.EISDIR: "这是一个目录，不是文件",
    errno.ENOTDIR: "路径中有一部分不是目录",
    errno.EEXIST: "文件已存在",
    errno.EFBIG: "文件超过了允许的大小",
    errno.ENAMETOOLONG: "文件名过长",
    errno.ELOOP: "符号链接层级过多",
    errno.EBUSY: "文件正被其他程序占用",
    errno.ETXTBSY: "文件正被其他程序占用",
    errno.EMFILE: "打开的文件过多",
    errno.ENFILE: "打开的文件过多",
    errno.EIO: "读写存储设备时出错",
    errno.EXDEV: "不能跨文件系统移动文件",
}
#: Errors raised without an errno (Polars raises the built-in classes with only a message).
_OS_ERROR_CLASSES = (
    (FileNotFoundError, errno.ENOENT),
    (IsADirectoryError, errno.EISDIR),
    (NotADirectoryError, errno.ENOTDIR),
    (PermissionError, errno.EACCES),
    (FileExistsError, errno.EEXIST),
)
#: Temporary files the writers create next to the target (``.name.<hex>.tmp.xlsx``, ``name.partial``).
_TEMPORARY_NAME = re.compile(r"^\..+\.[0-9a-f]{8,}\.tmp\.\w+$|\.partial$")


def _os_error(exc: BaseException) -> OSError | None:
    """The file-system error behind ``exc``: itself, its cause or context, or the error a library wrapped
    (xlsxwriter's ``FileCreateError(e)``)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError):
            return current
        pending += [current.__cause__, current.__context__, *(a for a in current.args if isinstance(a, BaseException))]
    return None


def _output_argument(argv: list[str]) -> str | None:
    """The output path the command line names (``--out`` / ``-o``, or ``template``'s argument), if any."""
    for index, arg in enumerate(argv):
        if arg in ("--out", "-o") and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith("--out="):
            return arg.removeprefix("--out=")
    positional = [arg for arg in argv[1:] if not arg.startswith("-")]
    return positional[1] if len(positional) > 1 and positional[0] == "template" else None


def _describe_os_error(error: OSError, output: str | None = None) -> str:
    """「path」：cause, in Chinese. A writer's temporary file is reported as the directory it was written to; an
    error that names no file (a failed write) is reported with the command's output path."""
    number = error.errno or next((n for cls, n in _OS_ERROR_CLASSES if isinstance(error, cls)), None)
    cause = OS_ERROR_CAUSES.get(number) if number is not None else None
    if cause is None:
        name = errno.errorcode.get(number, str(number)) if number is not None else type(error).__name__
        cause = f"操作系统报告错误 {name}"
    filename = error.filename2 if number == errno.EISDIR and error.filename2 else error.filename
    if filename is None:  # Polars: "No such file or directory (os error 2): /path"
        found = re.search(r"\(os error \d+\): (.+)$", str(error))
        filename = found.group(1) if found else None
    if filename is None and output is not None:
        return f"无法写出文件「{output}」：{cause}。"
    if filename is None:
        return f"读写文件或标准输出时失败：{cause}。"
    path = Path(os.fsdecode(filename))
    temporary = bool(_TEMPORARY_NAME.search(path.name))
    if number == errno.ENOENT and not path.parent.is_dir():
        missing = path.parent
        while not missing.parent.is_dir() and missing.parent != missing:
            missing = missing.parent
        what = "" if temporary else f"，无法写出文件「{path}」"
        return f"目录「{missing}」不存在{what}。"
    if temporary:
        return f"无法在目录「{path.parent}」中写出文件：{cause}。"
    return f"文件「{path}」无法读写：{cause}。"


def _log_failure() -> bool:
    """Append the current exception's traceback to ``LOG``; False when that is not possible.

    The directory is created 0700 and must be a real directory owned by the user; the file is opened with
    ``O_NOFOLLOW`` and mode 0600, so a symlink planted there cannot redirect the write to another file.
    """
    try:
        LOG.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(LOG.parent)
        if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
            return False
        if stat.S_IMODE(info.st_mode) & 0o077:
            os.chmod(LOG.parent, 0o700)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        descriptor = os.open(LOG, flags, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as log:
            if not stat.S_ISREG(os.fstat(log.fileno()).st_mode):
                return False
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} unexpected failure: {sys.argv}\n")
            log.write(traceback.format_exc())
    except OSError:
        return False
    return True


def main() -> None:
    """Entry point: every failure becomes a Chinese message and an exit code, never a traceback.

    Exit codes: 0 done, 1 input or file-system error (the message names the path and the cause), 2 wrong usage,
    3 unexpected failure (details in ``LOG``), 130 cancelled.
    """
    try:
        code = typer.main.get_command(app).main(prog_name="youjun", standalone_mode=False)
    except YoujunError as exc:
        _print_problems(exc.problems, 50)
        err.print(f"[bold red]输入有误：{len(exc.errors) or len(exc.problems)} 个问题，未进行处理。[/]")
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("已取消。")
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # a usage error of the command parser
            err.print(f"[red]命令用法有误：{_usage_message(exc.format_message())}[/]")
            err.print("运行 [bold]youjun --help[/] 或 [bold]youjun 命令 --help[/] 查看用法。")
            sys.exit(2)
        os_error = _os_error(exc)
        if os_error is not None:
            message = _describe_os_error(os_error, _output_argument(sys.argv))
            err.print(Text(message + "处理已中止。", style="bold red"), soft_wrap=True)
            sys.exit(1)
        # The last line of defence: log the detail, show a clear message.
        if _log_failure():
            message = f"程序内部错误，处理已中止。详细信息已记录到 {LOG}，请反馈给维护人员。"
        else:
            message = f"程序内部错误，处理已中止。详细信息无法写入日志文件 {LOG}。"
        err.print(Text(message, style="bold red"), soft_wrap=True)
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
