"""The anonymous answering page: no login, no session, one link token in the URL.

Request path of a submission (kept lean for the load target): one query for the link and its campaign, one INSERT
in its own transaction (open links: plus one COUNT for the per-IP limit). The database constraints decide "only
once" (see ``models``); a violated constraint becomes the Chinese "already used" page, never a second row.

Open (QR) links are protected without a captcha:

* a signed device cookie, set when the page is shown; the response stores its keyed hash and the database allows
  one response per device and campaign;
* a per-IP rate limit per campaign (``settings.toml`` ``[protection]``, generous for computer rooms and CGNAT);
* a minimum answering time, measured from the signed render time carried by the form;
* a honeypot field that people do not see and simple bots fill in.

CSRF: the view is exempt. There is no login or session to ride on; a forged cross-site POST cannot carry the
device cookie (``SameSite=Lax``), so on an open link it is refused, and on a single-use link the attacker would
need the secret token, which is the credential itself. Requiring Django's CSRF cookie would instead turn
respondents whose in-app browsers drop cookies into 403 pages. The signed render stamp plays the form-token role.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from youjun.web.organisation.models import OrgUnit
from youjun.web.survey.models import Campaign, CampaignStatus, Link, LinkKind, Response
from youjun.web.survey.services import keyed_hash

DEVICE_COOKIE = "yj_survey_device"
DEVICE_SALT = "youjun.survey.device"
RENDER_SALT = "youjun.survey.render"
HONEYPOT = "website"
TEMPLATE = "youjun/survey/answer.html"
NOTICE = "youjun/survey/notice.html"


def _notice(request: HttpRequest, title: str, message: str, status: int) -> HttpResponse:
    return render(request, NOTICE, {"title": title, "message": message}, status=status)


def _stamp(token: str) -> str:
    return signing.Signer(salt=RENDER_SALT).sign(f"{token}.{int(time.time())}")


def _elapsed(stamp: str, token: str) -> int | None:
    """Seconds since the page was rendered for this token, or None if the stamp is missing or forged."""
    try:
        value = signing.Signer(salt=RENDER_SALT).unsign(stamp)
    except signing.BadSignature:
        return None
    signed_token, _, rendered = value.rpartition(".")
    if signed_token != token or not rendered.isdigit():
        return None
    return max(0, int(time.time()) - int(rendered))


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
    return Target(*row[:8], snapshot, row[9], _aware(row[10]), _aware(row[11]))


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
    stamp: str | None = None,
    status: int = 200,
) -> HttpResponse:
    link = Link.objects.select_related("campaign__county", "school").get(pk=target.link_id)
    snap = target.snapshot
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
        "stamp": stamp or _stamp(link.token),
        "alert": alert,
        "honeypot": HONEYPOT,
        "school": link.school,
    }
    response = render(request, TEMPLATE, context, status=status)
    if link.kind == LinkKind.OPEN and _device(request) is None:
        days = int(snap.get("protection", {}).get("device_cookie_days", 365))
        response.set_signed_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(18),
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


def _device_answered(target: Target, device: str | None) -> bool:
    """Whether this browser already answered the campaign (told on opening the page, before any effort)."""
    if device is None:
        return False
    hashed = keyed_hash("device", device)
    return Response.objects.filter(campaign_id=target.campaign_id, channel=LinkKind.OPEN, device=hashed).exists()


def _device_used(request: HttpRequest) -> HttpResponse:
    return _notice(request, "本设备已提交过", "本设备已经提交过这份问卷，每台设备只能提交一次。感谢您的参与！", 409)


def _submit(request: HttpRequest, target: Target, spec: dict[str, Any]) -> HttpResponse:
    snap = target.snapshot
    if request.POST.get(HONEYPOT):
        return _notice(request, "提交未被接受", "提交内容异常，未被接受。请重新打开问卷链接，正常作答后提交。", 403)
    scale = set(snap["scale"])
    chosen = {q["id"]: request.POST.get(q["id"], "") for q in spec["questions"]}
    missing = {qid for qid, value in chosen.items() if value not in scale}
    stamp = request.POST.get("rendered", "")
    elapsed = _elapsed(stamp, target.token)
    if missing:
        alert = f"还有 {len(missing)} 道题没有作答，请完成标红的题目后再提交。"
        return _form(request, target, spec, chosen=chosen, errors=missing, alert=alert, stamp=stamp or None, status=400)
    device = _device(request)
    ip = keyed_hash("ip", _client_ip(request))
    now = timezone.now()
    if target.kind == LinkKind.OPEN:
        refusal = _open_link_refusal(target.campaign_id, elapsed, device, ip, snap.get("protection", {}), now)
        if refusal:
            message, status = refusal
            return _form(request, target, spec, chosen=chosen, alert=message, stamp=stamp or None, status=status)
    row = Response(
        campaign_id=target.campaign_id,
        link_id=target.link_id,
        channel=target.kind,
        group=target.group,
        school_id=target.school_id,
        answers=chosen,
        submitted_at=now,
        device=keyed_hash("device", device) if device else None,
        ip=ip,
        duration=elapsed if elapsed is not None and elapsed < 86400 else None,
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        if target.kind == LinkKind.SINGLE:
            return _used(request)
        return _device_used(request)
    return HttpResponse(_thanks(target.county_name))


@lru_cache(maxsize=512)
def _thanks(county_name: str) -> str:
    """The thank-you page, rendered once per county and process: it is the same for every anonymous respondent
    (rendered without a request, so no session, user or message lookups on the hot path)."""
    return render_to_string("youjun/survey/thanks.html", {"county_name": county_name})


def _open_link_refusal(
    campaign_id: int, elapsed: int | None, device: str | None, ip: str, protection: dict[str, Any], now: datetime
) -> tuple[str, int] | None:
    """Why an open-link submission is refused (Chinese message, status), or None."""
    max_age = int(protection.get("render_max_age_hours", 24)) * 3600
    if elapsed is None or elapsed > max_age:
        return "问卷页面已过期或不完整，请重新打开问卷链接后作答。", 400
    if device is None:
        return "无法确认您的设备：请允许浏览器保存 Cookie，然后重新打开问卷链接作答。", 403
    min_seconds = int(protection.get("min_seconds", 20))
    if elapsed < min_seconds:
        return f"答题时间过短（不足 {min_seconds} 秒），请认真阅读每道题后再提交。", 403
    window = int(protection.get("ip_window_seconds", 600))
    limit = int(protection.get("ip_max_responses", 150))
    since = now - timedelta(seconds=window)
    recent = Response.objects.filter(campaign_id=campaign_id, ip=ip, submitted_at__gte=since).count()
    if recent >= limit:
        minutes = max(1, window // 60)
        return f"同一网络在 {minutes} 分钟内提交的问卷过多，请稍后再试。", 429
    return None
