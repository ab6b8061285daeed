"""The user's API tokens page (the API itself is ``api.api``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from youjun.web.accounts.logs import security_event
from youjun.web.api.models import DEFAULT_LIFETIME, LIFETIME_CHOICES, ApiToken
from youjun.web.shortcuts import user_of

MAX_TOKENS = 10


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens: create one (its secret is shown once, only its digest is stored) or revoke one."""
    user = user_of(request)
    created = ""
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            raw = request.POST.get("token", "")
            if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
                raise Http404("没有找到该令牌")
            deleted, _ = ApiToken.objects.filter(user=user, pk=int(raw)).delete()
            if not deleted:  # not this user's token (or already gone): as if it did not exist
                raise Http404("没有找到该令牌")
            security_event(request, "token_revoked", token=raw)
            messages.info(request, "已撤销令牌。")
            return redirect("tokens")
        name = request.POST.get("name", "").strip()[:64] or "数据接口"
        days = request.POST.get("days", str(DEFAULT_LIFETIME)).strip()
        if days not in {str(choice) for choice in LIFETIME_CHOICES}:
            messages.error(request, "有效期只能选择 " + "、".join(map(str, LIFETIME_CHOICES)) + " 天。")
            status = 400
        elif ApiToken.objects.filter(user=user).count() >= MAX_TOKENS:
            messages.error(request, f"每个账号最多 {MAX_TOKENS} 个令牌（含已过期的），请先撤销不用的令牌。")
            status = 400
        else:
            token, created = ApiToken.issue(user, name, int(days))
            security_event(request, "token_created", token=token.pk, days=days)
    context = {
        "tokens": ApiToken.objects.filter(user=user).order_by("-created_at"),
        "created": created,
        "lifetimes": LIFETIME_CHOICES,
        "default_lifetime": DEFAULT_LIFETIME,
        "now": timezone.now(),
    }
    return render(request, "youjun/tokens.html", context, status=status)
