"""Top-level pages: the home page sends each role to its own work."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from youjun.web.accounts.models import Role, User
from youjun.web.collection.models import CollectionYear
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.shortcuts import user_of


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    unit = user.org_unit
    links: list[tuple[str, str, str]] = []
    if user.role == Role.SCHOOL:
        links.append(("/collection/", "填报本校年度数据", "填写或上传本校数据，处理提醒，提交县（区）审核"))
    else:
        links.append(("/collection/", "年度数据采集", "查看填报进度、审核学校数据、报送与接收"))
        links.append(("/evaluation/", "评估结果", "资源配置达标情况、校际差异系数、差距清单和影响最大的学校"))
        if user.role == Role.COUNTY and unit is not None:
            links.append((f"/registry/county/{unit.code}/schools/", "学校名册", "登记新学校、撤销或合并学校"))
    windows = [w for w in CollectionYear.objects.select_related("scope").order_by("-year")[:20] if _concerns(user, w)]
    latest = None
    if user.role == Role.COUNTY and unit is not None:
        latest = CountyEvaluation.objects.filter(county=unit).order_by("-year").only("year", "passed").first()
    context = {"links": links, "windows": windows[:5], "latest": latest}
    return render(request, "youjun/home.html", context)


def _concerns(user: User, window: CollectionYear) -> bool:
    """A collection window concerns the user when its scope covers the user's unit or school, or lies below it."""
    if user.role == Role.SCHOOL:
        return user.school is not None and window.scope.contains(user.school.county.code)
    if user.org_unit is None:
        return True
    return window.scope.contains(user.org_unit.code) or window.scope.prefix.startswith(user.org_unit.prefix)
