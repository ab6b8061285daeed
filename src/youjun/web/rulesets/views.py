"""The ministry's page of provincial rule sets: which province is evaluated under which rules, from which year."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from youjun.errors import YoujunError
from youjun.standards import available_rule_sets, load_rule_set
from youjun.web.accounts.models import Role
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.rulesets import services
from youjun.web.rulesets.models import RuleSetAssignment
from youjun.web.shortcuts import evaluator_required, message_page, user_of, year_from


@evaluator_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    is_ministry = user.role == Role.MINISTRY
    if request.method == "POST":
        if not is_ministry:
            return message_page(request, "无权执行此操作", "只有教育部账号可以为省份指定规则集。", 403)
        province = OrgUnit.objects.filter(code=request.POST.get("province", ""), level=Level.PROVINCE).first()
        upload = request.FILES.get("file")
        try:
            if province is None:
                raise YoujunError.single("ruleset_refused", "请选择省份。")
            assignment = services.assign(
                user,
                province,
                year_from(request.POST.get("from_year"), 0),
                ruleset=request.POST.get("ruleset", "").strip() if not upload else "",
                content=upload.read(services.MAX_UPLOAD_BYTES + 1) if upload else b"",
                reason=request.POST.get("reason", "").strip(),
            )
        except YoujunError as exc:
            for problem in exc.problems[:12]:
                messages.error(request, problem.describe())
        else:
            messages.success(
                request,
                f"已指定{province.name}自 {assignment.from_year} 年起使用「{assignment.name}」。"
                f"该省各县（区）的评估结果将显示「结果待更新」，直至重新计算"
                f"（youjun-web recompute --province {province.code[:2]}）。",
            )
        return redirect("rulesets:index")
    provinces = OrgUnit.objects.filter(level=Level.PROVINCE).order_by("code")
    visible = (
        provinces if is_ministry or user.org_unit is None else provinces.filter(code=user.org_unit.code[:2] + "0000")
    )
    assignments: dict[int, list[RuleSetAssignment]] = {}
    for a in RuleSetAssignment.objects.select_related("assigned_by").order_by("province__code", "-from_year"):
        assignments.setdefault(a.province_id, []).append(a)
    shipped = [(rid, load_rule_set(rid).name) for rid in available_rule_sets()]
    context = {
        "rows": [(p, assignments.get(p.pk, [])) for p in visible],
        "shipped": [s for s in shipped if load_rule_set(s[0]).method == load_rule_set(services.default_ref()).method],
        "default": load_rule_set(services.default_ref()),
        "is_ministry": is_ministry,
        "provinces": provinces,
    }
    return render(request, "youjun/rulesets/index.html", context)
