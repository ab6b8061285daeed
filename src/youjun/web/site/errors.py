"""Chinese error pages for the refusals Django answers itself, in English or with an empty body.

Django's own handlers render ``400.html``, ``403.html``, ``404.html`` and ``500.html`` (the templates of the site);
two refusals do not go through them:

- a request with a method the view does not accept gets a bare ``HttpResponseNotAllowed`` (``require_POST`` and
  friends): ``MethodNotAllowedMiddleware`` replaces it with the page ``405.html`` (the ``Allow`` header kept);
- a failed CSRF check renders Django's English page: ``CSRF_FAILURE_VIEW`` points to ``csrf_failure``, which says in
  Chinese that the form had expired and how to go on.

Under ``/api/`` both answer JSON with a Chinese ``detail``, as the API does for its other errors.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

API_PREFIX = "/api/"
METHOD_NAMES = {"GET": "打开", "HEAD": "打开", "POST": "提交", "PUT": "写入", "PATCH": "修改", "DELETE": "删除"}
CSRF_MESSAGE = "页面已过期或来源无法确认，提交未被处理。请刷新页面后重新操作；如仍不行，请允许浏览器保存 Cookie。"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


class MethodNotAllowedMiddleware:
    """A bare 405 (``HttpResponseNotAllowed``) becomes the Chinese page, keeping its ``Allow`` header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not isinstance(response, HttpResponseNotAllowed):
            return response
        allowed = [m.strip() for m in response.get("Allow", "").split(",") if m.strip()]
        page = method_not_allowed(request, allowed)
        if allowed:
            page["Allow"] = ", ".join(allowed)
        return page


def method_not_allowed(request: HttpRequest, allowed: list[str]) -> HttpResponse:
    method = request.method or ""
    if _is_api(request):
        detail = f"不支持的请求方法 {method}；此地址支持：{'、'.join(allowed) or '无'}"
        return JsonResponse({"detail": detail}, status=405, json_dumps_params={"ensure_ascii": False})
    hint = "请使用页面上的按钮或链接操作，不要直接在地址栏打开提交地址。" if "POST" in allowed else ""
    context = {"action": METHOD_NAMES.get(method, method), "hint": hint}
    return render(request, "405.html", context, status=405)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: the form's security check failed (an old page, cookies refused, another site)."""
    if _is_api(request):
        return JsonResponse({"detail": CSRF_MESSAGE}, status=403, json_dumps_params={"ensure_ascii": False})
    back = request.headers.get("referer", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = ""
    return render(request, "403_csrf.html", {"message": CSRF_MESSAGE, "back": back}, status=403)
