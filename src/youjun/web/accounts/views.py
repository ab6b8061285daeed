"""Login and logout (Chinese messages, throttled)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from youjun.web.accounts import throttle

MAX_TOKENS = 10


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    error = ""
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "").strip()[:150]
        password = request.POST.get("password", "")
        if throttle.is_locked(request, username):
            minutes = settings.LOGIN_FAILURE_WINDOW // 60
            error = f"登录失败次数过多，请 {minutes} 分钟后再试。"
        else:
            user = auth.authenticate(request, username=username, password=password)
            if user is None:
                throttle.record_failure(request, username)
                error = "用户名或密码错误。"
            else:
                throttle.clear(request, username)
                auth.login(request, user)
                target = request.POST.get("next") or request.GET.get("next") or ""
                if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
                    target = ""
                return redirect(target or "home")
    status = 429 if error.startswith("登录失败次数过多") else (200 if not error else 401)
    context = {"error": error, "username": username, "next": request.GET.get("next", "")}
    return render(request, "youjun/login.html", context, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth.logout(request)
    messages.info(request, "已退出登录。")
    return redirect("accounts:login")


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens: create one (its secret is shown once, only its digest is stored) or revoke one."""
    from youjun.web.api.models import ApiToken

    user = request.user
    created = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            deleted, _ = ApiToken.objects.filter(user=user, pk=request.POST.get("token", "0") or 0).delete()
            messages.info(request, "已撤销令牌。" if deleted else "没有找到该令牌。")
            return redirect("accounts:tokens")
        name = request.POST.get("name", "").strip()[:64] or "数据接口"
        if ApiToken.objects.filter(user=user).count() >= MAX_TOKENS:
            messages.error(request, f"每个账号最多 {MAX_TOKENS} 个令牌，请先撤销不用的令牌。")
        else:
            _, created = ApiToken.issue(user, name)
    context = {"tokens": ApiToken.objects.filter(user=user).order_by("-created_at"), "created": created}
    return render(request, "youjun/tokens.html", context)
