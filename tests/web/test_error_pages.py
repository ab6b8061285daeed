"""Every refusal a user can meet is a Chinese page, with DEBUG off as in the demo and in production: 400, 403, 404,
405 (Django's bare answer to a wrong method), 429 (login throttling), 500 (no trace) and a failed CSRF check."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path
from django.views.decorators.http import require_POST

from youjun.web.accounts.models import User

pytestmark = pytest.mark.django_db

#: Phrases of Django's own English pages; none may reach a user.
ENGLISH = ("Forbidden", "Not Found", "Bad Request", "Server Error", "Method Not Allowed", "CSRF verification", "Debug")


def _boom(request: Any) -> Any:
    raise RuntimeError("secret internal detail")


def _forbidden(request: Any) -> Any:
    raise PermissionDenied  # no message: Django's handler renders 403.html


def _suspicious(request: Any) -> Any:
    raise SuspiciousOperation("crafted input")


@require_POST
def _post_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    path("boom/", _boom),
    path("forbidden/", _forbidden),
    path("suspicious/", _suspicious),
    path("post-only/", _post_only),
    path("api/post-only/", _post_only),
    path("", include("youjun.web.urls")),
]


@pytest.fixture(autouse=True)
def debug_off(settings: Any) -> None:
    settings.DEBUG = False


def chinese_page(response: Any, status: int, title: str) -> str:
    body = response.content.decode()
    assert response.status_code == status, body[:300]
    assert response["Content-Type"].startswith("text/html")
    assert '<html lang="zh-Hans">' in body and title in body
    assert not [phrase for phrase in ENGLISH if phrase in body]
    return body


def test_unknown_page_is_a_chinese_404(users: dict[str, User], client: Client) -> None:
    client.force_login(users["county"])
    body = chinese_page(client.get("/no/such/page/"), 404, "页面不存在")
    assert "退出" in body  # the site's own frame (menu) around it, for a logged-in user


def test_server_error_is_a_chinese_page_without_details(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    body = chinese_page(Client(raise_request_exception=False).get("/boom/"), 500, "系统错误")
    assert "secret internal detail" not in body and "Traceback" not in body


def test_bad_request_and_unknown_host_are_chinese_400(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    chinese_page(Client().get("/suspicious/"), 400, "请求有误")
    # A host name that is not allowed (DisallowedHost), e.g. a phone using an address the server does not know.
    chinese_page(Client().get("/accounts/login/", HTTP_HOST="elsewhere.example"), 400, "请求有误")


def test_permission_denied_is_a_chinese_403(settings: Any, users: dict[str, User]) -> None:
    settings.ROOT_URLCONF = __name__
    client = Client()
    client.force_login(users["county"])
    chinese_page(client.get("/forbidden/"), 403, "无权访问")


def test_a_wrong_method_is_a_chinese_405_that_keeps_the_allow_header(settings: Any, users: dict[str, User]) -> None:
    settings.ROOT_URLCONF = __name__
    response = Client().get("/post-only/")
    body = chinese_page(response, 405, "不支持此操作")
    assert response["Allow"] == "POST" and "请使用页面上的按钮" in body
    client = Client()
    client.force_login(users["county"])
    response = client.get("/accounts/logout/")  # a real POST-only view of the site, opened from the address bar
    chinese_page(response, 405, "不支持此操作")
    assert response["Allow"] == "POST"
    assert client.post("/post-only/").content == b"ok"  # the allowed method is untouched


def test_a_wrong_method_on_the_api_is_chinese_json(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    response = Client().delete("/api/post-only/")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert response["Content-Type"] == "application/json"
    assert "不支持的请求方法 DELETE" in json.loads(response.content)["detail"]


def test_a_failed_csrf_check_is_a_chinese_page(users: dict[str, User]) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "county-340207", "password": "x"})
    body = chinese_page(response, 403, "页面已过期")
    assert "请刷新页面后重新操作" in body
    # With the page it came from (same site) the page offers the way back; a foreign referer is not linked.
    came_from = "http://testserver/accounts/login/"
    body = chinese_page(client.post("/accounts/login/", {}, HTTP_REFERER=came_from), 403, "页面已过期")
    assert f'href="{came_from}"' in body
    body = chinese_page(client.post("/accounts/login/", {}, HTTP_REFERER="https://evil.example/"), 403, "页面已过期")
    assert "evil.example" not in body


def test_a_failed_csrf_check_on_the_api_is_chinese_json(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    response = Client(enforce_csrf_checks=True).post("/api/post-only/")
    assert response.status_code == 403 and response["Content-Type"] == "application/json"
    assert "页面已过期" in json.loads(response.content)["detail"]


def test_too_many_login_failures_are_a_chinese_429(users: dict[str, User], settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES = 1
    client = Client()
    client.post("/accounts/login/", {"username": "county-340207", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "county-340207", "password": "wrong"})
    chinese_page(response, 429, "登录")
