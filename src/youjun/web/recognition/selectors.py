"""What the recognition pages read: the cases a user may see (experts: only those assigned to them; everyone else:
their jurisdiction), a case's steps as its procedure file names them with their records, the published lists, the
county's standing for every page about it, and what waits for the user (their to-do list)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from youjun.standards.procedures import ACTORS, FINAL_STATES, load_procedure
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import is_ministry, scoped
from youjun.web.organisation.models import OrgUnit
from youjun.web.organisation.status import StatusLine
from youjun.web.recognition.models import Case, CaseState, Finding, FindingStatus, Round, RoundStatus
from youjun.web.recognition.services import VERDICTS, procedure_of, recognised_case


def cases_for(user: User) -> QuerySet[Case]:
    """The cases the user may see: an expert the ones assigned to them, everyone else those of their jurisdiction
    (school accounts none)."""
    query = Case.objects.select_related("round", "county__parent")
    if not user.is_authenticated or user.role == Role.SCHOOL:
        return query.none()
    if user.role == Role.EXPERT:
        return query.filter(assignments__expert=user)
    try:
        return scoped(query, user, "county__code")
    except PermissionDenied:  # an account bound to no unit sees no case (its pages refuse it themselves)
        return query.none()


def case_for(user: User, pk: int) -> Case:
    case = cases_for(user).filter(pk=pk).first()
    if case is None:
        raise Http404("不存在或不在管辖范围内")
    return case


def finding_for(user: User, pk: int) -> Finding:
    finding = Finding.objects.select_related("case__round", "case__county").filter(pk=pk).first()
    if finding is None or not cases_for(user).filter(pk=finding.case_id).exists():
        raise Http404("不存在或不在管辖范围内")
    return finding


def rounds_for(user: User) -> QuerySet[Round]:
    """Every round is listed to the administrations (they are national); experts see the rounds of their cases."""
    if user.role == Role.EXPERT:
        return Round.objects.filter(cases__assignments__expert=user).distinct()
    return Round.objects.all()


def round_for(user: User, pk: int) -> Round:
    r = rounds_for(user).filter(pk=pk).first()
    if r is None:
        raise Http404("未找到该批次")
    return r


@dataclass(frozen=True)
class StepView:
    key: str
    name: str
    actor: str
    kind: str
    needs: tuple[str, ...]
    note: str
    status: str  # done | current | waiting | skipped
    records: tuple[Any, ...]
    deadline: dt.date | None
    quota: int | None


def record_summary(kind: str, data: dict[str, Any]) -> str:
    """What a step recorded, in one Chinese sentence (the page's list of steps; the full record is kept as data)."""
    parts = []
    if data.get("opinion"):
        parts.append(f"意见：{data['opinion']}")
    if data.get("on_site"):
        parts.append(f"实地核查：{data['on_site']}")
    if kind == "quality" and data.get("rows"):
        rows = "；".join(f"{r['item']} {r['result']}".strip() for r in data["rows"][:6])
        parts.append(f"质量监测结果 {len(data['rows'])} 项：{rows}")
    if kind == "survey" and data.get("rate") is not None:
        source = "导入的国家调查结果" if data.get("source") == "import" else "教育部在本系统组织的调查"
        valid = f"，有效问卷 {data['valid']} 份" if data.get("valid") is not None else ""
        parts.append(f"社会认可度 {data['rate']:g}%（{source}{valid}）")
    if kind == "indicator_review" and data.get("items"):
        verdicts = [v.get("verdict") for v in data["items"].values()]
        counted = "、".join(f"{label} {verdicts.count(key)} 项" for key, label in VERDICTS.items() if key in verdicts)
        parts.append(f"逐项审核 {len(verdicts)} 项：{counted}")
    if kind == "inspection" and data.get("schools"):
        parts.append(f"核查学校 {len(data['schools'])} 所" + (f"；{data['note']}" if data.get("note") else ""))
    if kind == "eligibility" and data.get("checks"):
        parts.append("；".join(f"{c['label']}：{c['text']}" for c in data["checks"]))
    return "；".join(parts)


def steps_of(case: Case) -> list[StepView]:
    """The case's steps in the file's order, each with its records (a step done twice after a return shows both):
    (record, the outcome's label, what the step recorded)."""
    procedure = procedure_of(case)
    records = [
        (r, outcome_label(case, r.step, r.outcome), record_summary(procedure.step(r.step).kind, r.data)  # type: ignore[union-attr]
         if procedure.step(r.step) else "")
        for r in case.records.select_related("actor")
    ]  # fmt: skip
    index = procedure.index(case.step) if procedure.step(case.step) else 0
    out = []
    for i, s in enumerate(procedure.steps):
        mine = tuple(r for r in records if r[0].step == s.key)
        if case.state == CaseState.OPEN and s.key == case.step:
            status = "current"
        elif mine:
            status = "done"
        elif i < index:
            status = "skipped"
        else:
            status = "waiting" if case.state == CaseState.OPEN else "skipped"
        out.append(StepView(s.key, s.name, ACTORS[s.actor], s.kind, s.needs, s.note, status, mine, s.deadline, s.quota))
    return out


def outcome_label(case: Case, step: str, outcome: str) -> str:
    found = procedure_of(case).step(step)
    o = found.outcome(outcome) if found else None
    return o.label if o else outcome


def round_summary(cases: QuerySet[Case], procedure: Any) -> list[dict[str, Any]]:
    """Cases per step (open) and per end state, from two aggregate queries, in the file's order."""
    open_counts = dict(
        cases.filter(state=CaseState.OPEN).values_list("step").annotate(n=Count("pk")).values_list("step", "n")
    )
    ended = dict(
        cases.exclude(state=CaseState.OPEN).values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    rows = [{"key": s.key, "label": s.name, "count": open_counts.get(s.key, 0), "step": True} for s in procedure.steps]
    rows += [
        {"key": k, "label": FINAL_STATES[k], "count": n, "step": False} for k, n in ended.items() if k in FINAL_STATES
    ]
    return rows


def published_rounds() -> QuerySet[Round]:
    return Round.objects.filter(kind="recognition", status=RoundStatus.PUBLISHED).order_by("-year")


def recognised_rows(r: Round, among: QuerySet[Case] | None = None) -> list[dict[str, Any]]:
    """The round's recognised counties by province, as the published list has them (``among``: of these cases)."""
    cases = (
        (among if among is not None else Case.objects.filter(round=r))
        .filter(state=CaseState.RECOGNISED)
        .select_related("county__parent")
        .order_by("county__code")
    )
    provinces = dict(
        OrgUnit.objects.filter(code__in={c.county.code[:2] + "0000" for c in cases}).values_list("code", "name")
    )
    return [
        {"province": provinces.get(c.county.code[:2] + "0000", ""), "code": c.county.code, "county": c.county.name,
         "prefecture": c.county.parent.name if c.county.parent and c.county.parent.code != c.county.code[:2] + "0000"
         else "", "year": c.data_year}
        for c in cases
    ]  # fmt: skip


def by_province(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["province"], []).append(row)
    return list(groups.items())


# ----------------------------------------------------------------------------------------------------
# The county's standing on every page about it


def status_lines(county: OrgUnit) -> list[StatusLine]:
    """pilot → applied → recognised in the 2024 batch → re-checked, from the programme and the recognition."""
    from youjun.web.programme.models import Nomination, NominationStatus

    lines = []
    pilot = Nomination.objects.filter(county=county, status=NominationStatus.CONFIRMED).select_related("batch").first()
    if pilot is not None:
        lines.append(StatusLine(f"{pilot.batch.name}先行创建县", "", "", 10))
    cases = list(Case.objects.filter(county=county).select_related("round").order_by("round__year", "pk"))
    for c in cases:
        url = reverse("recognition:case", args=[c.pk])
        if c.round.kind == "recognition":
            if c.state == CaseState.OPEN:
                lines.append(StatusLine(f"已申请{c.round.year}年度国家认定", "warn", url, 20 + c.round.year))
            elif c.state == CaseState.RECOGNISED:
                published = c.round.status == RoundStatus.PUBLISHED
                number = f"（{c.round.document_number}）" if published and c.round.document_number else ""
                lines.append(
                    StatusLine(f"{c.round.year}年度批次认定为优质均衡县{number}", "good", url, 20 + c.round.year)
                )
            else:
                lines.append(
                    StatusLine(f"{c.round.year}年度国家认定：{c.get_state_display()}", "bad", url, 20 + c.round.year)
                )
        else:
            tone = {"maintained": "good", "rectify": "warn", "revoked": "bad"}.get(c.state, "")
            text = "复查中" if c.state == CaseState.OPEN else c.get_state_display()
            if c.state == CaseState.RECTIFY and c.deadline:
                text += f"（{c.deadline:%Y-%m-%d} 前）"
            lines.append(StatusLine(f"{c.round.year}年度复查：{text}", tone, url, 30 + c.round.year))
    return lines


def standing(county: OrgUnit) -> str:
    """One word for lists: 已认定 / 认定中 / 先行创建 / —."""
    if recognised_case(county) is not None:
        return "已认定"
    if Case.objects.filter(county=county, round__kind="recognition", state=CaseState.OPEN).exists():
        return "认定中"
    return ""


# ----------------------------------------------------------------------------------------------------
# What waits for the user


@dataclass(frozen=True)
class Pending:
    key: str
    text: str
    count: int
    url: str
    names: tuple[str, ...]
    deadline: dt.date | None = None


#: The procedures' actor a user is, by role (within the cases their jurisdiction, or their assignments, lets them see).
ACTOR_OF_ROLE = {Role.MINISTRY: "ministry", Role.PROVINCE: "province", Role.PREFECTURE: "prefecture",
                 Role.COUNTY: "county", Role.EXPERT: "expert"}  # fmt: skip


def actor_of(user: User) -> str:
    return "ministry" if is_ministry(user) else ACTOR_OF_ROLE.get(Role(user.role), "")


def pending_for(user: User) -> list[Pending]:
    """Cases waiting at a step the user acts at, findings to rectify (county) or to verify (the raising level),
    and overdue findings — grouped, with a count each, from a handful of aggregate queries whatever the number of
    cases (the ministry's list at national scale)."""
    if not user.is_authenticated or user.role in (Role.SCHOOL, Role.VIEWER):
        return []
    actor = actor_of(user)
    visible = cases_for(user)
    open_cases = visible.filter(state=CaseState.OPEN)
    groups = open_cases.values("round__procedure", "step").annotate(n=Count("pk")).order_by("round__procedure", "step")
    waiting: dict[str, list[tuple[str, str, int]]] = {}
    for g in groups:
        step = load_procedure(g["round__procedure"]).step(g["step"])
        if step is not None and step.actor == actor:
            waiting.setdefault(step.name, []).append((g["round__procedure"], g["step"], g["n"]))
    out = []
    for name, parts in waiting.items():
        count = sum(n for _, _, n in parts)
        query = Q()
        for procedure, key, _ in parts:
            query |= Q(round__procedure=procedure, step=key)
        first = list(open_cases.filter(query).order_by("county__code").values_list("pk", "county__name")[:5])
        url = reverse("recognition:case", args=[first[0][0]]) if count == 1 else reverse("recognition:index")
        out.append(Pending(f"recognition:step:{name}", f"国家认定「{name}」待办理", count, url,
                           tuple(n for _, n in first)))  # fmt: skip
    findings = Finding.objects.filter(case__in=visible.values("pk"))
    today = timezone.localdate()
    if actor == "county":
        todo = findings.filter(status=FindingStatus.OPEN)
        count = todo.count()
        if count:
            head = todo.order_by("deadline", "pk").values_list("case_id", "deadline").first()
            assert head is not None
            late = todo.filter(deadline__lt=today).count()
            text = "问题清单待整改" + (f"（已逾期 {late} 项）" if late else "")
            url = reverse("recognition:case", args=[head[0]]) + "#findings"
            out.append(Pending("recognition:rectify", text, count, url, (), head[1]))
        rectify = visible.filter(round__kind="recheck", state=CaseState.RECTIFY, deadline__isnull=False)
        for c in rectify.order_by("deadline")[:5]:
            out.append(Pending(f"recognition:recheck:{c.pk}", f"{c.round.year}年度复查限期整改", 1,
                               reverse("recognition:case", args=[c.pk]), (), c.deadline))  # fmt: skip
    raisers = {"ministry": ("ministry", "expert")}.get(actor, (actor,))
    submitted = findings.filter(status=FindingStatus.SUBMITTED, raised_by__in=raisers)
    count = submitted.count()
    if count and user.can_write:
        first_findings = list(submitted.order_by("deadline", "pk").values_list("pk", "case__county__name")[:5])
        url = (
            reverse("recognition:finding", args=[first_findings[0][0]]) if count == 1 else reverse("recognition:index")
        )
        out.append(Pending("recognition:verify", "整改情况待核验", count, url, tuple(n for _, n in first_findings)))
    if actor != "county":
        late = findings.filter(status=FindingStatus.OPEN, deadline__lt=today).count()
        if late:
            out.append(
                Pending("recognition:overdue", "问题整改已逾期", late, reverse("recognition:index") + "#overdue", ())
            )
    return out


def overdue_findings(user: User) -> list[Finding]:
    today = timezone.localdate()
    return list(
        Finding.objects.filter(case__in=cases_for(user).values("pk"), status=FindingStatus.OPEN, deadline__lt=today)
        .select_related("case__county", "case__round")
        .order_by("deadline")[:200]
    )


def final_label(state: str) -> str:
    return FINAL_STATES.get(state, "办理中")


_FIXED = {
    "assign": "指派专家", "unassign": "取消指派专家", "save": "保存整改措施", "submit": "提交整改情况",
    "file": "上传整改佐证材料", "verify": "整改核验通过", "reopen": "退回继续整改", "publish": "公布认定名单",
}  # fmt: skip


def action_label(action: str, case: Case | None = None) -> str:
    """An audited action in Chinese: 「核查评估」：核查评估通过, 保存「指标审核」记录, 开设批次 …"""
    head, _, tail = action.partition(":")
    procedure = procedure_of(case) if case is not None else None
    step = procedure.step(head) if procedure is not None else None
    if head in _FIXED and not tail:
        return _FIXED[head]
    if head == "open":
        return "开设批次"
    if head == "start":
        return "建立申请"
    if head == "raise":
        s = procedure.step(tail) if procedure is not None else None
        return f"登记问题（{s.name if s else tail}）"
    if head == "record":
        s = procedure.step(tail) if procedure is not None else None
        return f"保存「{s.name if s else tail}」记录"
    if head == "file":
        from youjun.web.recognition.models import FileKind

        return "上传" + (FileKind(tail).label if tail in FileKind.values else "材料")
    if step is not None:
        o = step.outcome(tail)
        return f"「{step.name}」：{o.label if o else tail}"
    return action


def history_rows(kind: str, obj: Any, case: Case | None) -> list[tuple[Any, str]]:
    from youjun.web.audit.services import history

    return [(t, action_label(t.action, case)) for t in history(kind, obj)]


def monitoring_warnings(county: OrgUnit, limit: int = 10) -> list[Any]:
    """The county's warnings of the latest monitored year (a recognised county stays under annual monitoring)."""
    from youjun.web.monitoring.models import Warning

    latest = Warning.objects.filter(county=county).order_by("-year").values_list("year", flat=True).first()
    if latest is None:
        return []
    return list(Warning.objects.filter(county=county, year=latest).order_by("-severity", "id")[:limit])


def warning_counts(counties: list[OrgUnit]) -> dict[int, int]:
    """Warnings of the latest monitored year per county (the re-check round's list of recognised counties)."""
    from django.db.models import Max

    from youjun.web.monitoring.models import Warning

    ids = [c.pk for c in counties]
    latest = dict(
        Warning.objects.filter(county_id__in=ids)
        .values("county_id")
        .annotate(y=Max("year"))
        .values_list("county_id", "y")
    )
    counts: dict[int, int] = {}
    for county_id, year in Warning.objects.filter(county_id__in=ids).values_list("county_id", "year"):
        if latest.get(county_id) == year:
            counts[county_id] = counts.get(county_id, 0) + 1
    return counts
