"""The anonymous answering page: no login, no session, one link token in the URL.

Request path of a submission (kept lean for the load target): one query for the link and its campaign, then one
transaction of three statements — consume the form's nonce (conditional UPDATE), INSERT the response, count it in
its group (conditional UPDATE on the group's counter); open links add one COUNT for the per-IP limit first. The
database decides every "only once" and "at most" (see ``models``): a violated rule becomes a Chinese page, never a
second row or a count over the cap.

Every answering form carries a one-time **nonce** issued when the page is rendered (``FormNonce``): it belongs to
the link and, on open links, to the device cookie the page was rendered for. A submission is accepted only with a
nonce of the same link and device, not used before, at least ``min_seconds`` old (single-use links too) and not
expired; it is spent in the transaction that stores the response. So one rendered page gives one answer: a nonce
replayed with fresh cookies, from other addresses or twice is refused.

Open (QR) links are also protected without a captcha:

* a signed device cookie, set when the page is shown; the response stores its keyed hash and the database allows
  one response per device and campaign;
* a per-IP rate limit per campaign (``settings.toml`` ``[protection]``, generous for computer rooms and CGNAT);
* a honeypot field that people do not see and simple bots fill in (every link).

A group's answers beyond its quota plus allowance are stored with ``excess`` set (the respondent sees the usual
thank-you page) and never counted. Refused submissions are counted by reason (``Refusal``), their answers not kept.

CSRF: the view is exempt. There is no login or session to ride on; a forged cross-site POST cannot carry the
device cookie (``SameSite=Lax``), so on an open link it is refused, and on a single-use link the attacker would
need the secret token, which is the credential itself. Requiring Django's CSRF cookie would instead turn
respondents whose in-app browsers drop cookies into 403 pages. The one-time nonce plays the form-token role.
"""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from youjun.web.organisation.models import OrgUnit
from youjun.web.survey import services
from youjun.web.survey.models import Campaign, CampaignStatus, FormNonce, GroupCount, Link, LinkKind, Response
from youjun.web.survey.models import RefusalReason as Why
from youjun.web.survey.services import address_block, keyed_hash, nonce_digest, record_refusal

DEVICE_COOKIE = "yj_survey_device"
DEVICE_SALT = "youjun.survey.device"
NONCE_FIELD = "nonce"
HONEYPOT = "website"
TEMPLATE = "youjun/survey/answer.html"
NOTICE = "youjun/survey/notice.html"
MAX_NONCE_LENGTH = 64


def _notice(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(request, NOTICE, {"title": title, "message": message}, status=status)


def _device(request: HttpRequest) -> str | None:
    value = request.get_signed_cookie(DEVICE_COOKIE, default=None, salt=DEVICE_SALT)
    return value if isinstance(value, str) and value else None


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


@dataclass(slots=True)
class Target:
    """What a submission needs of its link and campaign, read in one query without model instances."""

    link_id: int
    kind: str
    group: str
    token: str
    school_id: int | None
    campaign_id: int
    status: str
    title: str
    snapshot: dict[str, Any]
    county_name: str
    opens_at: datetime | None
    closes_at: datetime | None


@lru_cache(maxsize=1)
def _target_sql() -> str:
    """The lookup of a token with its campaign and county: one indexed query, written out because building it with
    the ORM cost more CPU than the rest of a submission (this path must sustain hundreds of answers per second)."""
    link, campaign, unit = (m._meta.db_table for m in (Link, Campaign, OrgUnit))
    return (
        'SELECT l.id, l.kind, l."group", l.token, l.school_id, l.campaign_id, c.status, c.title, c.questionnaire, '
        f"o.name, c.opens_at, c.closes_at FROM {link} l JOIN {campaign} c ON c.id = l.campaign_id "
        f"JOIN {unit} o ON o.id = c.county_id WHERE l.token = %s"
    )


def _target(token: str) -> Target | None:
    with connection.cursor() as cursor:
        cursor.execute(_target_sql(), [token])
        row = cursor.fetchone()
    if row is None:
        return None
    snapshot = row[8] if isinstance(row[8], dict) else json.loads(row[8])
    fields = (*row[:8], snapshot, row[9], _aware(row[10]), _aware(row[11]))
    return Target(*fields)


def _aware(value: Any) -> datetime | None:
    """A timestamp from the raw query (SQLite gives naive UTC or text, PostgreSQL aware)."""
    if value is None:
        return None
    moment = parse_datetime(value) if isinstance(value, str) else value
    if moment is None:
        return None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


def _form(
    request: HttpRequest,
    target: Target,
    spec: dict[str, Any],
    *,
    chosen: dict[str, str] | None = None,
    errors: set[str] | None = None,
    alert: str = "",
    nonce: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """The answering form. Without ``nonce`` (a first render, or the old one cannot be used) a new nonce is issued
    for this link and device; an open link without a device cookie gets a new cookie, and the nonce is bound to it."""
    link = Link.objects.select_related("campaign__county__parent", "school").get(pk=target.link_id)
    snap = target.snapshot
    prot = services.protection(snap)
    new_device = None
    if link.kind == LinkKind.OPEN and _device(request) is None:
        new_device = secrets.token_urlsafe(18)
    if nonce is None:
        device = (new_device or _device(request)) if link.kind == LinkKind.OPEN else None
        hashed = keyed_hash("device", device) if device else None
        nonce = services.issue_nonce(target.campaign_id, target.link_id, hashed, prot)
    areas = snap.get("areas", {})
    chosen = chosen or {}
    questions = [
        {
            **q,
            "area_name": areas.get(q.get("area", ""), ""),
            "chosen": chosen.get(q["id"]),
            "error": q["id"] in (errors or set()),
        }
        for q in spec["questions"]
    ]
    context = {
        "campaign": link.campaign,
        "county": link.campaign.county,
        "spec": spec,
        "questions": questions,
        "scale": snap["scale"],
        "nonce": nonce,
        "nonce_field": NONCE_FIELD,
        "alert": alert,
        "honeypot": HONEYPOT,
        "school": link.school,
    }
    response = render(request, TEMPLATE, context, status=status)
    if new_device is not None:
        days = int(prot.get("device_cookie_days", 365))
        response.set_signed_cookie(
            DEVICE_COOKIE,
            new_device,
            salt=DEVICE_SALT,
            max_age=days * 86400,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


@csrf_exempt
@never_cache
def answer(request: HttpRequest, token: str) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return _notice(request, "不支持的请求", "请用浏览器打开问卷链接。", 405)
    target = _target(token)
    if target is None:
        return _notice(request, "链接无效", "没有找到这个问卷链接，请核对链接或重新扫描二维码。", 404)
    if target.status == CampaignStatus.DRAFT:
        return _notice(request, "调查尚未开始", f"{target.title}尚未开始，请在调查开始后再打开此链接。", 403)
    now = timezone.now()
    if target.status == CampaignStatus.CLOSED or (target.closes_at and now >= target.closes_at):
        return _notice(request, "调查已结束", f"{target.title}已经结束，感谢您的关注。", 410)
    if target.opens_at and now < target.opens_at:
        when = timezone.localtime(target.opens_at).strftime("%Y年%m月%d日 %H:%M")
        return _notice(request, "调查尚未开始", f"{target.title}将于 {when} 开始，请届时再打开此链接。", 403)
    spec = target.snapshot["groups"].get(target.group)
    if spec is None:
        return _notice(request, "链接无效", "这个链接对应的问卷不存在。", 404)
    if request.method == "GET":
        if target.kind == LinkKind.SINGLE and Response.objects.filter(link_id=target.link_id).exists():
            return _used(request)
        if target.kind == LinkKind.OPEN and _device_answered(target, _device(request)):
            return _device_used(request)
        return _form(request, target, spec)
    return _submit(request, target, spec)


def _used(request: HttpRequest) -> HttpResponse:
    return _notice(request, "该链接已使用", "该链接已使用，问卷已经提交过，每个链接只能提交一次。感谢您的参与！", 409)


def _device_answered(target: Target, device: str | None, *, hashed: bool = False) -> bool:
    """Whether this browser already answered the campaign (told on opening the page, before any effort)."""
    if device is None:
        return False
    digest = device if hashed else keyed_hash("device", device)
    return Response.objects.filter(campaign_id=target.campaign_id, channel=LinkKind.OPEN, device=digest).exists()


def _device_used(request: HttpRequest) -> HttpResponse:
    return _notice(request, "本设备已提交过", "本设备已经提交过这份问卷，每台设备只能提交一次。感谢您的参与！", 409)


class _Refused(Exception):
    """Leaves the submission's transaction: the nonce could not be consumed."""


def _submit(request: HttpRequest, target: Target, spec: dict[str, Any]) -> HttpResponse:
    snap = target.snapshot
    now = timezone.now()
    if request.POST.get(HONEYPOT):
        record_refusal(target.campaign_id, Why.HONEYPOT, now)
        return _notice(request, "提交未被接受", "提交内容异常，未被接受。请重新打开问卷链接，正常作答后提交。", 403)
    scale = set(snap["scale"])
    chosen = {q["id"]: request.POST.get(q["id"], "") for q in spec["questions"]}
    missing = {qid for qid, value in chosen.items() if value not in scale}
    nonce = request.POST.get(NONCE_FIELD, "")[: MAX_NONCE_LENGTH + 1]
    shown = nonce if 0 < len(nonce) <= MAX_NONCE_LENGTH else None
    if missing:
        alert = f"还有 {len(missing)} 道题没有作答，请完成标红的题目后再提交。"
        return _form(request, target, spec, chosen=chosen, errors=missing, alert=alert, nonce=shown, status=400)
    prot = services.protection(snap)
    device = _device(request) if target.kind == LinkKind.OPEN else None
    ip = _client_ip(request)
    ip_hash = keyed_hash("ip", ip)
    if target.kind == LinkKind.OPEN:
        refusal = _open_link_refusal(target.campaign_id, device, ip_hash, prot, now)
        if refusal:
            message, status, reason = refusal
            record_refusal(target.campaign_id, reason, now)
            kept = shown if reason != Why.NO_COOKIE else None  # a new cookie needs a nonce of its own
            return _form(request, target, spec, chosen=chosen, alert=message, nonce=kept, status=status)
    device_hash = keyed_hash("device", device) if device else None
    block = address_block(ip)
    row = Response(
        campaign_id=target.campaign_id,
        link_id=target.link_id,
        channel=target.kind,
        group=target.group,
        school_id=target.school_id,
        answers=chosen,
        submitted_at=now,
        device=device_hash,
        ip=ip_hash,
        net=keyed_hash("net", block) if block else "",
    )
    try:
        with transaction.atomic():
            rendered = _consume(nonce, target, device_hash, prot, now) if shown else None
            if rendered is None:
                raise _Refused
            elapsed = int((now - rendered).total_seconds())
            row.duration = elapsed if 0 <= elapsed < 86400 else None
            row.save(force_insert=True)
            if not _count(target):
                Response.objects.filter(pk=row.pk).update(excess=True)
    except _Refused:
        return _nonce_refusal(request, target, spec, chosen, shown, device_hash, prot, now)
    except IntegrityError:
        if target.kind == LinkKind.SINGLE:
            record_refusal(target.campaign_id, Why.TOKEN_USED, now)
            return _used(request)
        record_refusal(target.campaign_id, Why.DEVICE_USED, now)
        return _device_used(request)
    return HttpResponse(_thanks(target.county_name))


@lru_cache(maxsize=1)
def _consume_sql() -> tuple[str, str]:
    """Spend a nonce: only if it is this link's (and device's), unused, old enough and not expired."""
    table = FormNonce._meta.db_table
    base = (
        f"UPDATE {table} SET used_at = %s WHERE digest = %s AND link_id = %s AND used_at IS NULL "
        "AND rendered_at <= %s AND expires_at > %s AND "
    )
    return base + "device = %s RETURNING rendered_at", base + "device IS NULL RETURNING rendered_at"


def _consume(nonce: str, target: Target, device: str | None, prot: dict[str, Any], now: datetime) -> datetime | None:
    """The render time of the consumed nonce, or None when it cannot be used (nothing changed then)."""
    adapt = connection.ops.adapt_datetimefield_value
    youngest = now - timedelta(seconds=int(prot.get("min_seconds", 20)))
    with_device, without = _consume_sql()
    params: list[Any] = [adapt(now), nonce_digest(nonce), target.link_id, adapt(youngest), adapt(now)]
    with connection.cursor() as cursor:
        if device is None:
            cursor.execute(without, params)
        else:
            cursor.execute(with_device, [*params, device])
        found = cursor.fetchone()
    return _aware(found[0]) if found else None


@lru_cache(maxsize=1)
def _count_sql() -> str:
    table = GroupCount._meta.db_table
    return f'UPDATE {table} SET counted = counted + 1 WHERE campaign_id = %s AND "group" = %s AND counted < cap'


def _count(target: Target) -> bool:
    """Count the answer in its group if the group is below its cap (the row lock decides under concurrency)."""
    for attempt in (0, 1):
        with connection.cursor() as cursor:
            cursor.execute(_count_sql(), [target.campaign_id, target.group])
            if cursor.rowcount:
                return True
        if attempt or GroupCount.objects.filter(campaign_id=target.campaign_id, group=target.group).exists():
            return False
        services.ensure_counts(Campaign.objects.get(pk=target.campaign_id))  # a campaign older than the counters
    return False


def _nonce_refusal(
    request: HttpRequest,
    target: Target,
    spec: dict[str, Any],
    chosen: dict[str, str],
    nonce: str | None,
    device: str | None,
    prot: dict[str, Any],
    now: datetime,
) -> HttpResponse:
    """Why the nonce could not be spent, told to the respondent and counted (read only on this path). A link or
    device that has already answered is told so first, whatever nonce came with the submission."""
    if target.kind == LinkKind.SINGLE and Response.objects.filter(link_id=target.link_id).exists():
        record_refusal(target.campaign_id, Why.TOKEN_USED, now)
        return _used(request)
    if device is not None and _device_answered(target, device, hashed=True):
        record_refusal(target.campaign_id, Why.DEVICE_USED, now)
        return _device_used(request)
    found = (
        FormNonce.objects.filter(pk=nonce_digest(nonce))
        .values_list("link_id", "device", "used_at", "rendered_at", "expires_at")
        .first()
        if nonce
        else None
    )
    if found is None or found[4] <= now:
        record_refusal(target.campaign_id, Why.EXPIRED, now)
        alert = "问卷页面已过期或不完整，已为您重新载入（已选答案保留），请核对后再提交。"
        return _form(request, target, spec, chosen=chosen, alert=alert, status=400)
    link_id, owner, used_at, rendered_at, _ = found
    if link_id != target.link_id or owner != device:
        record_refusal(target.campaign_id, Why.REPLAYED, now)
        return _notice(
            request,
            "提交未被接受",
            "该问卷页面不是在本设备上打开的，或已经提交过。请在本设备上重新打开问卷链接，作答后提交。",
            403,
        )
    if used_at is not None:
        record_refusal(target.campaign_id, Why.REPLAYED, now)
        return _used(request) if target.kind == LinkKind.SINGLE else _device_used(request)
    min_seconds = int(prot.get("min_seconds", 20))
    age = (now - rendered_at).total_seconds()
    if age >= min_seconds:  # old enough and unused when read: spent meanwhile by a simultaneous submission
        record_refusal(target.campaign_id, Why.REPLAYED, now)
        return _used(request) if target.kind == LinkKind.SINGLE else _device_used(request)
    record_refusal(target.campaign_id, Why.TOO_FAST, now)
    wait = max(1, math.ceil(min_seconds - age))
    alert = f"答题时间过短（不足 {min_seconds} 秒），请认真阅读每道题，约 {wait} 秒后再提交。"
    return _form(request, target, spec, chosen=chosen, alert=alert, nonce=nonce, status=403)


@lru_cache(maxsize=512)
def _thanks(county_name: str) -> str:
    """The thank-you page, rendered once per county and process: it is the same for every anonymous respondent
    (rendered without a request, so no session, user or message lookups on the hot path)."""
    return render_to_string("youjun/survey/thanks.html", {"county_name": county_name})


def _open_link_refusal(
    campaign_id: int, device: str | None, ip: str, prot: dict[str, Any], now: datetime
) -> tuple[str, int, str] | None:
    """Why an open-link submission is refused before its nonce is looked at (message, status, reason), or None."""
    if device is None:
        return "无法确认您的设备：请允许浏览器保存 Cookie，然后重新打开问卷链接作答。", 403, Why.NO_COOKIE
    window = int(prot.get("ip_window_seconds", 600))
    limit = int(prot.get("ip_max_responses", 150))
    since = now - timedelta(seconds=window)
    recent = Response.objects.filter(campaign_id=campaign_id, ip=ip, submitted_at__gte=since).count()
    if recent >= limit:
        minutes = max(1, window // 60)
        return f"同一网络在 {minutes} 分钟内提交的问卷过多，请稍后再试。", 429, Why.IP_CAP
    return None
