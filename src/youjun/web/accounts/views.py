"""Login and logout (throttled), password change, administrators' password reset (API tokens: ``api.views``).

Every message is Chinese; every security-relevant step is a security event in the log (``accounts.logs``).
"""

from __future__ import annotations

from typing import cast

from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from youjun.web.accounts import throttle
from youjun.web.accounts.administration import managed_user, managed_users, reset_password
from youjun.web.accounts.logs import security_event
from youjun.web.accounts.models import PasswordReset, Role, User
from youjun.web.accounts.passwords import ChangePasswordForm, ResetPasswordForm

USERS_PER_PAGE = 50


@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    error = ""
    status = 200
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "").strip()[:150]
        password = request.POST.get("password", "")
        if not username or not password:
            error, status = "请输入用户名和密码。", 400
        elif (refusal := throttle.attempt(request, username)) is not None:
            security_event(request, "login_refused", user=username, scope=refusal.scope, wait_seconds=refusal.seconds)
            error, status = refusal.message, 429
        elif (user := auth.authenticate(request, username=username, password=password)) is None:
            left, lock = throttle.remaining(request, username)
            security_event(request, "login_failed", user=username, attempts_left=left)
            error, status = "用户名或密码错误。", 401
            if lock is not None:
                security_event(request, "lockout", user=username, scope=lock.scope, minutes=lock.minutes)
                error += lock.message
            elif left <= 2:
                error += f"再失败 {left} 次，该账号将被暂时锁定。"
        else:
            throttle.succeeded(request, username)
            auth.login(request, user)  # logged by the user_logged_in receiver
            if getattr(user, "must_change_password", False):
                return redirect("accounts:password_change")
            target = request.POST.get("next") or request.GET.get("next") or ""
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
                target = ""
            return redirect(target or "home")
    context = {"error": error, "username": username, "next": request.GET.get("next", "")}
    return render(request, "youjun/login.html", context, status=status)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth.logout(request)  # logged by the user_logged_out receiver
    messages.info(request, "已退出登录。")
    return redirect("accounts:login")


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """The user's own password: the current one and the new one twice; the session stays logged in."""
    user = cast(User, request.user)  # login_required: never the anonymous user
    form = ChangePasswordForm(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            changed = form.save(commit=False)
            changed.must_change_password = False
            changed.password_changed_at = timezone.now()
            changed.save(update_fields=["password", "must_change_password", "password_changed_at"])
        auth.update_session_auth_hash(request, changed)
        security_event(request, "password_changed")
        messages.success(request, "密码已修改，下次登录请使用新密码。")
        return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "youjun/password_change.html", {"form": form}, status=status)


@login_required
def users(request: HttpRequest) -> HttpResponse:
    """The accounts below the administrator within its jurisdiction, with the reset action (403 for others)."""
    accounts = managed_users(cast(User, request.user))  # login_required: never the anonymous user
    query = request.GET.get("q", "").strip()[:64]
    if query:
        accounts = accounts.filter(
            Q(username__icontains=query)
            | Q(display_name__icontains=query)
            | Q(org_unit__name__icontains=query)
            | Q(school__name__icontains=query)
        )
    role = request.GET.get("role", "")
    if role in Role.values:
        accounts = accounts.filter(role=role)
    accounts = accounts.select_related("org_unit", "school__county").order_by("username")
    page = Paginator(accounts, USERS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "query": query, "role": role, "roles": Role.choices}
    return render(request, "youjun/users.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def user_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Reset a managed account's password to a temporary one (shown once if generated); audited and logged."""
    admin = cast(User, request.user)  # login_required: never the anonymous user
    target = managed_user(admin, pk)
    form = ResetPasswordForm(target, request.POST if request.method == "POST" else None)
    shown = ""
    done = False
    if request.method == "POST" and form.is_valid():
        password, generated = form.temporary_password()
        reset_password(request, admin, target, password, generated)
        shown, done = (password if generated else ""), True
        form = ResetPasswordForm(target)
    history = PasswordReset.objects.filter(target=target).select_related("actor")[:10]
    context = {"target": target, "form": form, "shown": shown, "done": done, "history": history}
    status = 400 if request.method == "POST" and not done else 200
    return render(request, "youjun/user_reset.html", context, status=status)
