"""What every app's views share: the user, the unit addressed by a code (404 outside the jurisdiction), years from
query strings, the one refusal page, and the HTTP status of a refusal.

One error type (``youjun.errors.YoujunError``) carries every refusal. Its first problem's code says what kind it is:
``forbidden`` → 403 (the role may not do this), ``not_found`` → 404, a code ending in ``conflict`` → 409 (the state
moved on meanwhile), anything else → 400 (the request itself cannot be done as asked). A refusal no view handles
reaches ``RefusalMiddleware`` and becomes the refusal page with that status; views that want the message beside a
form catch it and show it there.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from youjun.errors import YoujunError
from youjun.web.accounts.models import Role, User
from youjun.web.accounts.scoping import can_see_unit
from youjun.web.converters import MAX_YEAR, MIN_YEAR
from youjun.web.organisation.models import Level, OrgUnit

View = Callable[..., HttpResponse]
TITLES = {400: "无法办理", 403: "无权执行此操作", 404: "未找到", 409: "操作冲突"}
SCHOOL_REFUSED = "学校账号用于填报本校数据，此页面供教育行政部门使用。"


def refusal(message: str, status: int = 400) -> YoujunError:
    """A refusal with the code that gives its HTTP status (``forbidden``, ``not_found``, ``conflict``, ``refused``)."""
    code = {403: "forbidden", 404: "not_found", 409: "conflict"}.get(status, "refused")
    return YoujunError.single(code, message)


def status_of(exc: YoujunError) -> int:
    code = exc.problems[0].code if exc.problems else ""
    if code == "forbidden":
        return 403
    if code == "not_found":
        return 404
    if code.endswith("conflict"):
        return 409
    return 400


def message_of(exc: YoujunError) -> str:
    return exc.problems[0].message if exc.problems else str(exc)


def message_page(request: HttpRequest, title: str, message: str, status: int = 200, **context: Any) -> HttpResponse:
    """The one page for refusals and notices: a title, a Chinese message, optional ``back`` and ``links``."""
    context = {"title": title, "message": message, "response_status": status, **context}
    return render(request, "youjun/message.html", context, status=status)


def act_then(request: HttpRequest, action: Callable[[], Any], back: str, done: str = "") -> HttpResponse:
    """Run a service call and go ``back``: a refusal of the request (400, 409) becomes the page's error message, a
    role or jurisdiction refusal (403, 404) the refusal page; on success ``done`` (or the message the call returned)
    is shown."""
    from django.contrib import messages
    from django.shortcuts import redirect

    try:
        result = action()
    except YoujunError as refused:
        if status_of(refused) in (403, 404):
            raise
        messages.error(request, message_of(refused))
    else:
        messages.success(request, done or (result if isinstance(result, str) else "已保存。"))
    return redirect(back)


def version_of(data: Any) -> int:
    """The ``version`` a form was rendered with (-1 when missing or not a number: a conflict, never a match)."""
    try:
        return int(data.get("version", ""))
    except (TypeError, ValueError):
        return -1


def problem_messages(request: HttpRequest, exc: YoujunError, limit: int = 20) -> None:
    """An upload's problems as error messages, each with its sheet, row and column (「质量监测结果，第 5 行，县级区划
    代码：应为 6 位数字…」), the first ``limit`` of them and how many more."""
    from django.contrib import messages

    for p in exc.problems[:limit]:
        where = p.location
        at = "，".join(x for x in (where.sheet, f"第 {where.row} 行" if where.row else "", where.column) if x)
        messages.error(request, f"{at}：{p.message}" if at else p.message)
    if len(exc.problems) > limit:
        messages.error(request, f"另有 {len(exc.problems) - limit} 处问题未列出。")


def refusal_page(request: HttpRequest, exc: YoujunError, back: str = "") -> HttpResponse:
    status = status_of(exc)
    messages = [p.message for p in exc.problems[:8]]
    return message_page(request, TITLES[status], messages[0] if messages else "", status, back=back, more=messages[1:])


class RefusalMiddleware:
    """A ``YoujunError`` or ``PermissionDenied`` a view lets through becomes the refusal page (never a 500)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, YoujunError):
            return refusal_page(request, exception)
        if isinstance(exception, PermissionDenied) and exception.args and isinstance(exception.args[0], str):
            return message_page(request, TITLES[403], exception.args[0], 403)
        return None


def user_of(request: HttpRequest) -> User:
    """The user of a request behind ``login_required`` (never the anonymous user there)."""
    return cast(User, request.user)


def unit_or_404(user: User, code: str, level: str | None = Level.COUNTY) -> OrgUnit:
    """The unit with this code (and level) inside the user's jurisdiction; 404 otherwise (existence does not leak)."""
    query = OrgUnit.objects.filter(code=code)
    if level is not None:
        query = query.filter(level=level)
    unit = query.first()
    if unit is None or not can_see_unit(user, unit):
        raise Http404("不存在或不在管辖范围内")
    return unit


def year_from(text: object, default: int | None = None) -> int:
    """A year from a query string or form; anything else or out of range gives ``default`` (this year)."""
    fallback = default if default is not None else timezone.localdate().year
    try:
        year = int(str(text).strip())
    except (TypeError, ValueError):
        return fallback
    return year if MIN_YEAR <= year <= MAX_YEAR else fallback


def evaluator_required(view: View) -> View:
    """Login required; school accounts see the refusal page (these pages are the administrations')."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if user_of(request).role == Role.SCHOOL:
            return message_page(request, TITLES[403], SCHOOL_REFUSED, 403)
        return view(request, *args, **kwargs)

    return wrapped


def absolute_url(request: HttpRequest | None, path: str) -> str:
    """The full address of ``path`` for people elsewhere (QR codes, e-mails): ``YOUJUN_PUBLIC_URL`` when set, else the
    address the request came to (a request is needed then)."""
    from django.conf import settings

    base = getattr(settings, "YOUJUN_PUBLIC_URL", "")
    if base:
        return base + path
    if request is None:
        return path
    return request.build_absolute_uri(path)


def confirmed(request: HttpRequest) -> bool:
    """Whether a POST carries the user's confirmation (given on the confirmation page)."""
    return request.method == "POST" and request.POST.get("confirmed") == "1"


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    action: str,
    consequences: list[str],
    notified: list[str] | None = None,
    back: str = "",
    danger: bool = False,
) -> HttpResponse:
    """The page asked before an irreversible action: what will happen, who will be told, and the two buttons.

    The view calls it when ``confirmed(request)`` is false; the page posts the same fields again (files excepted)
    to the same address with ``confirmed=1``. Without JavaScript, and the same for every action::

        if not confirmed(request):
            return confirmation_page(request, title="签发报送", action="签发并报送教育部", consequences=[...])
    """
    fields = [
        (name, value)
        for name in request.POST
        if name not in ("csrfmiddlewaretoken", "confirmed")
        for value in request.POST.getlist(name)
    ]
    context = {
        "title": title,
        "action": action,
        "consequences": consequences,
        "notified": notified or [],
        "back": back or request.headers.get("referer", ""),
        "fields": fields,
        "target": request.get_full_path(),
        "danger": danger,
    }
    return render(request, "youjun/confirm.html", context)
