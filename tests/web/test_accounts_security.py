"""Accounts as a government system needs them: throttling shared by every worker, password change and reset,
the forced change after a reset, absolute session lifetime, expiring API tokens, security events in the log.

Each attack is a test: guessing one account's password, guessing many accounts from one address, guessing in
parallel on two gunicorn workers, restarting the server to reset the counts, resetting an account outside the
jurisdiction, revoking another user's token or a malformed id.
"""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from web.conftest import PASSWORD
from web.test_operations import LIVE_PASSWORD, _wait_for, live_server
from youjun.web.accounts.middleware import LOGIN_AT
from youjun.web.accounts.models import LoginCounter, PasswordReset, Role, User
from youjun.web.api.models import ApiToken

LOGIN = "/accounts/login/"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _login(client: Client, username: str, password: str, address: str = "127.0.0.1") -> Any:
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def _events(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "youjun.security" and f"event={event} " in r.getMessage()]


# ----------------------------------------------------------------------------------------------------------------
# Throttling


@pytest.mark.django_db
def test_six_wrong_passwords_lock_that_user_but_not_another_behind_the_same_address(
    users: dict[str, User], caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    with caplog.at_level(logging.INFO, logger="youjun.security"):
        statuses = [_login(client, "county-340207", f"wrong-{i}").status_code for i in range(6)]
        locked = _login(client, "county-340207", PASSWORD)
        other = _login(Client(), "province-340000", PASSWORD)  # same address, another account
    assert statuses == [401] * 5 + [429]
    body = locked.content.decode()
    assert locked.status_code == 429 and "该账号已暂时锁定" in body and "请 15 分钟后再试" in body
    assert other.status_code == 302 and other["Location"] == "/"
    counter = LoginCounter.objects.get(key="user:county-340207")  # in the database: shared by every worker
    assert counter.count == 5 and counter.expires_at > timezone.now() + timedelta(minutes=14)
    assert len(_events(caplog, "login_failed")) == 5 and len(_events(caplog, "lockout")) == 1
    refused = _events(caplog, "login_refused")
    assert len(refused) == 2 and all("user=county-340207" in r.getMessage() for r in refused)


@pytest.mark.django_db
def test_the_last_attempts_are_announced_and_names_differ_only_by_case_share_a_counter(
    users: dict[str, User], client: Client
) -> None:
    messages = [_login(client, name, "wrong").content.decode() for name in ("County-340207", "COUNTY-340207")]
    assert "再失败" not in messages[0]
    messages += [_login(client, "county-340207", "wrong").content.decode() for _ in range(2)]
    assert "再失败 1 次，该账号将被暂时锁定" in messages[-1]
    assert "该账号已暂时锁定" in _login(client, "county-340207", "wrong").content.decode()


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_stopped_but_other_addresses_are_not(
    users: dict[str, User], settings: Any
) -> None:
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 8
    client = Client()
    names = ["county-340207", "province-340000", "prefecture-340200", "ministry-000000"]
    statuses = [_login(client, name, "wrong", "10.0.0.9").status_code for name in names for _ in range(2)]
    assert statuses == [401] * 8  # no single account reached its limit
    refused = _login(client, "county-110101", PASSWORD, "10.0.0.9")
    assert refused.status_code == 429 and "您所在网络的登录失败次数过多" in refused.content.decode()
    assert _login(Client(), "county-110101", PASSWORD, "10.0.0.10").status_code == 302


@pytest.mark.django_db
def test_a_success_clears_the_name_but_cannot_reset_the_address_counter(users: dict[str, User]) -> None:
    client = Client()
    for _ in range(4):
        _login(client, "county-340207", "wrong", "10.1.1.1")
    assert _login(Client(), "county-340207", PASSWORD, "10.1.1.1").status_code == 302
    assert not LoginCounter.objects.filter(key="user:county-340207").exists()
    # The four failures still count against the address; only the successful attempt was given back.
    assert LoginCounter.objects.get(key="addr:10.1.1.1").count == 4


@pytest.mark.django_db
def test_a_lock_ends_when_its_time_is_up(users: dict[str, User], client: Client) -> None:
    for _ in range(5):
        _login(client, "county-340207", "wrong")
    assert _login(client, "county-340207", PASSWORD).status_code == 429
    LoginCounter.objects.filter(key="user:county-340207").update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _login(client, "county-340207", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_a_forged_forwarded_header_does_not_change_the_counted_address(users: dict[str, User], settings: Any) -> None:
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 3
    for i in range(3):
        Client().post(
            LOGIN,
            {"username": f"nobody-{i}", "password": "x"},
            REMOTE_ADDR="10.2.2.2",
            HTTP_X_FORWARDED_FOR=f"1.1.1.{i}",
        )
    assert _login(Client(), "county-340207", PASSWORD, "10.2.2.2").status_code == 429
    # Behind a configured proxy, the forwarded address is the client.
    settings.YOUJUN_TRUSTED_PROXIES = ["10.3.3.3"]
    for i in range(3):
        Client().post(
            LOGIN, {"username": f"x-{i}", "password": "x"}, REMOTE_ADDR="10.3.3.3", HTTP_X_FORWARDED_FOR="192.0.2.7"
        )
    assert LoginCounter.objects.get(key="addr:192.0.2.7").count == 3
    assert not LoginCounter.objects.filter(key="addr:10.3.3.3").exists()


def test_throttling_holds_across_two_gunicorn_workers_and_a_restart(tmp_path: Path) -> None:
    """Acceptance: 12 parallel guesses on 2 workers get exactly 5 password checks; a restart keeps the lock."""
    with live_server(tmp_path, workers=2) as server:
        form = server.login_form()
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(lambda i: server.login("county-live", f"guess-{i}", form).status, range(12)))
        pattern = re.compile(r"pid=<?(\d+)>? status=(\d+) POST /accounts/login/")
        _wait_for(lambda: len(pattern.findall(server.access_file.read_text())) >= 12)
        served = pattern.findall(server.access_file.read_text())
        server.stop()
        server.start()
        after_restart = server.login("county-live", LIVE_PASSWORD)
        other = server.login("province-live", LIVE_PASSWORD)  # same address, another account
    assert sorted(statuses) == [401] * 5 + [429] * 7, statuses
    assert len({pid for pid, _ in served}) == 2, served  # both workers answered guesses
    assert after_restart.status == 429 and "该账号已暂时锁定" in after_restart.body
    assert other.status == 302


# ----------------------------------------------------------------------------------------------------------------
# Password change


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("short-1", "密码太短，至少需要 10 个字符。"),
        ("county-340207x", "密码与用户名太相似，请换一个。"),
        ("password123", "这个密码太常见，容易被猜中，请换一个。"),
        ("20240915378651", "密码不能全是数字。"),
        (PASSWORD, "新密码不能与当前密码相同。"),
    ],
)
def test_a_weak_new_password_is_refused_in_chinese(new: str, message: str, users: dict[str, User]) -> None:
    client = Client()
    client.force_login(users["county"])
    response = client.post(
        "/accounts/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    body = response.content.decode()
    assert response.status_code == 400 and message in body
    users["county"].refresh_from_db()
    assert users["county"].check_password(PASSWORD)  # nothing stored


@pytest.mark.django_db
def test_every_message_of_the_change_form_is_chinese(users: dict[str, User]) -> None:
    client = Client()
    client.force_login(users["county"])
    response = client.post("/accounts/password/", {"old_password": "nope", "new_password1": "a", "new_password2": "b"})
    form = response.context["form"]
    texts = [str(e) for errors in form.errors.values() for e in errors]
    texts += [str(f.label) for f in form] + [str(f.help_text) for f in form if f.help_text]
    assert texts and all(CJK.search(t) and not re.search(r"[A-Za-z]{3,}", t) for t in texts), texts
    assert "当前密码不正确" in response.content.decode()


@pytest.mark.django_db
def test_changing_the_password_keeps_the_session(users: dict[str, User], caplog: pytest.LogCaptureFixture) -> None:
    client = Client()
    client.force_login(users["county"])
    new = "Huangshan-Qiyun-7"
    with caplog.at_level(logging.INFO, logger="youjun.security"):
        response = client.post(
            "/accounts/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new}, follow=True
        )
    assert response.status_code == 200 and "密码已修改" in response.content.decode()
    assert client.get("/").status_code == 200  # still logged in
    user = User.objects.get(pk=users["county"].pk)
    assert user.check_password(new) and user.password_changed_at is not None
    assert _login(Client(), "county-340207", PASSWORD).status_code == 401
    assert _login(Client(), "county-340207", new).status_code == 302
    assert len(_events(caplog, "password_changed")) == 1


# ----------------------------------------------------------------------------------------------------------------
# Reset by an administrator


def _reset(admin: User, target: User, data: dict[str, str] | None = None) -> Any:
    client = Client()
    client.force_login(admin)
    return client.post(f"/accounts/users/{target.pk}/reset/", data if data is not None else {"mode": "generate"})


@pytest.mark.django_db
def test_a_county_resets_its_school_account_which_must_change_it_at_the_next_login(
    users: dict[str, User], caplog: pytest.LogCaptureFixture
) -> None:
    school = users["school"]
    before = Client()
    before.force_login(school)
    with caplog.at_level(logging.INFO, logger="youjun.security"):
        response = _reset(users["county"], school)
    shown = re.search(r'<code id="temporary-password">([^<]+)</code>', response.content.decode())
    assert response.status_code == 200 and shown, response.content.decode()[:2000]
    temporary = shown.group(1)
    assert re.fullmatch(r"[A-Za-z2-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}", temporary)
    school.refresh_from_db()
    assert school.must_change_password and school.check_password(temporary)
    audit = PasswordReset.objects.get(target=school)
    assert audit.actor == users["county"] and audit.generated and audit.address == "127.0.0.1"
    [event] = _events(caplog, "password_reset")
    assert f"user={users['county'].username}" in event.getMessage()
    assert f"target={school.username}" in event.getMessage()
    assert before.get("/").status_code == 302  # the school's old session ended with its password

    # The next login leads to the change form, and so does every page until the password is changed.
    client = Client()
    assert _login(client, school.username, temporary)["Location"] == "/accounts/password/"
    for url in ("/", "/collection/", "/accounts/tokens/"):
        assert client.get(url)["Location"] == "/accounts/password/", url
    assert "管理员已为您设置了临时密码" in client.get("/accounts/password/").content.decode()
    new = "Jiujiang-Wuhu-2024"
    changed = client.post(
        "/accounts/password/", {"old_password": temporary, "new_password1": new, "new_password2": new}
    )
    assert changed.status_code == 302
    school.refresh_from_db()
    assert not school.must_change_password
    assert client.get("/collection/").status_code == 200


@pytest.mark.django_db
def test_a_typed_temporary_password_must_pass_the_rules_and_is_not_shown(users: dict[str, User]) -> None:
    target = users["county"]
    weak = _reset(users["province"], target, {"mode": "typed", "password1": "123", "password2": "123"})
    assert weak.status_code == 400 and "密码太短" in weak.content.decode()
    target.refresh_from_db()
    assert not target.must_change_password and not PasswordReset.objects.exists()
    chosen = "Tianzhu-Shan-88"
    done = _reset(users["province"], target, {"mode": "typed", "password1": chosen, "password2": chosen})
    assert done.status_code == 200 and chosen not in done.content.decode()
    target.refresh_from_db()
    assert target.check_password(chosen) and target.must_change_password
    assert not PasswordReset.objects.get(target=target).generated


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("admin", "target", "status"),
    [
        ("province", "prefecture", 200),
        ("province", "county", 200),
        ("province", "school", 200),
        ("prefecture", "county", 200),
        ("ministry", "other_school", 200),
        ("ministry", "other_province", 200),
        ("county", "school", 200),
        ("province", "other_county", 404),  # outside the jurisdiction: as if it did not exist
        ("county", "other_school", 404),
        ("county", "prefecture", 404),  # above
        ("prefecture", "province", 404),
        ("province", "viewer", 403),  # a peer at the same unit
        ("school", "school", 403),  # no such right at all
        ("viewer", "county", 403),
        ("school", "other_school", 403),
    ],
)
def test_resets_are_allowed_only_below_within_the_jurisdiction(
    admin: str, target: str, status: int, users: dict[str, User]
) -> None:
    response = _reset(users[admin], users[target])
    assert response.status_code == status
    if status != 200:
        users[target].refresh_from_db()
        assert not users[target].must_change_password and not PasswordReset.objects.exists()
    if status == 403:
        assert "无权执行此操作" in response.content.decode()
    if status == 404:
        assert "页面不存在" in response.content.decode()


@pytest.mark.django_db
def test_malformed_and_huge_account_ids_are_404(users: dict[str, User]) -> None:
    client = Client()
    client.force_login(users["ministry"])
    for url in ("/accounts/users/abc/reset/", "/accounts/users/99999999999999999999999/reset/"):
        assert client.post(url, {"mode": "generate"}).status_code == 404
    assert client.get("/accounts/users/0/reset/").status_code == 404


@pytest.mark.django_db
def test_a_reset_lifts_the_lock_of_the_account(users: dict[str, User]) -> None:
    for _ in range(5):
        _login(Client(), "county-340207", "wrong")
    response = _reset(users["province"], users["county"])
    temporary = re.search(r'id="temporary-password">([^<]+)<', response.content.decode()).group(1)  # type: ignore[union-attr]
    assert _login(Client(), "county-340207", temporary).status_code == 302


@pytest.mark.django_db
def test_the_user_list_shows_the_accounts_below_within_the_jurisdiction(users: dict[str, User]) -> None:
    client = Client()
    client.force_login(users["province"])
    page = client.get("/accounts/users/")
    listed = {u.username for u in page.context["page"]}
    assert listed == {users[k].username for k in ("prefecture", "county", "school")}
    found = client.get("/accounts/users/", {"q": "340207", "role": Role.COUNTY, "page": "x"})
    assert [u.username for u in found.context["page"]] == ["county-340207"]
    assert "重置密码" in page.content.decode() and "下级账号" in page.content.decode()
    for key in ("school", "viewer"):
        refused = Client()
        refused.force_login(users[key])
        assert refused.get("/accounts/users/").status_code == 403
    everyone = Client()
    everyone.force_login(users["ministry"])
    names = set(
        everyone.get("/accounts/users/").context["page"].paginator.object_list.values_list("username", flat=True)
    )
    assert users["ministry"].username not in names and users["other_school"].username in names


@pytest.mark.django_db
def test_a_refusal_is_a_chinese_403_and_a_security_event(
    users: dict[str, User], caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    client.force_login(users["school"])
    with caplog.at_level(logging.INFO, logger="youjun.security"):
        response = client.get("/accounts/users/", HTTP_X_REQUEST_ID="req-403-check")
    assert (
        response.status_code == 403
        and "无权执行此操作" in response.content.decode()
        and "只有教育行政部门的账号可以管理下级账号" in response.content.decode()
    )
    [event] = _events(caplog, "permission_denied")
    assert f"user={users['school'].username}" in event.getMessage() and "path=/accounts/users/" in event.getMessage()
    assert event.request_id == "req-403-check"  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_login_and_logout_are_security_events_with_the_request_id(
    users: dict[str, User], caplog: pytest.LogCaptureFixture
) -> None:
    client = Client()
    with caplog.at_level(logging.INFO, logger="youjun.security"):
        login = client.post(LOGIN, {"username": "county-340207", "password": PASSWORD}, HTTP_X_REQUEST_ID="in-1")
        logout = client.post("/accounts/logout/", HTTP_X_REQUEST_ID="out-1")
    assert login.status_code == 302 and logout.status_code == 302
    [entered] = _events(caplog, "login")
    [left] = _events(caplog, "logout")
    assert entered.request_id == "in-1" and left.request_id == "out-1"  # type: ignore[attr-defined]
    assert "user=county-340207" in entered.getMessage() and "addr=127.0.0.1" in entered.getMessage()


# ----------------------------------------------------------------------------------------------------------------
# Sessions


@pytest.mark.django_db
def test_a_session_ends_at_its_absolute_lifetime_even_when_used(users: dict[str, User], settings: Any) -> None:
    settings.YOUJUN_SESSION_MAX_AGE = 12 * 60 * 60
    client = Client()
    assert _login(client, "county-340207", PASSWORD).status_code == 302
    assert client.get("/").status_code == 200
    session = client.session
    assert isinstance(session[LOGIN_AT], int) and abs(session[LOGIN_AT] - time.time()) < 60
    session[LOGIN_AT] = int(time.time()) - 12 * 60 * 60 - 1  # logged in just over 12 hours ago
    session.save()
    expired = client.get("/collection/")
    assert expired.status_code == 302 and expired["Location"].startswith("/accounts/login/?next=/collection/")
    assert "登录已超过 12 小时" in client.get(expired["Location"]).content.decode()
    assert client.get("/").status_code == 302  # logged out, not only redirected


# ----------------------------------------------------------------------------------------------------------------
# API tokens


@pytest.mark.django_db
def test_a_token_expires_after_the_chosen_time(users: dict[str, User]) -> None:
    client = Client()
    client.force_login(users["province"])
    client.post("/accounts/tokens/", {"name": "默认"})
    client.post("/accounts/tokens/", {"name": "短期", "days": "30"})
    default, short = ApiToken.objects.get(name="默认"), ApiToken.objects.get(name="短期")
    assert abs(default.expires_at - default.created_at - timedelta(days=180)) < timedelta(seconds=5)
    assert abs(short.expires_at - short.created_at - timedelta(days=30)) < timedelta(seconds=5)
    for days in ("366", "3650", "0", "-1", "abc", ""):
        response = client.post("/accounts/tokens/", {"name": "过长", "days": days})
        assert response.status_code == 400 and "有效期只能选择" in response.content.decode()
    assert not ApiToken.objects.filter(name="过长").exists()
    with pytest.raises(ValueError):
        ApiToken.issue(users["province"], "x", days=400)


@pytest.mark.django_db
def test_an_expired_token_is_refused_with_a_chinese_401(users: dict[str, User], client: Client) -> None:
    token, raw = ApiToken.issue(users["province"], "脚本")
    assert client.get("/api/units/340000", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    refused = client.get("/api/units/340000", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert refused.status_code == 401 and "令牌已过期" in refused.json()["detail"]
    assert refused["WWW-Authenticate"].startswith("Bearer")
    unknown = client.get("/api/units/340000", HTTP_AUTHORIZATION="Bearer yj_unknown")
    assert unknown.status_code == 401 and unknown["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.django_db
def test_the_tokens_page_shows_expiry_and_last_use(users: dict[str, User]) -> None:
    token, raw = ApiToken.issue(users["province"], "省级平台", days=90)
    old, _ = ApiToken.issue(users["province"], "旧脚本")
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=1))
    client = Client()
    client.force_login(users["province"])
    assert "从未使用" in client.get("/accounts/tokens/").content.decode()
    Client().get("/api/units/340000", HTTP_AUTHORIZATION=f"Bearer {raw}")
    token.refresh_from_db()
    page = client.get("/accounts/tokens/").content.decode()
    local = timezone.localtime
    assert local(token.last_used_at).strftime("%Y-%m-%d %H:%M") in page  # type: ignore[arg-type]
    assert local(token.expires_at).strftime("%Y-%m-%d %H:%M") in page and "有效期至" in page
    assert page.count("已过期") == 1


@pytest.mark.django_db
def test_revoking_a_malformed_or_foreign_token_id_is_404(users: dict[str, User]) -> None:
    mine, _ = ApiToken.issue(users["province"], "mine")
    foreign, _ = ApiToken.issue(users["county"], "foreign")
    client = Client(raise_request_exception=False)
    client.force_login(users["province"])
    for value in ("abc", "", "1e3", "-1", " 1", "１", "99999999999999999999999", str(foreign.pk)):
        response = client.post("/accounts/tokens/", {"action": "revoke", "token": value})
        assert response.status_code == 404, value
    assert ApiToken.objects.filter(pk__in=[mine.pk, foreign.pk]).count() == 2
    assert client.post("/accounts/tokens/", {"action": "revoke", "token": str(mine.pk)}).status_code == 302
    assert not ApiToken.objects.filter(pk=mine.pk).exists()
