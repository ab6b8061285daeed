"""What the programme's pages share: access, the unit and nomination addressed, posted values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone

from youjun.errors import YoujunError
from youjun.web.accounts.models import Role
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme.models import (
    Nomination,
)
from youjun.web.shortcuts import message_of, message_page, status_of, user_of

View = Callable[..., HttpResponse]
SCHOOL_REFUSED = "学校账号用于填报本校数据，不参与先行创建工作。"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_TEXT = 4000


def member_required(view: View) -> View:
    """Login required; school accounts refused. Refusals the view lets through become the refusal page
    (``youjun.web.shortcuts.RefusalMiddleware``)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if user_of(request).role == Role.SCHOOL:
            return message_page(request, "无权访问", SCHOOL_REFUSED, 403)
        return view(request, *args, **kwargs)

    return wrapped


_user = user_of


def _unit(request: HttpRequest, code: str, level: str) -> OrgUnit:
    """The unit with this code and level inside the user's jurisdiction, else 404."""
    unit = OrgUnit.objects.filter(code=code, level=level).first()
    if unit is None or not can_see_unit(_user(request), unit):
        raise Http404("不存在或不在管辖范围内")
    return unit


def _nomination(request: HttpRequest, pk: int) -> Nomination:
    n = get_object_or_404(Nomination.objects.select_related("batch", "county", "province"), pk=pk)
    if not can_see_unit(_user(request), n.county):
        raise Http404("不存在或不在管辖范围内")
    return n


def _act(request: HttpRequest, action: Callable[[], Any], success: str, back: str) -> HttpResponse:
    """Run a transition; a state/quota/deadline refusal becomes an error message, a role refusal a 403 page."""
    try:
        action()
    except YoujunError as refused:
        if status_of(refused) in (403, 404):
            raise
        messages.error(request, message_of(refused))
    else:
        messages.success(request, success)
    return redirect(back)


def _text(request: HttpRequest, name: str) -> str:
    return request.POST.get(name, "").strip()[:MAX_TEXT]


def _datetime(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
