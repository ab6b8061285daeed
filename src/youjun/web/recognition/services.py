"""Every change of the recognition: rounds, cases moved step by step as their procedure file says, each step's
record, the files kept with a case, findings and their rectification, experts and their assignments, publication.

A move is one conditional UPDATE on the case's ``version`` (``youjun.web.workflow.advance``) in the transaction that
writes its ``StepRecord`` and its audit row, so two officials acting at once cannot both win. Who acts at a step is
the step's ``actor`` in the file: the county itself, its prefecture, its province, the ministry, or an expert
assigned to the case. What a step needs (its ``needs``) is checked before a "go on" outcome is taken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from youjun.errors import YoujunError
from youjun.standards.procedures import ACTORS, FINAL_STATES, Outcome, Procedure, Step, load_procedure, procedure_for
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import is_ministry
from youjun.web.assessment import uploads
from youjun.web.audit.services import record as audit_record
from youjun.web.collection.selectors import approved_frame
from youjun.web.evaluation import county_documents
from youjun.web.evaluation.models import CountyEvaluation
from youjun.web.evaluation.pipeline import staleness
from youjun.web.organisation.models import Level, OrgUnit
from youjun.web.organisation.selectors import basic_balance_year
from youjun.web.recognition.models import (
    Assignment,
    Case,
    CaseFile,
    CaseState,
    FileKind,
    Finding,
    FindingStatus,
    Round,
    RoundStatus,
    Snapshot,
    StepRecord,
)
from youjun.web.shortcuts import refusal
from youjun.web.workflow import advance, write_if

MAX_TEXT = 2000
MAX_ROWS = 30
VERDICTS = {"met": "符合", "doubt": "存疑", "not_met": "不符合"}
#: The actors whose steps are national (a case past the province's application waits at one of them).
NATIONAL = ("ministry", "expert")


def _conflict(message: str) -> Exception:
    return refusal(message, 409)


def _invalid(message: str) -> Exception:
    return refusal(message, 400)


def _text(raw: object, label: str, limit: int = MAX_TEXT, *, required: bool = False) -> str:
    text = str(raw or "").strip()
    if any(ord(c) < 32 and c not in "\r\n\t" for c in text):
        raise _invalid(f"「{label}」含有不可见的控制字符，请删除后再提交。")
    if len(text) > limit:
        raise _invalid(f"「{label}」最多 {limit} 个字，现有 {len(text)} 个字。")
    if required and not text:
        raise _invalid(f"请填写「{label}」。")
    return text


# ----------------------------------------------------------------------------------------------------
# Who


def procedure_of(case_or_round: Case | Round) -> Procedure:
    r = case_or_round.round if isinstance(case_or_round, Case) else case_or_round
    return load_procedure(r.procedure)


def roles_of(user: User, case: Case) -> set[str]:
    """The actors of the procedures the user is for this case (usually one)."""
    found: set[str] = set()
    code = case.county.code
    unit = user.org_unit
    if is_ministry(user):
        found.add("ministry")
    elif user.role == Role.EXPERT:
        if Assignment.objects.filter(case=case, expert=user).exists():
            found.add("expert")
    elif unit is not None:
        if user.role == Role.COUNTY and unit.code == code:
            found.add("county")
        elif user.role == Role.PREFECTURE and unit.code == code[:4] + "00":
            found.add("prefecture")
        elif user.role == Role.PROVINCE and unit.code == code[:2] + "0000":
            found.add("province")
    return found


def current_step(case: Case) -> Step | None:
    return procedure_of(case).step(case.step) if case.state == CaseState.OPEN else None


def may_act(user: User, case: Case) -> bool:
    step = current_step(case)
    return step is not None and step.actor in roles_of(user, case) and user.can_write


def require_actor(user: User, case: Case) -> Step:
    step = current_step(case)
    if step is None:
        raise _conflict(f"该申请已{case.get_state_display()}，不能再办理。")
    if step.actor not in roles_of(user, case) or not user.can_write:
        raise refusal(f"「{step.name}」环节由{ACTORS[step.actor]}办理。", 403)
    return step


def _applies(step: Step, case: Case) -> bool:
    """An optional step is skipped where it cannot happen: the prefecture's review of a county directly under its
    province (省直管县), which has no prefecture to review it."""
    if not step.optional:
        return True
    if step.actor == "prefecture":
        parent = case.county.parent
        return parent is not None and parent.level == Level.PREFECTURE
    return True


def _next(procedure: Procedure, case: Case, key: str) -> Step | None:
    step = procedure.after(key)
    while step is not None and not _applies(step, case):
        step = procedure.after(step.key)
    return step


def _previous(procedure: Procedure, case: Case, key: str) -> Step | None:
    step = procedure.before(key)
    while step is not None and not _applies(step, case):
        step = procedure.before(step.key)
    return step


def _audit(kind: str, obj: Any, user: User, before: str, after: str, action: str, reason: str, case: Case) -> None:
    audit_record(kind, obj, before, after, user, reason, action=action, county=case.county, year=case.round.year)


# ----------------------------------------------------------------------------------------------------
# Rounds


def open_round(user: User, kind: str, year: int, name: str = "") -> Round:
    """The ministry opens a year's round under the shipped procedure for that year (the latest earlier file)."""
    if not is_ministry(user):
        raise refusal("认定批次由教育部开设。", 403)
    procedure = procedure_for(kind, year)
    if procedure is None:
        raise _invalid(f"没有适用于 {year} 年度的{'复查' if kind == 'recheck' else '认定'}程序文件。")
    title = _text(name, "名称", 100) or (
        f"{year} 年度县域义务教育优质均衡发展国家督导评估认定" if kind == "recognition" else f"{year} 年度复查"
    )
    try:
        with transaction.atomic():
            r = Round.objects.create(kind=kind, year=year, procedure=procedure.id, name=title, created_by=user)
            audit_record("recognition_round", r, "", r.status, user, action=f"open:{procedure.id}")
    except IntegrityError:
        raise _conflict(f"{year} 年度的{'复查' if kind == 'recheck' else '认定'}批次已经开设。") from None
    return r


def publish(user: User, r: Round, number: str, date: dt.date | None) -> None:
    """The ministry publishes the round's list with its document number and date, once no county it applied for
    is still under national review."""
    if not is_ministry(user):
        raise refusal("认定名单由教育部公布。", 403)
    if r.kind != "recognition":
        raise _invalid("复查批次没有认定名单。")
    number = _text(number, "认定文件文号", 60, required=True)
    if date is None:
        raise _invalid("请填写发文日期。")
    procedure = procedure_of(r)
    national = [s.key for s in procedure.steps if s.actor in NATIONAL]
    waiting = Case.objects.filter(round=r, state=CaseState.OPEN, step__in=national).count()
    if waiting:
        raise _invalid(f"还有 {waiting} 个县（区）在国家层面审核中，全部作出认定决定后才能公布名单。")
    if not Case.objects.filter(round=r, state=CaseState.RECOGNISED).exists():
        raise _invalid("本批次还没有认定的县（区），没有可公布的名单。")
    with transaction.atomic():
        now = timezone.now()
        changes = {"document_number": number, "document_date": date, "published_at": now}
        advance(r, RoundStatus.PUBLISHED, [RoundStatus.OPEN], what="认定批次", changes=changes, versioned=True,
                conflict=_conflict)  # fmt: skip
        audit_record("recognition_round", r, RoundStatus.OPEN, RoundStatus.PUBLISHED, user, number, action="publish")


# ----------------------------------------------------------------------------------------------------
# Cases


def recognised_case(county: OrgUnit) -> Case | None:
    """The county's recognition in force: its latest recognised case, unless a later re-check revoked it."""
    won = (
        Case.objects.filter(county=county, round__kind="recognition", state=CaseState.RECOGNISED)
        .select_related("round")
        .order_by("-round__year")
        .first()
    )
    if won is None:
        return None
    revoked = Case.objects.filter(
        county=county, round__kind="recheck", state=CaseState.REVOKED, round__year__gte=won.round.year
    ).exists()
    return None if revoked else won


def start_case(user: User, r: Round, county: OrgUnit) -> Case:
    """A county opens its application in a recognition round; a province (or the ministry) schedules the re-check
    of a recognised county in a re-check round."""
    if r.status != RoundStatus.OPEN:
        raise _invalid(f"「{r.name}」已公布名单，不能再申请。")
    if county.level != Level.COUNTY:
        raise _invalid("只能为县级单位办理。")
    if r.kind == "recognition":
        if user.role != Role.COUNTY or user.org_unit_id != county.pk:
            raise refusal("国家认定由县级教育行政部门提出申请。", 403)
        if recognised_case(county) is not None:
            raise _invalid(f"{county.name}已通过国家认定，无需再次申请。")
    else:
        unit = user.org_unit
        own = user.role == Role.PROVINCE and unit is not None and unit.code == county.code[:2] + "0000"
        if not (is_ministry(user) or own):
            raise refusal("复查由省级教育行政部门（或教育部）安排。", 403)
        if recognised_case(county) is None:
            raise _invalid(f"{county.name}尚未通过国家认定（或认定已撤销），不能安排复查。")
    first = procedure_of(r).steps[0]
    try:
        with transaction.atomic():
            case = Case.objects.create(round=r, county=county, step=first.key, created_by=user)
            _audit("recognition_case", case, user, "", CaseState.OPEN, f"start:{first.key}", "", case)
    except IntegrityError:
        raise _conflict(f"{county.name}在「{r.name}」中已有申请。") from None
    return case


def _canonical(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def _latest_result(county: OrgUnit) -> CountyEvaluation | None:
    return CountyEvaluation.objects.filter(county=county).order_by("-year", "-computed_at").first()


def check_snapshot(county: OrgUnit) -> CountyEvaluation:
    """The stored result an application would freeze: the latest year's, current, with resource allocation met."""
    stored = _latest_result(county)
    if stored is None:
        raise _invalid("还没有评估结果，请先完成数据采集与评估，再提交申请。")
    behind = staleness(stored, county, stored.year)
    if behind.get("stale"):
        reasons = "；".join(behind.get("reasons") or ["评估结果尚未更新"])
        raise _invalid(f"{stored.year} 年评估结果待更新（{reasons}），更新后才能冻结申请快照。")
    if stored.passed is False:
        raise _invalid(f"{stored.year} 年自评结果为资源配置未达标，不能申请国家认定。")
    return stored


def _freeze(user: User, case: Case, step: Step, written: list[str]) -> Snapshot:
    """Freeze the county's data and result, and build the self-evaluation report and the 申报表 from them: all of
    it is kept with the application and never changes when the county edits its data afterwards."""
    stored = check_snapshot(case.county)
    year = stored.year
    frame = approved_frame(case.county, year)
    data = {
        "year": year,
        "standard": stored.standard,
        "ruleset_digest": stored.ruleset_digest,
        "engine_version": stored.engine_version,
        "generation": stored.generation,
        "computed_at": stored.computed_at.isoformat(),
        "passed": stored.passed,
        "result": stored.result,
        "schools": frame.to_dicts(),
    }
    digest = hashlib.sha256(_canonical(data)).hexdigest()
    snap = Snapshot.objects.create(case=case, year=year, data=json.loads(_canonical(data)), sha256=digest,
                                   taken_by=user)  # fmt: skip
    documents = [
        (FileKind.REPORT, county_documents.self_evaluation_report(case.county, year, stored)),
        (FileKind.FORM_DOCX, county_documents.application_form(case.county, year, stored, "docx")),
        (FileKind.FORM_XLSX, county_documents.application_form(case.county, year, stored, "xlsx")),
    ]
    for kind, (body, name, content_type) in documents:
        kept = _keep(user, case, kind, step.key, SimpleUploadedFile(name, body, content_type), name, snapshot=snap,
                     checked=content_type)  # fmt: skip
        written.append(kept.stored_name)
    return snap


def _keep(
    user: User, case: Case, kind: str, step: str, upload: UploadedFile[bytes], name: str, *,
    finding: Finding | None = None, snapshot: Snapshot | None = None, checked: str = "",
) -> CaseFile:  # fmt: skip
    def row(stored: Any, file_kind: Any) -> CaseFile:
        return CaseFile.objects.create(
            case=case, kind=kind, step=step, finding=finding, snapshot=snapshot, original_name=name,
            stored_name=stored.stored_name, content_type=checked or file_kind.content_type, size=stored.size,
            sha256=stored.sha256, uploaded_by=user,
        )  # fmt: skip

    if checked:  # a document the application built itself
        stored = uploads.store(upload)
        try:
            return row(stored, None)
        except BaseException:
            uploads.remove(stored.stored_name)
            raise
    return uploads.kept(name, upload, row)


UPLOAD_KINDS = {
    FileKind.EVIDENCE: ("county",),
    FileKind.ON_SITE: ("province", "prefecture"),
}


def add_file(user: User, case: Case, kind: str, upload: UploadedFile[bytes], name: str) -> CaseFile:
    """Evidence of the application (the county, while the application is with it) or an on-site check record (the
    reviewing level, at its step)."""
    step = require_actor(user, case)
    if kind not in UPLOAD_KINDS or step.actor not in UPLOAD_KINDS[FileKind(kind)]:
        raise _invalid(f"「{step.name}」环节不能上传此类材料。")
    if kind == FileKind.ON_SITE and "on_site_record" not in step.needs:
        raise _invalid(f"「{step.name}」环节没有实地核查记录。")
    with transaction.atomic():
        kept = _keep(user, case, kind, step.key, upload, name)
        _audit("recognition_case", case, user, case.state, case.state, f"file:{kind}", name[:200], case)
    return kept


# ----------------------------------------------------------------------------------------------------
# Step records


def _rows(
    post: Mapping[str, Any], prefix: str, fields: tuple[str, ...], labels: tuple[str, ...]
) -> list[dict[str, str]]:
    out = []
    for n in range(MAX_ROWS):
        row = {f: _text(post.get(f"{prefix}{f}_{n}", ""), label, 200) for f, label in zip(fields, labels, strict=True)}
        if any(row.values()):
            if not row[fields[0]]:
                raise _invalid(f"第 {n + 1} 行请填写「{labels[0]}」。")
            out.append(row)
    return out


def _percent(raw: object, label: str) -> float | None:
    text = str(raw or "").strip().rstrip("%％").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _invalid(f"「{label}」应为 0–100 之间的数，填写的是「{text[:20]}」。") from None
    if not 0 <= value <= 100:
        raise _invalid(f"「{label}」应为 0–100 之间的数，填写的是「{text[:20]}」。")
    return value


def _count(raw: object, label: str) -> int | None:
    text = str(raw or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        raise _invalid(f"「{label}」应为非负整数，填写的是「{text[:20]}」。")
    return int(text)


def indicator_items(case: Case) -> list[dict[str, str]]:
    """The items an indicator review goes through: every indicator of the frozen result, in its order (the CVs of
    resource allocation, then government guarantee and education quality item by item)."""
    snap = case.snapshots.first()
    result = (snap.data.get("result") if snap else None) or {}
    items: list[dict[str, str]] = []
    seen: set[str] = set()
    for stage in ((result.get("resource_allocation") or {}).get("stages") or {}).values():
        for code in stage.get("cv") or {}:
            if code not in seen:
                seen.add(code)
                items.append({"code": code, "name": f"{code} 校际差异系数", "detail": ""})
    for part in ("government_guarantee", "education_quality"):
        for item in (result.get(part) or {}).get("items") or []:
            code = str(item.get("code") or "")
            if code and code not in seen:
                seen.add(code)
                items.append(
                    {"code": code, "name": str(item.get("name") or code), "detail": str(item.get("detail") or "")}
                )
    return items


def school_choices(case: Case) -> list[dict[str, str]]:
    snap = case.snapshots.first()
    schools = (snap.data.get("schools") if snap else None) or []
    return [{"id": str(s.get("school_id")), "name": str(s.get("school_name") or s.get("school_id"))} for s in schools]


def parse_record(case: Case, step: Step, post: Mapping[str, Any], lists: Mapping[str, list[str]]) -> dict[str, Any]:
    """The step's record from a form, checked (a Chinese message naming the field when refused)."""
    if step.kind in ("review", "self_check", "application", "province_application", "decision", "eligibility"):
        data: dict[str, Any] = {"opinion": _text(post.get("opinion"), "意见", MAX_TEXT)}
        if "on_site_record" in step.needs:
            data["on_site"] = _text(post.get("on_site"), "实地核查记录", MAX_TEXT)
        return data
    if step.kind == "quality":
        return {"rows": _rows(post, "q_", ("item", "result", "note"), ("监测项目", "结果", "说明"))}
    if step.kind == "survey":
        if post.get("source") == "survey":  # the ministry's own survey in the survey module: its figures, as counted
            found = survey_figures(case)
            if found is None or found["source"] != "national":
                raise _invalid(
                    "本系统中没有教育部组织的该县（区）社会认可度调查，请先发起调查，或选择「导入的国家调查结果」。"
                )
            return {"source": "survey", "rate": found["rate"], "valid": found["valid"], "campaign": found["campaign"],
                    "final": bool(found["final"]), "note": _text(post.get("note"), "说明", 500)}  # fmt: skip
        return {
            "source": "import",
            "rate": _percent(post.get("rate"), "认可度（%）"),
            "valid": _count(post.get("valid"), "有效问卷数"),
            "note": _text(post.get("note"), "说明", 500),
        }
    if step.kind == "indicator_review":
        items: dict[str, dict[str, str]] = {}
        for item in indicator_items(case):
            verdict = str(post.get(f"v_{item['code']}", ""))
            comment = _text(post.get(f"c_{item['code']}", ""), f"{item['code']} 审核意见", 500)
            if verdict and verdict not in VERDICTS:
                raise _invalid(f"{item['code']} 的审核结论只能是：" + "、".join(VERDICTS.values()))
            if verdict or comment:
                items[item["code"]] = {"verdict": verdict, "comment": comment}
        return {"items": items}
    if step.kind == "inspection":
        known = {s["id"] for s in school_choices(case)}
        chosen = [str(s)[:40] for s in lists.get("schools", [])][:500]
        unknown = [s for s in chosen if s not in known]
        if unknown:
            raise _invalid(f"学校「{unknown[0][:40]}」不在申请时冻结的学校名单中。")
        return {"schools": sorted(set(chosen)), "note": _text(post.get("note"), "核查情况", MAX_TEXT)}
    return {}


def save_record(user: User, case: Case, version: int, data: dict[str, Any]) -> None:
    """Keep the current step's record (a draft until its outcome is taken)."""
    step = require_actor(user, case)
    work = dict(case.work or {})
    work[step.key] = data
    with transaction.atomic():
        write_if(Case, case.pk, what="该申请", where={"version": version, "step": step.key, "state": CaseState.OPEN},
                 values={"work": work, "version": version + 1}, conflict=_conflict)  # fmt: skip
        _audit("recognition_case", case, user, case.state, case.state, f"record:{step.key}", "", case)
    case.work, case.version = work, version + 1


def national_campaign(case: Case) -> Any:
    """The ministry's own survey of the county for the round's year (the survey module), if it organised one."""
    from youjun.web.survey.models import Campaign
    from youjun.web.survey.services.figures import NATIONAL

    return Campaign.objects.filter(NATIONAL, county=case.county, year=case.round.year).order_by("-id").first()


def start_national_survey(user: User, case: Case, population: int | None) -> Any:
    """The ministry organises the social-recognition survey of the county in the product's survey module (a draft
    campaign it alone manages: links, QR codes, opening and closing), for the round's year."""
    from youjun.web.rulesets import services as rulesets
    from youjun.web.survey import services as survey

    step = require_actor(user, case)
    if step.kind != "survey" or not is_ministry(user):
        raise _invalid("只有在「社会认可度调查」环节，教育部才能发起调查。")
    if population is not None and not 0 < population < 10**9:
        raise _invalid("常住人口应为正整数。")
    standard = rulesets.ref_for(case.county, case.round.year)
    title = f"{case.county.name}{case.round.year}年度义务教育优质均衡发展社会认可度调查（国家认定）"
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()  # two clicks at once make one campaign
        found = national_campaign(case)
        if found is not None:
            return found
        campaign = survey.create_campaign(case.county, case.round.year, title, population,
                                          survey.initial_quotas(population, standard), user)  # fmt: skip
        _audit("recognition_case", case, user, case.state, case.state, "survey", title, case)
    return campaign


def survey_figures(case: Case) -> dict[str, Any] | None:
    """The survey result the step offers: the ministry's own campaign for the county (the national survey), else
    the county's own survey of the round's year or the year before (shown as such)."""
    from youjun.web.survey.services.figures import county_recognition

    found, source = county_recognition(case.county, case.round.year, national=True), "national"
    if found is None:
        found, source = county_recognition(case.county, case.round.year), "county"
    if found is None:
        found, source = county_recognition(case.county, case.round.year - 1), "county"
    if found is None:
        return None
    rate = found.get("recognition_rate")
    valid, positive = found.get("recognition_valid") or 0, found.get("recognition_positive") or 0
    if rate is None and valid:
        rate = positive / valid
    return {"rate": None if rate is None else 100 * float(rate), "valid": valid, "final": found.get("final"),
            "source": source, "campaign": found.get("campaign_id")}  # fmt: skip


def survey_threshold(case: Case) -> float:
    """The social-recognition threshold (%) of the rule set the frozen result was computed under."""
    from youjun.web.survey.services.rules import rules_for

    snap = case.snapshots.first()
    standard = str(snap.data.get("standard")) if snap else ""
    try:
        return 100 * float(rules_for(standard).threshold)
    except Exception:  # an unknown or removed rule set: the 2017 standard's value, from the national rule set
        return 100 * float(rules_for("").threshold)


def eligibility(case: Case) -> list[dict[str, Any]]:
    """The eligibility checks from the data: years since basic balance, the creation status, the frozen result."""
    procedure = procedure_of(case)
    year = basic_balance_year(case.county)
    need = procedure.min_basic_balance_years
    checks = []
    if year is None:
        checks.append({"label": "通过国家基本均衡认定", "ok": False, "text": "未登记通过基本均衡认定的年份"})
    else:
        years = case.round.year - year
        checks.append({"label": f"通过国家基本均衡认定满 {need} 年", "ok": years >= need,
                       "text": f"{year} 年通过认定，至 {case.round.year} 年满 {years} 年"})  # fmt: skip
    from youjun.web.programme.models import Nomination, NominationStatus

    pilot = (
        Nomination.objects.filter(county=case.county, status=NominationStatus.CONFIRMED).select_related("batch").first()
    )
    checks.append({"label": "先行创建情况", "ok": None,
                   "text": f"{pilot.batch.name}先行创建县" if pilot else "非先行创建县（不影响申请资格）"})  # fmt: skip
    snap = case.snapshots.first()
    if snap is not None:
        passed = snap.data.get("passed")
        word = "达标" if passed else "未达标" if passed is False else "—"
        checks.append({"label": "申请时资源配置达标", "ok": passed is not False, "text": f"{snap.year} 年数据，{word}"})
    return checks


def _needs_met(case: Case, step: Step, outcome: Outcome, extra: Mapping[str, Any]) -> None:
    """Refuse a "go on" outcome (and a recognition) whose step lacks what it needs."""
    work = (case.work or {}).get(step.key) or {}
    positive = outcome.effect == "next" or outcome.state in ("recognised", "maintained")
    if not positive:
        return
    today = timezone.localdate()
    if step.deadline is not None and today > step.deadline:
        raise _invalid(f"「{step.name}」环节已于 {step.deadline:%Y-%m-%d} 截止。")
    if "evidence" in step.needs and not case.files.filter(kind=FileKind.EVIDENCE).exists():
        raise _invalid("请先上传佐证材料。")
    if "review_opinion" in step.needs and not work.get("opinion"):
        raise _invalid(f"请先填写并保存{step.name}意见。")
    if step.kind == "eligibility":
        failed = [c for c in eligibility(case) if c["ok"] is False]
        if failed:
            raise _invalid(f"资格审查不通过：{failed[0]['label']}（{failed[0]['text']}）。")
    if step.kind == "quality" and not work.get("rows"):
        raise _invalid("请先录入或导入质量监测结果。")
    if step.kind == "survey":
        rate, threshold = work.get("rate"), survey_threshold(case)
        if rate is None:
            raise _invalid("请先录入社会认可度调查结果（认可度）。")
        if work.get("source") == "survey" and not work.get("final"):
            raise _invalid("教育部组织的调查尚未结束，结束后再保存结果并判定。")
        if rate < threshold:
            raise _invalid(f"社会认可度 {rate:g}% 低于 {threshold:g}%，不能判为通过。")
    if step.kind == "indicator_review":
        items = work.get("items") or {}
        missing = [i["code"] for i in indicator_items(case) if not (items.get(i["code"]) or {}).get("verdict")]
        if missing:
            raise _invalid(f"还有 {len(missing)} 项指标未给出审核结论（{'、'.join(missing[:5])}）。")
        bad = [code for code, v in items.items() if v.get("verdict") == "not_met"]
        if bad:
            raise _invalid(f"{'、'.join(bad[:5])} 审核为不符合，不能判为通过。")
    if step.kind == "inspection" and not work.get("schools"):
        raise _invalid("请先记录核查的学校。")
    if step.kind == "province_application" and case.round.status != RoundStatus.OPEN:
        raise _invalid(f"「{case.round.name}」的认定名单已公布，不能再申报；请在下一年度批次中申请。")
    if step.kind == "province_application" and step.quota is not None:
        used = (
            StepRecord.objects.filter(case__round=case.round, case__county__code__startswith=case.county.code[:2],
                                      step=step.key, outcome=outcome.key)
            .exclude(case=case).values("case").distinct().count()
        )  # fmt: skip
        if used >= step.quota:
            raise _invalid(f"本年度每省申报名额为 {step.quota} 个，已用完。")
    if outcome.state in ("recognised", "maintained"):
        open_items = case.findings.exclude(status=FindingStatus.VERIFIED).count()
        if open_items:
            raise _invalid(f"还有 {open_items} 项问题整改尚未核验，核验后才能{outcome.label}。")


def act(user: User, case: Case, outcome_key: str, reason: str, version: int, extra: Mapping[str, Any]) -> str:
    """Take an outcome of the current step: go on, go back or end, as the procedure file says. Returns a message."""
    step = require_actor(user, case)
    procedure = procedure_of(case)
    outcome = step.outcome(outcome_key)
    if outcome is None:
        raise _invalid("请选择本环节的办理结果。")
    if case.version != version:
        raise _conflict("操作未执行：该申请已被他人办理或修改，请刷新页面查看最新状态后再操作。")
    reason = _text(reason, "理由", MAX_TEXT, required=outcome.reason_required)
    _needs_met(case, step, outcome, extra)
    deadline = None
    if outcome.state == "rectify":
        deadline = extra.get("deadline")
        if not isinstance(deadline, dt.date) or deadline <= timezone.localdate():
            raise _invalid("限期整改请填写今天以后的整改期限。")
    data = dict((case.work or {}).get(step.key) or {})
    if step.kind == "eligibility":
        data["checks"] = eligibility(case)
    changes: dict[str, Any] = {}
    if outcome.effect == "next":
        target = _next(procedure, case, step.key)
        assert target is not None  # the file's last step never goes on (parse_procedure)
        new_step, new_state, text = target.key, CaseState.OPEN, f"已{outcome.label}，进入「{target.name}」。"
    elif outcome.effect == "back":
        target = _previous(procedure, case, step.key)
        if target is None:
            raise _invalid("没有可退回的上一环节。")
        new_step, new_state, text = target.key, CaseState.OPEN, f"已{outcome.label}，退回「{target.name}」。"
    else:
        new_step, new_state = step.key, CaseState(outcome.state)
        text = f"已{outcome.label}：{FINAL_STATES[outcome.state]}。"
        changes["decided_at"] = timezone.now()
        if deadline is not None:
            changes["deadline"] = deadline
    freezing = step.kind in ("application", "self_check") and outcome.effect == "next" and "snapshot" in step.needs
    written: list[str] = []  # files of the snapshot's documents, removed if the move rolls back
    try:
        with transaction.atomic():
            if freezing:
                snap = _freeze(user, case, step, written)
                changes["data_year"] = snap.year
                data["snapshot"] = snap.sha256
            before = case.state
            changes["state"] = new_state
            advance(case, new_step, [step.key], what="该申请", changes=changes, versioned=True, field="step",
                    conflict=_conflict)  # fmt: skip
            StepRecord.objects.create(case=case, step=step.key, outcome=outcome.key, reason=reason, data=data,
                                      actor=user)  # fmt: skip
            _audit("recognition_case", case, user, before, new_state, f"{step.key}:{outcome.key}", reason, case)
    except BaseException:
        if freezing:  # the documents written for a snapshot that was rolled back (a lost race) leave no file behind
            for name in written:  # rows rolled back with the move; their files go too
                uploads.remove(name)
        raise
    return text


# ----------------------------------------------------------------------------------------------------
# Findings and rectification


def raise_finding(user: User, case: Case, post: Mapping[str, Any]) -> Finding:
    """A problem found at the current step by the level acting at it (an inspection or an indicator review)."""
    step = require_actor(user, case)
    if "findings" not in step.needs and step.kind not in ("indicator_review", "review", "decision"):
        raise _invalid(f"「{step.name}」环节不登记问题。")
    text = _text(post.get("text"), "问题描述", 1000, required=True)
    indicator = _text(post.get("indicator"), "涉及指标", 8)
    school = _text(post.get("school_id"), "涉及学校", 40)
    if school and school not in {s["id"] for s in school_choices(case)}:
        raise _invalid(f"学校「{school}」不在申请时冻结的学校名单中。")
    deadline = post.get("deadline")
    if not isinstance(deadline, dt.date) or deadline <= timezone.localdate():
        raise _invalid("请填写今天以后的整改期限。")
    with transaction.atomic():
        f = Finding.objects.create(
            case=case, step=step.key, raised_by=step.actor, indicator=indicator, school_id=school, text=text,
            responsible=_text(post.get("responsible"), "责任单位", 100), deadline=deadline, created_by=user,
        )  # fmt: skip
        _audit("recognition_finding", f, user, "", f.status, f"raise:{step.key}", text[:200], case)
    return f


def require_rectifier(user: User, finding: Finding) -> None:
    if "county" not in roles_of(user, finding.case) or not user.can_write:
        raise refusal("整改由县级教育行政部门填报。", 403)


def raiser_may_verify(user: User, finding: Finding) -> bool:
    """The level that raised the finding verifies it (for an expert's finding: the expert group or the ministry)."""
    roles = roles_of(user, finding.case)
    return user.can_write and (finding.raised_by in roles or (finding.raised_by == "expert" and "ministry" in roles))


def rectify(user: User, finding: Finding, post: Mapping[str, Any], version: int, submit: bool) -> str:
    """The county writes its measures (and the unit responsible) and, with ``submit``, sends them for verification."""
    require_rectifier(user, finding)
    if finding.status == FindingStatus.VERIFIED:
        raise _conflict("该问题整改已核验，不能再修改。")
    measures = _text(post.get("measures"), "整改措施", MAX_TEXT, required=submit)
    responsible = _text(post.get("responsible"), "责任单位", 100) or finding.responsible
    if submit and not responsible:
        raise _invalid("请填写「责任单位」。")
    if submit and not finding.files.filter(kind=FileKind.RECTIFICATION).exists():
        raise _invalid("请先上传整改佐证材料。")
    status = FindingStatus.SUBMITTED if submit else finding.status
    with transaction.atomic():
        write_if(Finding, finding.pk, what="该问题", where={"version": version, "status": finding.status},
                 values={"measures": measures, "responsible": responsible, "status": status, "version": version + 1},
                 conflict=_conflict)  # fmt: skip
        _audit("recognition_finding", finding, user, finding.status, status, "submit" if submit else "save",
               "", finding.case)  # fmt: skip
    return "已提交整改情况，等待核验。" if submit else "已保存整改措施。"


def add_rectification_file(user: User, finding: Finding, upload: UploadedFile[bytes], name: str) -> CaseFile:
    require_rectifier(user, finding)
    if finding.status == FindingStatus.VERIFIED:
        raise _conflict("该问题整改已核验，不能再上传材料。")
    with transaction.atomic():
        kept = _keep(user, finding.case, FileKind.RECTIFICATION, finding.step, upload, name, finding=finding)
        _audit("recognition_finding", finding, user, finding.status, finding.status, "file", name[:200], finding.case)
    return kept


def verify(user: User, finding: Finding, accept: bool, note: str, version: int) -> str:
    """The raising level accepts the rectification (closed) or sends it back to the county (open again)."""
    if not raiser_may_verify(user, finding):
        raise refusal(f"整改由提出问题的{ACTORS.get(finding.raised_by, '')}核验。", 403)
    note = _text(note, "核验意见", MAX_TEXT, required=not accept)
    target = FindingStatus.VERIFIED if accept else FindingStatus.OPEN
    values: dict[str, Any] = {"status": target, "verification": note, "version": version + 1}
    if accept:
        values |= {"verified_by": user, "verified_at": timezone.now()}
    with transaction.atomic():
        write_if(Finding, finding.pk, what="该问题", where={"version": version, "status": FindingStatus.SUBMITTED},
                 values=values, conflict=_conflict)  # fmt: skip
        _audit("recognition_finding", finding, user, FindingStatus.SUBMITTED, target,
               "verify" if accept else "reopen", note, finding.case)  # fmt: skip
    return "整改已核验通过。" if accept else "已退回县级继续整改。"


# ----------------------------------------------------------------------------------------------------
# Experts


def create_expert(user: User, username: str, name: str) -> tuple[User, str]:
    """The ministry opens an expert account (no unit: it sees only the cases it is assigned); the temporary
    password is shown once and must be changed at the first login."""
    if not is_ministry(user):
        raise refusal("专家账号由教育部开设。", 403)
    username = _text(username, "用户名", 40, required=True)
    if not all(c.isalnum() or c in "-_." for c in username):
        raise _invalid("用户名只能由字母、数字和 - _ . 组成。")
    if User.objects.filter(username=username).exists():
        raise _conflict(f"用户名「{username}」已被使用。")
    password = secrets.token_urlsafe(12)
    expert = User(username=username, display_name=_text(name, "姓名", 64, required=True), role=Role.EXPERT,
                  must_change_password=True)  # fmt: skip
    expert.set_password(password)
    try:
        with transaction.atomic():
            expert.save()
            audit_record("expert_account", expert, "", "active", user, expert.display_name, action="open")
    except IntegrityError:
        raise _conflict(f"用户名「{username}」已被使用。") from None
    return expert, password


def assign(user: User, case: Case, expert_id: int, remove: bool = False) -> str:
    if not is_ministry(user):
        raise refusal("专家由教育部指派。", 403)
    expert = User.objects.filter(pk=expert_id, role=Role.EXPERT, is_active=True).first()
    if expert is None:
        raise _invalid("请选择专家账号。")
    with transaction.atomic():
        if remove:
            changed = Assignment.objects.filter(case=case, expert=expert).delete()[0] > 0
        else:
            changed = Assignment.objects.get_or_create(case=case, expert=expert, defaults={"assigned_by": user})[1]
        if changed:  # assigning twice is audited once
            _audit("recognition_case", case, user, case.state, case.state, "unassign" if remove else "assign",
                   expert.username, case)  # fmt: skip
    return f"已{'取消指派' if remove else '指派'}专家 {expert}。"


# ----------------------------------------------------------------------------------------------------
# Quality-monitoring results imported for the whole round


def quality_cases(r: Round) -> list[Case]:
    """The round's cases waiting at a quality-monitoring step, by county code."""
    procedure = procedure_of(r)
    keys = [s.key for s in procedure.steps if s.kind == "quality"]
    return list(Case.objects.filter(round=r, state=CaseState.OPEN, step__in=keys).select_related("county"))


def import_quality(user: User, r: Round, name: str, content: bytes) -> tuple[int, int]:
    """The ministry imports the quality-monitoring results of many counties at once: every row's county must be
    waiting at the quality step of this round; each county's rows replace its recorded ones. All or nothing;
    audited per county. Returns (counties, rows)."""
    from pathlib import Path

    from django.conf import settings

    from youjun.io.limits import WEB_LIMITS
    from youjun.io.quality_results import read_quality

    if not is_ministry(user):
        raise refusal("质量监测结果由教育部录入或导入。", 403)
    shown = Path(name or "质量监测结果.xlsx").name[:100]
    limits = WEB_LIMITS.with_file_bytes(int(settings.YOUJUN_MAX_UPLOAD_BYTES))
    rows = read_quality(content, Path(shown).suffix or ".csv", limits, shown=shown)
    waiting = {c.county.code: c for c in quality_cases(r)}
    unknown = sorted({row["county_code"] for row in rows} - set(waiting))
    if unknown:
        listed = "、".join(unknown[:10]) + (f" 等 {len(unknown)} 个" if len(unknown) > 10 else "")
        raise YoujunError.single(
            "quality_county", f"县级区划代码 {listed} 不是本批次中正在「质量监测」环节的县（区），未导入任何结果。",
            file=shown, column="县级区划代码",
        )  # fmt: skip
    by_county: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_county.setdefault(row["county_code"], []).append({k: row[k] for k in ("item", "result", "note")})
    crowded = sorted(code for code, found in by_county.items() if len(found) > MAX_ROWS)
    if crowded:
        raise _invalid(f"每个县（区）最多 {MAX_ROWS} 个监测项目，{'、'.join(crowded[:5])} 超过了，未导入任何结果。")
    with transaction.atomic():
        for code, found in by_county.items():
            case = Case.objects.select_for_update().select_related("round", "county").get(pk=waiting[code].pk)
            if case.state != CaseState.OPEN or case.step != waiting[code].step:
                raise _conflict(f"{case.county.name}的申请已进入下一环节，未导入任何结果，请刷新后重试。")
            work = dict(case.work or {})
            work[case.step] = {**(work.get(case.step) or {}), "rows": found, "source": "import"}
            Case.objects.filter(pk=case.pk).update(work=work, version=case.version + 1, updated_at=timezone.now())
            _audit("recognition_case", case, user, case.state, case.state, f"record:{case.step}", shown, case)
    return len(by_county), len(rows)
