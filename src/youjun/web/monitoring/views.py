"""The monitoring pages: the nation (the ministry), a province or prefecture (a heat map of its counties × the
stages' indicators coloured by the margin to the limit, sparklines, movers, filters by prefecture and warning level)
and a county (each indicator's series, its warnings). Pages read the province's snapshot; when it is behind the
stored results they say so and have it recomputed in the background."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from youjun.engine.forecast import STAGE_NAMES
from youjun.errors import YoujunError
from youjun.web.accounts.models import Role
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.downloads.views import offer
from youjun.web.evaluation import selectors as evaluation
from youjun.web.evaluation.pages import fmt
from youjun.web.exports import XLSX, content_disposition
from youjun.web.monitoring import charts, documents, forecasting, maps, services
from youjun.web.monitoring.models import Snapshot, Warning
from youjun.web.organisation import boundaries
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.shortcuts import evaluator_required, message_page, problem_messages, user_of
from youjun.web.uploads import body_limited


def _cell_class(cell: dict[str, Any] | None, limit: float | None, near: float) -> str:
    """The heat map's colour: over the limit, within ``near`` of it, within twice that, comfortably within."""
    if not cell or cell.get("cv") is None or limit is None:
        return "heat-na"
    if cell.get("passed") is False:
        return "heat-over"
    margin = limit - cell["cv"]
    if margin <= near:
        return "heat-near"
    return "heat-ok" if margin <= 2 * near else "heat-good"


def _share_class(share: float | None) -> str:
    """The national map's colour: the share of a province's counties within the limit."""
    if share is None:
        return "heat-na"
    return "heat-good" if share >= 0.9 else "heat-ok" if share >= 0.7 else "heat-near" if share >= 0.5 else "heat-over"


def _waiting_page(request: HttpRequest, title: str, stale: bool, has_results: bool) -> HttpResponse:
    if not has_results:
        return message_page(request, title, "尚无已存储的评估结果：各县评估结果生成后，这里将显示年度监测。")
    return render(request, "youjun/monitoring/waiting.html", {"title": title})


def _rows(data: dict[str, Any], prefix: str, prefecture: str, level: str) -> list[dict[str, Any]]:
    rows = [c for c in data["counties"] if c["code"].startswith(prefix)]
    if prefecture:
        rows = [c for c in rows if c["code"].startswith(prefecture[:4])]
    if level:
        levels = data.get("levels") or list(services.LEVELS)
        wanted = levels[levels.index(level) :] if level in levels else [level]
        rows = [c for c in rows if any(c["levels"].get(w) for w in wanted)]
    return rows


def _heat(data: dict[str, Any], rows: list[dict[str, Any]], links: bool = True) -> list[dict[str, Any]]:
    """The heat map's rows ready for the template: each cell's text, class and tooltip."""
    near, dec = data["near_margin"], data["cv_decimals"]
    years = data["years"]
    out = []
    for c in rows:
        cells = []
        for col in data["columns"]:
            cell = c["cells"].get(col["key"])
            cv = cell.get("cv") if cell else None
            history = "，".join(
                f"{y} 年 {fmt(cell['series'].get(str(y)), dec)}" for y in years if cell and str(y) in cell["series"]
            )
            cells.append(
                {
                    "text": fmt(cv, dec),
                    "cls": _cell_class(cell, col["limit"], near),
                    "title": f"{col['label']} {col['name']} 差异系数：{history or '—'}（限值 {fmt(col['limit'], 2)}）",
                }
            )
        within = [c["within"].get(str(y)) for y in years]
        total = len([col for col in data["columns"] if col["key"] in c["cells"]])
        out.append(
            {
                **c,
                "cells": cells,
                "spark": charts.sparkline(
                    within, float(max(total, 1)), f"各年度达标的差异系数个数：{'、'.join(str(w) for w in within)}"
                ),
                "within_latest": within[-1] if within else None,
                "total": total,
                "url": reverse("monitoring:county", args=[c["code"]]) if links else "",
            }
        )
    return out


#: The map's colour modes (GET ``map``): the latest year's resources verdict, or the highest warning level.
MAP_MODES = {"verdict": "资源配置结论", "warning": "预警级别"}
#: The map's classes of the warning levels, from the highest of the rule set's levels down.
_LEVEL_AREAS = ("m-alarm", "m-warn", "m-watch")


def _map(org: OrgUnit, data: dict[str, Any], shown: list[dict[str, Any]], mode: str, filtered: bool) -> dict[str, Any]:
    """The map of ``org``'s counties coloured by ``mode``; counties outside the filter (``shown``) are dimmed."""
    rows = {c["code"]: c for c in data["counties"]}
    visible = {c["code"] for c in shown}
    levels = list(data.get("levels") or services.LEVELS)
    classes = {lvl: _LEVEL_AREAS[min(i, len(_LEVEL_AREAS) - 1)] for i, lvl in enumerate(reversed(levels))}
    areas, without = [], []
    counties = OrgUnit.objects.filter(code__startswith=org.prefix, level=Level.COUNTY).order_by("code")
    for code, name in counties.values_list("code", "name"):
        row = rows.get(code)
        passed = None if row is None else row.get("passed")
        verdict = "未评估" if passed is None else "资源配置达标" if passed else "资源配置未达标"
        found = {lvl: n for lvl, n in (row or {}).get("levels", {}).items() if n}
        summary = "、".join(f"{lvl} {n} 条" for lvl, n in found.items()) or ("无预警" if row else "无监测数据")
        if mode == "warning":
            top = next((lvl for lvl in reversed(levels) if found.get(lvl)), None)
            cls = "m-none" if row is None else classes[top] if top else "m-clear"
        else:
            cls = "m-none" if passed is None else "m-pass" if passed else "m-fail"
        if not boundaries.has_outline(code):
            without.append(name)
        areas.append(
            maps.Area(
                code=code,
                name=name,
                cls=cls,
                label=f"{name}：{verdict}；{summary}",
                url=reverse("monitoring:county", args=[code]),
                dim=filtered and code not in visible,
            )
        )
    title = f"{org.name}各县（区）{data['latest']}年{MAP_MODES[mode]}地图"
    if mode == "warning":
        legend = [(classes[lvl], lvl) for lvl in reversed(levels)] + [("m-clear", "无预警"), ("m-none", "无数据")]
    else:
        legend = [("m-pass", "达标"), ("m-fail", "未达标"), ("m-none", "未评估")]
    return {
        "svg": maps.county_map(areas, title, labels=len(areas) <= 20),
        "title": title,
        "legend": legend,
        "mode": mode,
        "modes": MAP_MODES,
        "without": without,
        "source": boundaries.source(),
    }


@evaluator_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if not evaluation.sees_whole_country(user):
        unit = user.org_unit
        if unit is None:
            return message_page(request, "年度监测", "账号未绑定单位。", 403)
        target = "monitoring:county" if unit.level == Level.COUNTY else "monitoring:unit"
        return redirect(target, unit.code)
    return national(request)


def national(request: HttpRequest) -> HttpResponse:
    """Per province: its latest year's counties evaluated and passing, warnings by level, and per stage and
    indicator the share of its counties within the limit (from each snapshot's summary; stale ones recomputed)."""
    provinces = list(OrgUnit.objects.filter(level=Level.PROVINCE).order_by("code"))
    snapshots = {s.province_id: s for s in Snapshot.objects.only("province_id", "stamp", "summary")}
    current = services.stamps()
    rows, pending = [], 0
    columns: list[dict[str, Any]] = []
    for p in provinces:
        stamp = current.get(p.prefix)
        snapshot = snapshots.get(p.pk)
        stale = stamp is not None and (snapshot is None or snapshot.stamp != stamp)
        if stale:
            services.schedule(p)
            if snapshot is None:
                pending += 1
                continue
        if snapshot is None or not snapshot.summary:
            continue
        summary = snapshot.summary
        columns = columns or summary["columns"]
        labels = {c["key"]: c["label"] for c in summary["columns"]}
        shares = []
        for share in summary["shares"]:
            ratio = share["ok"] / share["known"] if share["known"] else None
            label = labels.get(share["key"], share["key"])
            shares.append(
                {
                    "text": "—" if ratio is None else f"{round(ratio * 100):d}%",
                    "cls": _share_class(ratio),
                    "title": f"{p.name} {label}：{share['ok']}/{share['known']} 个县在限值内",
                }
            )
        rows.append(
            {
                "province": p,
                "latest": summary["latest"],
                "evaluated": summary["evaluated"],
                "passed": summary["passed"],
                "levels": summary["levels"],
                "shares": shares,
                "stale": stale,
                "url": reverse("monitoring:unit", args=[p.code]),
            }
        )
    context = {"rows": rows, "columns": columns, "pending": pending, "levels": list(services.LEVELS)}
    return render(request, "youjun/monitoring/national.html", context)


@evaluator_required
@require_GET
def unit(request: HttpRequest, code: str) -> HttpResponse:
    user = user_of(request)
    org = evaluation.visible_unit(user, code)
    if org.level == Level.COUNTY:
        return redirect("monitoring:county", org.code)
    if org.level not in (Level.PROVINCE, Level.PREFECTURE):
        return redirect("monitoring:index")
    province = org if org.level == Level.PROVINCE else services.province_of(org)
    snapshot, stale = services.current(province)
    title = f"{org.full_name}年度监测与预警"
    if snapshot is None:
        return _waiting_page(request, title, stale, services.results_of(province).exists())
    data = snapshot.data
    prefectures = []
    if org.level == Level.PROVINCE:
        prefectures = list(OrgUnit.objects.filter(parent=org, level=Level.PREFECTURE).order_by("code"))
    prefecture = request.GET.get("prefecture", "")
    prefecture = prefecture if any(p.code == prefecture for p in prefectures) else ""
    level = request.GET.get("level", "")
    level = level if level in (data.get("levels") or services.LEVELS) else ""
    rows = _rows(data, org.prefix, prefecture, level)
    names = dict(
        OrgUnit.objects.filter(code__startswith=org.prefix, level=Level.PREFECTURE).values_list("code", "name")
    )
    heat = _heat(data, rows)
    for r in heat:
        r["prefecture"] = names.get(r["prefecture_code"] or "", "")
    mine = [c["code"] for c in data["counties"] if c["code"].startswith(org.prefix)]
    latest = data["latest"]
    top = list(
        Warning.objects.filter(snapshot=snapshot, year=latest, county__code__in=mine)
        .select_related("county")
        .order_by("-severity", "county__code", "id")[:30]
    )
    counts = {lvl: 0 for lvl in data.get("levels") or services.LEVELS}
    for c in data["counties"]:
        if c["code"].startswith(org.prefix):
            for lvl, n in c["levels"].items():
                counts[lvl] = counts.get(lvl, 0) + n
    movers = {k: [m for m in v if m["code"].startswith(org.prefix)] for k, v in data["movers"].items()}
    mode = request.GET.get("map", "")
    mode = mode if mode in MAP_MODES else "verdict"
    context = {
        "map": _map(org, data, rows, mode, bool(prefecture or level)),
        "map_links": [
            (
                key,
                name,
                "?" + urlencode({k: v for k, v in (("prefecture", prefecture), ("level", level)) if v} | {"map": key}),
            )
            for key, name in MAP_MODES.items()
        ],
        "org": org,
        "title": title,
        "data": data,
        "near_twice": 2 * data["near_margin"],
        "heat": heat,
        "columns": data["columns"],
        "stages": _stage_groups(data["columns"]),
        "prefectures": prefectures,
        "prefecture": prefecture,
        "level": level,
        "levels": data.get("levels") or services.LEVELS,
        "counts": counts,
        "warnings": top,
        "movers": movers,
        "per_year": data["per_year"],
        "snapshot": snapshot,
        "stale": stale,
        "waiting": services.waiting(province),
        "can_refresh": user.role in (Role.MINISTRY, Role.PROVINCE) and user.can_write,
        "total": len([c for c in data["counties"] if c["code"].startswith(org.prefix)]),
    }
    return render(request, "youjun/monitoring/unit.html", context)


def _stage_groups(columns: list[dict[str, Any]]) -> list[tuple[str, int]]:
    groups: list[tuple[str, int]] = []
    for col in columns:
        name = col["label"][: -len(col["indicator"])]
        if groups and groups[-1][0] == name:
            groups[-1] = (name, groups[-1][1] + 1)
        else:
            groups.append((name, 1))
    return groups


@evaluator_required
@require_GET
def county(request: HttpRequest, code: str) -> HttpResponse:
    user = user_of(request)
    org = evaluation.visible_unit(user, code)
    if org.level != Level.COUNTY:
        return redirect("monitoring:unit", org.code)
    province = services.province_of(org)
    snapshot, stale = services.current(province)
    title = f"{org.full_name}年度监测与预警"
    row = None
    if snapshot is not None:
        row = next((c for c in snapshot.data["counties"] if c["code"] == org.code), None)
    if snapshot is None or row is None:
        has = services.results_of(province).filter(county=org).exists()
        return _waiting_page(request, title, stale, has)
    data = snapshot.data
    years, dec = data["years"], data["cv_decimals"]
    shown = [y for y in years if y in row.get("years", [])]
    stages = []
    for stage_label, _count in _stage_groups(data["columns"]):
        cols = [c for c in data["columns"] if c["label"][: -len(c["indicator"])] == stage_label]
        lines = {}
        table = []
        for col in cols:
            cell = row["cells"].get(col["key"])
            if not cell:
                continue
            series = [cell["series"].get(str(y)) for y in shown]
            lines[col["indicator"]] = series
            table.append(
                {
                    "label": col["indicator"],
                    "name": col["name"],
                    "limit": fmt(col["limit"], 2),
                    "values": [
                        {"text": fmt(v, dec), "over": v is not None and col["limit"] is not None and v > col["limit"]}
                        for v in series
                    ],
                }
            )
        if table:
            limit = cols[0]["limit"]
            stages.append(
                {
                    "name": stage_label,
                    "table": table,
                    "chart": charts.cv_lines(shown, lines, limit, f"{org.name}{stage_label}各指标差异系数", dec),
                }
            )
    found = list(Warning.objects.filter(snapshot=snapshot, county=org).order_by("-year", "-severity", "id"))
    context = {
        **_forecast_context(user, org, dec),
        "org": org,
        "title": title,
        "years": shown,
        "stages": stages,
        "warnings": found,
        "latest": data["latest"],
        "snapshot": snapshot,
        "stale": stale,
        "row": row,
        "province_url": reverse("monitoring:unit", args=[province.code]) if can_see_unit(user, province) else "",
    }
    return render(request, "youjun/monitoring/county.html", context)


@evaluator_required
@require_POST
def refresh(request: HttpRequest, code: str) -> HttpResponse:
    user = user_of(request)
    org = evaluation.visible_unit(user, code)
    if org.level != Level.PROVINCE:
        return redirect("monitoring:unit", org.code)
    if user.role not in (Role.MINISTRY, Role.PROVINCE) or not user.can_write:
        return message_page(request, "无权执行此操作", "重新计算监测结果由省级或教育部账号发起。", 403)
    Snapshot.objects.filter(province=org).update(stamp="")
    services.schedule(org)
    messages.info(request, "已提交重新计算：完成后本页显示最新的监测结果。")
    return redirect("monitoring:unit", org.code)


@evaluator_required
@require_GET
def county_report(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """The county's annual monitoring report (Word) or its annex (Excel), at once."""
    org = evaluation.visible_unit(user_of(request), code)
    if org.level != Level.COUNTY or fmt not in ("docx", "xlsx"):
        raise Http404("未找到该报告")
    if not services.results_of(services.province_of(org)).filter(county=org).exists():
        return message_page(request, "暂无监测报告", f"{org.full_name}尚无已存储的评估结果。", 404)
    content, name = documents.county_report(org, fmt)
    response = HttpResponse(content, content_type=documents.DOCX if fmt == "docx" else XLSX)
    response["Content-Disposition"] = content_disposition(name, f"monitoring-{org.code}.{fmt}")
    response["Cache-Control"] = "private, no-store"
    return response


@evaluator_required
@require_http_methods(["GET", "POST"])
def province_report(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    """The province's report or annex, prepared in the background (every county of every stored year)."""
    org = evaluation.visible_unit(user_of(request), code)
    if org.level != Level.PROVINCE or fmt not in ("docx", "xlsx"):
        raise Http404("未找到该报告")
    latest = services.results_of(org).aggregate(latest=Max("year"))["latest"]
    if latest is None:
        return message_page(request, "暂无监测报告", f"{org.name}尚无已存储的评估结果。", 404)
    what = "年度监测报告" if fmt == "docx" else "年度监测附表"
    return offer(
        request,
        documents.REPORT_KIND,
        {"code": org.code, "format": fmt},
        title=f"{org.name}{latest}年义务教育优质均衡{what}.{fmt}",
        fallback=f"monitoring-{org.code}.{fmt}",
        content_type=documents.DOCX if fmt == "docx" else XLSX,
        heading=f"{org.name}{latest}年{what}",
        description="Word 报告含监测概况、指标超限情况、预警县（区）、进步与退步和各市汇总，附原生图表；"
        if fmt == "docx"
        else "Excel 附表含各县逐年指标序列、全部预警事项和地区汇总。",
        back=reverse("monitoring:unit", args=[org.code]),
    )


def _forecast_context(user: Any, org: OrgUnit, decimals: int) -> dict[str, Any]:
    """The county page's forecast section: the forecast and its charts, or why there is none; the upload form."""
    fc = forecasting.county_forecast(org)
    context: dict[str, Any] = {"forecast": None, "forecast_problem": ""}
    context["can_upload"] = forecasting.may_upload(user, org)
    inputs = forecasting.inputs_of(org)
    context["forecast_inputs"] = inputs
    if fc is None:
        return context
    if fc.result is None:
        context["forecast_problem"] = fc.problem
        return context
    shown = forecasting.summary(fc, dict(STAGE_NAMES))
    for stage in shown["stages"]:
        title = f"{org.name}{stage['name']}差异系数预测（按现有资源）"
        stage["chart"] = charts.cv_lines(shown["years"], stage["lines"], stage["limit"], title, decimals)
    context["forecast"] = shown
    context["forecast_births"] = fc.births
    return context


def _refuse_large_forecast(request: HttpRequest, kwargs: Any) -> HttpResponse:
    back = reverse("monitoring:county", args=[kwargs["code"]])
    limit = int(settings.YOUJUN_MAX_UPLOAD_BYTES) // (1024 * 1024)
    return message_page(request, "文件过大", f"文件过大（上限 {limit} MB），请拆分后再上传。", 413, back=back)


@body_limited(lambda: int(settings.YOUJUN_MAX_UPLOAD_BYTES), _refuse_large_forecast)
@evaluator_required
@require_POST
def forecast_upload(request: HttpRequest, code: str) -> HttpResponse:
    """The county uploads its pupils by grade (``kind=grades``) or births (``kind=births``), CSV or Excel."""
    user = user_of(request)
    org = evaluation.visible_unit(user, code)
    if org.level != Level.COUNTY:
        raise Http404("未找到该县（区）")
    if not forecasting.may_upload(user, org):
        return message_page(request, "无权执行此操作", "只有本县（区）教育行政部门可以上传预测所用的数据。", 403)
    kind = request.POST.get("kind", "")
    upload = request.FILES.get("file")
    if kind not in ("grades", "births"):
        messages.error(request, "表单已失效，请刷新页面后重新上传。")
    elif upload is None:
        messages.error(request, "请选择要上传的文件。")
    else:
        try:
            stored = forecasting.store(user, org, kind, upload.name or "", upload.read())  # type: ignore[arg-type]
        except YoujunError as exc:
            problem_messages(request, exc)
            messages.error(request, "上传未完成，已保存的预测数据没有任何改动。")
        else:
            years = "、".join(map(str, stored.years))
            replaced = f"（替换了 {'、'.join(map(str, stored.replaced))} 年的原有数据）" if stored.replaced else ""
            what = "分年级在校生数" if kind == "grades" else "出生人口"
            messages.success(request, f"已导入{what} {stored.rows} 行：{years} 年{replaced}。")
    return redirect(reverse("monitoring:county", args=[org.code]) + "#forecast")


@evaluator_required
@require_GET
def forecast_template(request: HttpRequest, code: str) -> HttpResponse:
    """The upload template: a row per school of the county's latest years, the birth years of the next entries."""
    import tempfile
    from pathlib import Path

    from youjun.io.forecast_inputs import write_template_tables
    from youjun.io.workbook import write_tables
    from youjun.web.collection.models import SchoolRecord

    org = evaluation.visible_unit(user_of(request), code)
    if org.level != Level.COUNTY:
        raise Http404("未找到该县（区）")
    years = sorted(set(SchoolRecord.objects.filter(county=org).values_list("year", flat=True)))[-3:]
    last = years[-1] if years else None
    schools = (
        list(
            SchoolRecord.objects.filter(county=org, year=last)
            .order_by("school__school_id")
            .values_list("school__school_id", "school_name")
        )
        if last is not None
        else []
    )
    with tempfile.TemporaryDirectory(prefix="youjun-forecast-") as tmp:
        path = Path(tmp) / "template.xlsx"
        write_tables(path, write_template_tables(org.code, schools, years))  # type: ignore[arg-type]
        content = path.read_bytes()
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(
        f"{org.national_name}分年级在校生数与出生人口模板.xlsx", f"forecast-template-{org.code}.xlsx"
    )
    response["Cache-Control"] = "private, no-store"
    return response
