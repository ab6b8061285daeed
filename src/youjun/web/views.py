"""Top-level pages: the home page (工作台) gives each level its to-do list first, then its main links."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from youjun.web.accounts.models import Role, User
from youjun.web.collection.models import CollectionYear
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.shortcuts import user_of
from youjun.web.todo import selectors as todo
from youjun.web.todo import services as todo_services

#: Unread notices shown on the 工作台 (the full list is the programme's notifications page).
NOTICES_SHOWN = 5
ADMINISTRATORS = (Role.MINISTRY, Role.PROVINCE, Role.PREFECTURE, Role.COUNTY)


@dataclass(frozen=True)
class Link:
    href: str
    title: str
    text: str


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    unit = user.org_unit
    todos = todo.todos_for(user)
    todo_services.settle_notifications(user, todos)
    notices = [
        (n, todo.open_url(n.url) if n.url else "")
        for n in todo_services.open_notifications(user).filter(read=False)[:NOTICES_SHOWN]
    ]
    windows = [w for w in CollectionYear.objects.select_related("scope").order_by("-year")[:20] if _concerns(user, w)]
    if user.role == Role.EXPERT:  # an expert collects nothing
        windows = []
    latest = None
    if user.role == Role.COUNTY and unit is not None:
        latest = CountyEvaluation.objects.filter(county=unit).order_by("-year").only("year", "passed").first()
    context = {
        "todos": todos,
        "empty": "只读账号用于查看数据，没有待办事项。" if user.role == Role.VIEWER else "暂无待办事项。",
        "notices": notices,
        "open_unread": todo_services.unread_count(user),
        "groups": _groups(user),
        "windows": windows[:5],
        "latest": latest,
    }
    return render(request, "youjun/home.html", context)


def _groups(user: User) -> list[tuple[str, list[Link]]]:
    """The main links of the user's role, grouped by the work they belong to."""
    unit = user.org_unit
    if user.role == Role.EXPERT:
        what = "指派给本人的县（区）：指标审核、核查评估、问题清单与整改核验"
        review = Link(reverse("recognition:index"), "国家认定审核", what)
        return [("国家认定", [review])]
    if user.role == Role.SCHOOL:
        fill = Link("/collection/", "填报本校年度数据", "填写或上传本校数据，处理提醒，提交县（区）审核")
        return [("数据采集", [fill])]
    collection = [Link("/collection/", "年度数据采集", "查看填报进度、审核学校数据、报送与接收")]
    collection.append(Link(reverse("collection:years"), "采集年度", "各年度数据采集的开放时间与截止时间"))
    if user.role == Role.COUNTY and unit is not None:
        collection.append(Link(f"/registry/county/{unit.code}/schools/", "学校名册", "登记新学校、撤销或合并学校"))
    results = [
        Link("/evaluation/", "评估结果", "资源配置达标情况、校际差异系数、差距清单和影响最大的学校"),
        Link(reverse("assessment:index"), "综合评估", "县级指标、佐证材料、审核意见与否决事项，优质均衡综合结论"),
        Link(reverse("survey:index"), "社会认可度调查", "调查计划、问卷链接与二维码、回收进度与认可度"),
    ]
    programme = [
        Link(reverse("programme:index"), "优质均衡先行创建", "创建批次、推荐先行创建县、实施方案与进展报告"),
        Link(reverse("programme:notifications"), "通知", "推荐、审核、退回与截止提醒"),
        Link(reverse("programme:public"), "先行创建县名单", "已公布的先行创建县名单与典型经验"),
        Link(reverse("recognition:index"), "国家认定与复查", "申请国家认定、各级审核、问题整改、认定名单与复查"),
    ]
    accounts = []
    if user.role in ADMINISTRATORS or (user.is_superuser and unit is None):
        accounts.append(Link(reverse("accounts:users"), "下级账号", "开设、停用下级单位和学校的账号，重置密码"))
    accounts.append(Link(reverse("rulesets:index"), "评估规则", "各省适用的评估标准（规则集）"))
    accounts.append(Link(reverse("tokens"), "数据接口", "申请和管理数据接口令牌"))
    return [("数据采集", collection), ("评估与调查", results), ("先行创建与认定", programme), ("账号与设置", accounts)]


def _concerns(user: User, window: CollectionYear) -> bool:
    """A collection window concerns the user when its scope covers the user's unit or school, or lies below it."""
    if user.role == Role.SCHOOL:
        return user.school is not None and window.scope.contains(user.school.county.code)
    if user.org_unit is None:
        return True
    return window.scope.contains(user.org_unit.code) or window.scope.prefix.startswith(user.org_unit.prefix)
