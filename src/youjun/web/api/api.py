"""The read-only JSON API (django-ninja): stored evaluation results, the organisation hierarchy and the annual
monitoring.

Authentication: ``Authorization: Bearer <token>`` (see ``auth.TokenAuth``); the request acts as the token's user and
sees exactly that user's jurisdiction. Anything outside it answers 404, the same as something that does not exist.
The interactive docs page is disabled (it loads assets from a CDN); the schema is at ``/api/openapi.json``.

Evaluation results are sent as stored (data-contract.md §2, values in full precision): the database hands over the
JSON text and the API streams it without decoding, so a province of a hundred counties costs no Python parsing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Count, Max, QuerySet, Sum, TextField
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError
from ninja.params.functions import Path, Query

from youjun.io.evaluation_json import SCHEMA_VERSION
from youjun.web.accounts.models import User
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.api import documents
from youjun.web.api.auth import TokenAuth
from youjun.web.evaluation import selectors
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.rulesets import services as rulesets

STATUS_LABELS = {"OK": "成功", "Unauthorized": "未认证或令牌无效", "Not Found": "未找到，或不在辖区内"}


class ChineseNinjaAPI(NinjaAPI):
    """The OpenAPI schema with Chinese response descriptions (django-ninja fills them with English phrases)."""

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for response in operation.get("responses", {}).values():
                    label = response.get("description")
                    response["description"] = STATUS_LABELS.get(label, label)
        return schema


api = ChineseNinjaAPI(
    title="优均数据接口",
    version="1",
    description=(
        "县域义务教育优质均衡评估的只读数据接口。认证方式：请求头 `Authorization: Bearer <令牌>`；"
        "令牌代表其所属用户，只能读取该用户辖区内的数据，辖区外的资源一律返回 404。"
        "评估结果的格式见数据约定（evaluation JSON，schema_version 1），数值为全精度、未经舍入。"
    ),
    docs_url=None,
    urls_namespace="api",
    auth=TokenAuth(),
)

NOT_FOUND = "未找到，或不在当前令牌的辖区内"
JSON = "application/json"


def _not_found(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    return api.create_response(request, {"detail": NOT_FOUND}, status=404)


def _unauthorised(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "未认证：请在请求头中提供有效的令牌（Authorization: Bearer <令牌>）"}, status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="youjun"'
    return response


api.add_exception_handler(Http404, _not_found)
api.add_exception_handler(AuthenticationError, _unauthorised)


# ----------------------------------------------------------------------------------------------------
# Schemas (documentation of the responses; evaluation results are streamed as stored)


class ErrorOut(Schema):
    detail: str = Field(description="错误说明")


class InfluenceChoice(Schema):
    school_id: str = Field(description="学校标识码")
    cv_after: float | None = Field(description="调整该校后的差异系数")


class Influence(Schema):
    removal: InfluenceChoice = Field(description="移除后差异系数降幅最大的学校")
    levelling: InfluenceChoice = Field(description="拉平至其他学校均值后差异系数降幅最大的学校")


class StageOut(Schema):
    units: int = Field(description="评估单元数")
    units_passed: int = Field(description="达标单元数")
    students: int = Field(description="在校生数")
    county_value: dict[str, float | None] = Field(description="县域值（按指标代码 R1…R7）")
    cv: dict[str, float | None] = Field(description="差异系数（无法计算时为 null）")
    cv_limit: float | None = Field(None, description="差异系数限值")
    cv_passed: dict[str, bool] | None = Field(None, description="各指标差异系数是否达标")
    cv_boundary: list[str] = Field(default_factory=list, description="临界指标：全精度与四舍五入后比较结论不同")
    passed: bool = Field(description="本学段是否达标")
    influence: dict[str, Influence] = Field(default_factory=dict, description="各指标影响最大的学校")


class UnitOut(Schema):
    school_id: str = Field(description="学校标识码")
    school_name: str = Field(description="学校名称")
    stage: str = Field(description="学段：primary 小学 / junior 初中")
    students: int = Field(description="在校生数")
    values: dict[str, float | None] = Field(description="各指标值")
    met: dict[str, bool] | None = Field(None, description="各指标是否达到标准")
    passed: bool | None = Field(None, description="单元是否达标")


class ExcludedOut(Schema):
    school_id: str = Field(description="学校标识码")
    school_name: str = Field(description="学校名称")
    reason: str = Field(description="不纳入评估的原因")


class ShortfallOut(Schema):
    school_id: str = Field(description="学校标识码")
    stage: str = Field(description="学段")
    indicator: str = Field(description="指标代码")
    value: float | None = Field(description="现值")
    standard: float | None = Field(description="标准")
    ratio: float | None = Field(description="达标比例（现值 ÷ 标准）")
    shortfall: float | None = Field(description="达到标准还需的数量")
    unit: str = Field(description="计量单位")
    unit_passed: bool = Field(description="该学校单元是否达标")


class ResourceAllocationOut(Schema):
    passed: bool = Field(description="资源配置是否达标")
    stages: dict[str, StageOut] = Field(description="按学段（primary、junior）的汇总；没有单元的学段不出现")
    units: list[UnitOut] = Field(description="全部评估单元")
    excluded: list[ExcludedOut] = Field(description="不纳入评估的学校")
    shortfalls: list[ShortfallOut] = Field(default_factory=list, description="未达标指标的差距清单")


class CountyEvaluationOut(Schema):
    county_code: str = Field(description="县级区划代码")
    county_name: str = Field(description="县（区）名称")
    year: int = Field(description="统计年度")
    resource_allocation: ResourceAllocationOut = Field(description="资源配置评估")


class EvaluationDocument(Schema):
    schema_version: int = Field(description="格式版本（当前为 1）")
    standard: str = Field(description="规则集标识，如 national-2017")
    counties: list[CountyEvaluationOut] = Field(description="各县（区）的评估结果，按区划代码排序")


class UnitRef(Schema):
    code: str = Field(description="行政区划代码（教育部为 000000）")
    name: str = Field(description="名称")
    level: str = Field(description="层级：ministry / province / prefecture / county")
    level_name: str = Field(description="层级中文名")


class UnitDetail(UnitRef):
    full_name: str = Field(description="全称（含所属省份）")
    parent: UnitRef | None = Field(description="上级单位（不在辖区内时为 null）")
    children: list[UnitRef] = Field(description="下级单位")


# ----------------------------------------------------------------------------------------------------
# Endpoints


def _user(request: HttpRequest) -> User:
    user: User = request.auth  # type: ignore[attr-defined]  # set by the API's authentication (auth.TokenAuth)
    return user


def _raw(queryset: QuerySet[CountyEvaluation]) -> QuerySet[CountyEvaluation, str]:
    """The stored JSON as text, straight from the database (no decode / encode in Python)."""
    return queryset.annotate(raw=Cast("result", TextField())).order_by("county__code").values_list("raw", flat=True)


@api.get(
    "/evaluations/{year}",
    response={200: EvaluationDocument, 401: ErrorOut, 404: ErrorOut},
    summary="辖区内各县某年度的评估结果",
    description=(
        '返回数据约定 §2 的评估 JSON：`{"schema_version":1,"standard":…,"counties":[…]}`，'
        "包含令牌辖区内该年度已生成评估结果的每个县（区）。可用 `county` 参数只取一个县；"
        "该县不在辖区内时返回 404，在辖区内但没有结果时 `counties` 为空。"
    ),
    tags=["评估结果"],
    operation_id="list_evaluations",
)
def list_evaluations(
    request: HttpRequest,
    year: int = Path(..., description="统计年度，如 2024"),
    county: str | None = Query(None, description="只取这个县（区）：6 位县级区划代码"),
) -> HttpResponseBase:
    user = _user(request)
    queryset = selectors.evaluations_for(user).filter(year=year)
    if county:
        unit = selectors.visible_unit(user, county)
        if unit.level != Level.COUNTY:
            raise Http404
        queryset = queryset.filter(county=unit)
    stamp = queryset.aggregate(n=Count("id"), last=Max("computed_at"), top=Max("id"), gen=Sum("generation"))
    try:
        key = f"{queryset.query}|{stamp['n']}|{stamp['last']}|{stamp['top']}|{stamp['gen']}"
    except EmptyResultSet:  # a query that can hold nothing (a school's token): nothing worth keeping either
        key = "empty"
    etag = f'"{hashlib.sha256(key.encode()).hexdigest()[:32]}"'
    response: HttpResponseBase
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return response
    cached = documents.get(key)
    if cached is not None:
        response = HttpResponse(cached, content_type=JSON)
        response["ETag"] = etag
        return response
    texts = _raw(queryset)
    # Each county object names its own rule set ("standard", "standard_name"); the envelope names the one they share,
    # or the national default when provinces use different ones.
    used = set(queryset.values_list("standard", flat=True).distinct()[:2])
    standard = used.pop() if len(used) == 1 else rulesets.default_ref()
    head = f'{{"schema_version":{SCHEMA_VERSION},"standard":{json.dumps(standard)},"counties":['

    def pieces() -> Iterator[str]:
        yield head
        for i, text in enumerate(texts.iterator(chunk_size=50)):
            yield ("," if i else "") + "\n" + text
        yield "\n]}\n"

    def stream() -> Iterator[bytes]:
        """The document as it is read, kept for the next request when it is small enough to keep."""
        kept: list[bytes] = []
        size, keep = 0, True
        for piece in pieces():
            chunk = piece.encode()
            if keep:
                size += len(chunk)
                keep = size <= documents.MAX_ITEM
                kept.append(chunk)
            yield chunk
        if keep:
            documents.put(key, b"".join(kept))

    response = StreamingHttpResponse(stream(), content_type=JSON)
    response["ETag"] = etag
    return response


@api.get(
    "/counties/{code}/evaluations/{year}",
    response={200: CountyEvaluationOut, 401: ErrorOut, 404: ErrorOut},
    summary="一个县某年度的评估结果",
    description=(
        "返回该县（区）该年度评估 JSON 中的县级对象（数据约定 §2 `counties` 的一项）。不在辖区内或没有结果时返回 404。"
    ),
    tags=["评估结果"],
    operation_id="get_county_evaluation",
)
def county_evaluation(
    request: HttpRequest,
    code: str = Path(..., description="6 位县级区划代码"),
    year: int = Path(..., description="统计年度，如 2024"),
) -> HttpResponse:
    user = _user(request)
    unit = selectors.visible_unit(user, code)
    if unit.level != Level.COUNTY:
        raise Http404
    text = _raw(selectors.evaluations_for(user).filter(county=unit, year=year)).first()
    if text is None:
        raise Http404
    return HttpResponse(text, content_type=JSON)


def _ref(unit: OrgUnit) -> dict[str, str]:
    return {"code": unit.code, "name": unit.name, "level": unit.level, "level_name": unit.get_level_display()}


@api.get(
    "/units/{code}",
    response={200: UnitDetail, 401: ErrorOut, 404: ErrorOut},
    summary="一个行政单位及其下级单位",
    description="返回单位的代码、名称、层级、上级和下级单位（教育部的代码为 000000）。不在辖区内时返回 404。",
    tags=["行政区划"],
    operation_id="get_unit",
)
def unit_detail(
    request: HttpRequest, code: str = Path(..., description="6 位行政区划代码（教育部为 000000）")
) -> dict[str, object]:
    user = _user(request)
    unit = selectors.visible_unit(user, code)
    parent = unit.parent
    children = OrgUnit.objects.filter(parent=unit).only("code", "name", "level").order_by("code")
    return {
        **_ref(unit),
        "full_name": unit.full_name,
        "parent": _ref(parent) if parent is not None and can_see_unit(user, parent) else None,
        "children": [_ref(c) for c in children],
    }


# ----------------------------------------------------------------------------------------------------
# Annual monitoring (the province's snapshot, decision 61)


class MonitoringColumn(Schema):
    key: str = Field(description="列标识：学段-指标代码，如 primary-R1")
    stage: str = Field(description="学段")
    indicator: str = Field(description="指标代码")
    name: str = Field(description="指标名称")
    limit: float | None = Field(description="差异系数限值")


class MonitoringCounty(Schema):
    code: str = Field(description="县级区划代码")
    name: str = Field(description="县（区）名称")
    prefecture_code: str | None = Field(description="所属地市代码")
    passed: bool | None = Field(description="最近年度资源配置是否达标（该年度无结果时为 null）")
    years: list[int] = Field(description="有评估结果的年度")
    warnings: dict[str, int] = Field(description="最近年度各级预警数")
    cv: dict[str, dict[str, float | None]] = Field(description="各列（学段-指标）逐年差异系数：列标识 → 年度 → 值")
    within: dict[str, int] = Field(description="逐年在限值内的差异系数个数")


class MonitoringWarning(Schema):
    county_code: str = Field(description="县级区划代码")
    year: int = Field(description="年度")
    level: str = Field(description="级别：关注 / 预警 / 警报")
    rule: str = Field(description="预警规则标识")
    rule_name: str = Field(description="预警规则名称")
    stage: str = Field(description="学段（无则为空）")
    code: str = Field(description="指标或项目代码（无则为空）")
    school_id: str = Field(description="学校标识码（学校层面的预警）")
    school_name: str = Field(description="学校名称")
    message: str = Field(description="预警内容")
    value: float | None = Field(description="触发预警的数值")
    limit: float | None = Field(description="对应的限值或标准")


class MonitoringOut(Schema):
    unit: UnitRef = Field(description="查询的地区")
    rule_set: str = Field(description="预警规则所在的规则集")
    years: list[int] = Field(description="监测年度")
    latest: int | None = Field(description="最近年度")
    computed_at: str | None = Field(description="监测结果计算时间（ISO 8601）")
    stale: bool = Field(description="评估结果在此后有变化、正在后台重新计算时为 true")
    columns: list[MonitoringColumn] = Field(description="差异系数列")
    counties: list[MonitoringCounty] = Field(description="辖区内各县（区）的逐年序列")
    regions: list[dict[str, Any]] = Field(
        description="省、地市汇总（逐年、学段、指标：县数、达标与未达标县数、差异系数均值与中位数、学生加权县域值、"
        "单元与学生合计、差距合计）；全国查询时为各省的省级汇总"
    )
    region_counties: list[dict[str, Any]] = Field(description="省、地市逐年的县数和资源配置、综合评估结论计数")
    warnings: list[MonitoringWarning] = Field(description="预警事项（默认最近年度；year 参数指定年度）")


@api.get(
    "/monitoring/{code}",
    response={200: MonitoringOut, 202: ErrorOut, 401: ErrorOut, 404: ErrorOut},
    summary="一个地区的年度监测序列与预警",
    description=(
        "省、地市或县（区）：辖区内各县逐年的差异系数序列、达标情况、预警事项和省、地市汇总；教育部（000000）："
        "各省的省级汇总。监测结果按省保存，评估结果变化后在后台重新计算：尚无结果时返回 202，请稍后重试。"
    ),
    tags=["年度监测"],
    operation_id="get_monitoring",
)
def monitoring(
    request: HttpRequest,
    code: str = Path(..., description="6 位行政区划代码（教育部为 000000）"),
    year: int | None = Query(None, description="预警事项的年度（默认最近年度）"),
) -> tuple[int, dict[str, Any]] | dict[str, Any]:
    from youjun.web.monitoring import services as monitoring_services
    from youjun.web.monitoring.models import Snapshot, Warning

    user = _user(request)
    unit = selectors.visible_unit(user, code)
    base: dict[str, Any] = {"unit": _ref(unit), "warnings": [], "counties": []}
    if unit.level == Level.MINISTRY:
        current = monitoring_services.stamps()
        held = dict(Snapshot.objects.values_list("province__code", "stamp"))
        behind = [
            p
            for p in OrgUnit.objects.filter(level=Level.PROVINCE)
            if p.prefix in current and held.get(p.code) != current[p.prefix]
        ]
        for province in behind:  # in the background (at once when jobs run in the request)
            monitoring_services.schedule(province)
        snapshots = list(Snapshot.objects.select_related("province").order_by("province__code"))
        stale = any(current.get(s.province.prefix) != s.stamp for s in snapshots) or len(snapshots) < len(current)
        if not snapshots:
            return 202, {"detail": "尚无监测结果：各省评估结果生成后在后台计算，请稍后重试。"}
        data = [s.data for s in snapshots]
        return {
            **base,
            "rule_set": "、".join(sorted({d.get("rule_set", "") for d in data})),
            "years": sorted({y for d in data for y in d.get("years", [])}),
            "latest": max((d.get("latest") or 0 for d in data), default=None) or None,
            "computed_at": max(s.computed_at for s in snapshots).isoformat(),
            "stale": stale,
            "columns": data[0].get("columns", []),
            "regions": [r for d in data for r in d.get("regions", []) if r.get("level") == "province"],
            "region_counties": [r for d in data for r in d.get("region_counties", []) if r.get("level") == "province"],
        }
    province = monitoring_services.province_of(unit)
    snapshot, stale = monitoring_services.current(province)
    if snapshot is None:
        return 202, {"detail": "监测结果正在后台计算，请稍后重试。"}
    data = snapshot.data
    prefix = unit.prefix
    counties = [
        {
            "code": c["code"],
            "name": c["name"],
            "prefecture_code": c.get("prefecture_code"),
            "passed": c.get("passed"),
            "years": c.get("years", []),
            "warnings": c.get("levels", {}),
            "cv": {key: cell.get("series", {}) for key, cell in c.get("cells", {}).items()},
            "within": c.get("within", {}),
        }
        for c in data.get("counties", [])
        if c["code"].startswith(prefix)
    ]
    regional = unit.level != Level.COUNTY

    def mine(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not regional:
            return []
        if unit.level == Level.PROVINCE:
            return rows
        return [r for r in rows if r.get("region_code") == unit.code]

    shown_year = year if year is not None else data.get("latest")
    found = Warning.objects.filter(snapshot=snapshot, year=shown_year, county__code__startswith=prefix)
    warnings = [
        {
            "county_code": w.county.code,
            "year": w.year,
            "level": w.level,
            "rule": w.rule,
            "rule_name": w.rule_name,
            "stage": w.stage,
            "code": w.code,
            "school_id": w.school_id,
            "school_name": w.school_name,
            "message": w.message,
            "value": w.value,
            "limit": w.limit,
        }
        for w in found.select_related("county").order_by("county__code", "-severity", "id")
    ]
    return {
        **base,
        "rule_set": data.get("rule_set", ""),
        "years": data.get("years", []),
        "latest": data.get("latest"),
        "computed_at": snapshot.computed_at.isoformat(),
        "stale": stale,
        "columns": data.get("columns", []),
        "counties": counties,
        "regions": mine(data.get("regions", [])),
        "region_counties": mine(data.get("region_counties", [])),
        "warnings": warnings,
    }
