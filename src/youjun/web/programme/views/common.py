"""What the programme's pages share: access, the unit and nomination addressed, posted values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from youjun.errors import YoujunError
from youjun.web.accounts.models import Role
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.assessment import uploads
from youjun.web.organisation.models import OrgUnit
from youjun.web.programme.models import (
    Nomination,
)
from youjun.web.shortcuts import act_then, message_page, user_of
from youjun.web.uploads import body_limited

View = Callable[..., HttpResponseBase]
SCHOOL_REFUSED = "学校账号用于填报本校数据，不参与先行创建工作。"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MAX_TEXT = 4000


def member_required(view: View) -> View:
    """Login required; school accounts refused. Refusals the view lets through become the refusal page
    (``youjun.web.shortcuts.RefusalMiddleware``)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
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
    return act_then(request, action, back, success)


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


def field_errors(
    exc: YoujunError, labels: Mapping[str, str], prefix: str = ""
) -> tuple[list[dict[str, str]], dict[str, str]]:
    """A refused form's problems by field: the entries of the error summary (``youjun/_error_summary.html``: id,
    label, message, linking to the field) and each field's message (shown under it, the field marked invalid).
    A problem without a field is listed in the summary against the form itself."""
    summary: list[dict[str, str]] = []
    by_field: dict[str, str] = {}
    for p in exc.problems:
        key = p.location.field or ""
        if key and key not in by_field:
            by_field[key] = p.message
        summary.append(
            {"id": f"{prefix}{key}" if key else "form", "label": labels.get(key, "表单"), "message": p.message}
        )
    return summary, by_field


def located(exc: YoujunError) -> bool:
    """Whether a refusal is about the form's fields (shown beside them) rather than the object's state."""
    return bool(exc.problems) and all(p.location.field for p in exc.problems)


def _too_large(request: HttpRequest, kwargs: Mapping[str, Any]) -> HttpResponse:
    """An oversized upload, refused unread, with the way back to the page it came from."""
    if "pk" in kwargs:
        back = reverse("programme:nomination", args=[kwargs["pk"]])
    elif "number" in kwargs and "code" in kwargs:
        back = reverse("programme:province", args=[kwargs["number"], kwargs["code"]])
    else:
        back = ""
    return uploads.refuse_too_large(request, back)


#: The programme's uploads (evidence of conditions 1 and 3, the stamped letter) under the assessment's guards: the
#: body refused unread above the limit, the size enforced while reading, the file names kept as sent, then CSRF.
programme_upload = body_limited(uploads.limit_bytes, _too_large, uploads.keep_names)
