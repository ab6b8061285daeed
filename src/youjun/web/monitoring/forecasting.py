"""The county's enrolment forecast on the web (decision 63): its optional inputs (pupils by grade per school and year,
births per year) uploaded as CSV or Excel, kept per county and merged by year; the forecast itself is the engine's
(:mod:`youjun.engine.forecast`) on those inputs and the county's approved school records of the base year (the
latest year of the grades), under the rule set in force for that year, cached until an input, the records or the
rules change."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from youjun.engine.forecast import Forecast, Projection, forecast, project_enrolment
from youjun.errors import YoujunError
from youjun.io.forecast_inputs import REQUIRED, WHAT, Kind, frames_from, read_table
from youjun.web.accounts.models import Role, User
from youjun.web.audit.services import record as audit
from youjun.web.collection.models import SchoolRecord
from youjun.web.collection.selectors import approved_frame
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.monitoring.models import ForecastInputs
from youjun.web.organisation.models import OrgUnit
from youjun.web.rulesets import services as rulesets

HORIZON = 5
_KEY_OF: dict[Kind, str] = {"grades": "year", "births": "birth_year"}


def may_upload(user: User, county: OrgUnit) -> bool:
    """The county's own users with write access keep its forecast inputs."""
    return user.is_authenticated and user.role == Role.COUNTY and user.org_unit_id == county.pk and bool(user.can_write)


def inputs_of(county: OrgUnit) -> ForecastInputs | None:
    return ForecastInputs.objects.filter(county=county).first()


@dataclass(frozen=True)
class Stored:
    kind: Kind
    rows: int
    years: list[int]
    replaced: list[int]


def store(user: User, county: OrgUnit, kind: Kind, name: str, content: bytes) -> Stored:
    """Check an uploaded file whole and merge it into the county's inputs: the years (birth years) it holds replace
    the stored ones, the others stay. All or nothing; audited."""
    from youjun.io.limits import WEB_LIMITS

    if not may_upload(user, county):
        raise YoujunError.single("forbidden", "只有本县（区）教育行政部门可以上传预测所用的分年级在校生数和出生人口。")
    shown = Path(name or WHAT[kind]).name[:100]
    limits = WEB_LIMITS.with_file_bytes(int(settings.YOUJUN_MAX_UPLOAD_BYTES))
    frame = read_table(content, Path(shown).suffix or ".csv", kind, limits, shown=shown, county_code=county.code)
    if kind == "grades":
        known = set(SchoolRecord.objects.filter(county=county).values_list("school__school_id", flat=True))
        unknown = sorted(set(frame["school_id"].to_list()) - known)
        if unknown:
            listed = "、".join(unknown[:10]) + (f" 等 {len(unknown)} 个" if len(unknown) > 10 else "")
            raise YoujunError.single(
                "forecast_school",
                f"学校标识码 {listed} 不是本县（区）已采集数据的学校，未导入（请核对学校标识码）",
                file=shown,
                column="学校标识码",
            )
    key = _KEY_OF[kind]
    years = sorted(set(frame[key].to_list()))
    with transaction.atomic():
        inputs, _ = ForecastInputs.objects.select_for_update().get_or_create(county=county)
        inputs = ForecastInputs.objects.select_for_update().get(pk=inputs.pk)
        stored = getattr(inputs, kind) or {}
        old = frames_from(stored, kind) if stored else None
        replaced: list[int] = []
        if old is not None and old.height:
            replaced = sorted(set(old[key].to_list()) & set(years))
            frame = pl.concat([old.filter(~pl.col(key).is_in(years)), frame])
        frame = frame.sort([key, "school_id"] if kind == "grades" else [key])
        setattr(inputs, kind, {c: frame[c].to_list() for c in REQUIRED[kind]})
        inputs.updated_by = user
        inputs.save(update_fields=[kind, "updated_by", "updated_at"])
        ForecastInputs.objects.filter(pk=inputs.pk).update(version=F("version") + 1)
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
        audit(
            "forecast_inputs",
            inputs,
            "",
            "",
            user,
            f"从文件「{shown}」导入{WHAT[kind]}（{span} 年）" + (f"，替换 {len(replaced)} 个年度" if replaced else ""),
            action=f"导入{WHAT[kind]}"[:40],
            county=county,
        )
    return Stored(kind, int(frame.filter(pl.col(key).is_in(years)).height), years, replaced)


@dataclass(frozen=True)
class CountyForecast:
    """The county's projection and forecast, or why there is none (``problem``, in Chinese)."""

    projection: Projection | None = None
    result: Forecast | None = None
    problem: str = ""
    births: bool = False


def county_forecast(county: OrgUnit) -> CountyForecast | None:
    """None without grade inputs; else the forecast (cached by the inputs' version, the base year's stored result
    generation and the rule set) or the reason it cannot be made."""
    inputs = inputs_of(county)
    if inputs is None or not inputs.grades:
        return None
    grades = frames_from(inputs.grades, "grades")
    births = frames_from(inputs.births, "births") if inputs.births else None
    base = int(grades["year"].max())  # type: ignore[arg-type]
    ref = rulesets.ref_for(county, base)
    generation = (
        CountyEvaluation.objects.filter(county=county, year=base).values_list("generation", "computed_at").first()
    )
    stamp = f"{county.pk}:{inputs.version}:{base}:{ref}:{generation}"
    key = "youjun-forecast-" + hashlib.sha256(stamp.encode("utf-8")).hexdigest()
    cached: CountyForecast | None = cache.get(key)
    if cached is not None:
        return cached
    value = _compute(county, grades, births, base, ref)
    cache.set(key, value, 3600)
    return value


def _compute(county: OrgUnit, grades: pl.DataFrame, births: pl.DataFrame | None, base: int, ref: str) -> CountyForecast:
    frame = approved_frame(county, base)
    if frame.height == 0:
        return CountyForecast(problem=f"预测基年为分年级在校生数的最近年度 {base} 年，但该年度还没有已审核的学校数据。")
    try:
        projection = project_enrolment(grades, births, horizon=HORIZON)
        result = forecast(frame, projection, rulesets.load(ref))
    except YoujunError as exc:
        return CountyForecast(problem="；".join(p.message for p in exc.problems[:3]))
    return CountyForecast(projection, result, births=births is not None)


def summary(fc: CountyForecast, stage_names: dict[str, str]) -> dict[str, Any]:
    """What the county page shows of a forecast: per stage and year the pupils (with the range), units passing, CVs
    over their limits, places and classrooms lacking or spare, teachers short; the schools first below a standard."""
    assert fc.result is not None and fc.projection is not None
    result, projection = fc.result, fc.projection
    pupils = {(r["year"], r["stage"]): r for r in projection.counties.iter_rows(named=True)}
    stages: dict[str, list[dict[str, Any]]] = {}
    cvs: dict[tuple[int, str], list[str]] = {}
    for r in result.cvs.filter(pl.col("cv_passed").not_()).iter_rows(named=True):
        cvs.setdefault((r["year"], r["stage"]), []).append(r["indicator"])
    for r in result.stages.iter_rows(named=True):
        p = pupils.get((r["year"], r["stage"]), {})
        teachers = sum(float(r.get(f"shortfall_R{i}") or 0.0) for i in (1, 2, 3))
        stages.setdefault(r["stage"], []).append(
            {
                "year": r["year"],
                "projected": r["projected"],
                "students": p.get("students", r["students"]),
                "low": p.get("low") if r["projected"] else None,
                "high": p.get("high") if r["projected"] else None,
                "units": r["units"],
                "units_passed": r["units_passed"],
                "over": cvs.get((r["year"], r["stage"]), []),
                "places_lack": r.get("places_lack"),
                "places_spare": r.get("places_spare"),
                "classrooms_lack": r.get("classrooms_lack"),
                "classrooms_spare": r.get("classrooms_spare"),
                "teachers_short": teachers,
                "area_short": float(r.get("shortfall_R4") or 0.0),
            }
        )
    below = [
        {**r, "stage_name": stage_names.get(r["stage"], r["stage"])}
        for r in result.below.sort("first_year_below", "school_id").iter_rows(named=True)
    ]
    lines: dict[str, dict[str, list[float | None]]] = {}
    years = [result.base_year, *result.years]
    for stage in stages:
        sub = result.cvs.filter(pl.col("stage") == stage)
        for indicator in sub["indicator"].unique(maintain_order=True).to_list():
            values = dict(sub.filter(pl.col("indicator") == indicator).select("year", "cv").iter_rows())
            lines.setdefault(stage, {})[indicator] = [values.get(y) for y in years]
    limits = {r["stage"]: r["cv_limit"] for r in result.stages.iter_rows(named=True)}
    return {
        "years": years,
        "stages": [
            {"key": s, "name": stage_names.get(s, s), "rows": rows, "lines": lines.get(s, {}), "limit": limits.get(s)}
            for s, rows in stages.items()
        ],
        "below": below,
        "method": result.method,
        "base_year": result.base_year,
    }
