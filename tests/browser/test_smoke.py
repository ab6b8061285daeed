"""The web app as a browser sees it: login on a phone and on a desktop."""

from __future__ import annotations

from typing import Any

from browser.conftest import DESKTOP, PASSWORD, PHONE, login, shot


def test_login_page_and_home_on_phone_and_desktop(server: str, new_page: Any) -> None:
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(viewport)
        page.goto(f"{server}/")
        assert "/accounts/login/" in page.url
        assert page.locator("h1").inner_text() == "登录"
        shot(page, f"login-{name}")
        login(page, server, "demo-county")
        assert page.locator("h1").first.inner_text() == "工作台"
        shot(page, f"home-county-{name}")


def test_wrong_password_is_refused_in_chinese(server: str, new_page: Any) -> None:
    page = new_page()
    page.goto(f"{server}/accounts/login/")
    page.fill("input[name=username]", "demo-viewer")
    page.fill("input[name=password]", PASSWORD + "x")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.locator(".error").inner_text()
