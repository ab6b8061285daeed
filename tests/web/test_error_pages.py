"""Error pages are in Chinese, and a server error shows no trace (production settings: DEBUG off)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import path

from youjun.web.accounts.models import User

pytestmark = pytest.mark.django_db


def _boom(request: Any) -> Any:
    raise RuntimeError("secret internal detail")


urlpatterns = [path("boom/", _boom)]


def test_unknown_page_is_a_chinese_404(users: dict[str, User], client: Client, settings: Any) -> None:
    settings.DEBUG = False
    client.force_login(users["county"])
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and "页面不存在" in response.content.decode()


def test_server_error_is_a_chinese_page_without_details(settings: Any) -> None:
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/boom/")
    body = response.content.decode()
    assert response.status_code == 500 and "系统错误" in body
    assert "secret internal detail" not in body and "Traceback" not in body
