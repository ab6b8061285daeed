"""``make demo``: DEBUG off, the host and port as variables, this machine's addresses allowed so that a phone on the
same network can answer the survey, QR codes carrying the network address, and the printed accounts with full login
links that lead where they say."""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from youjun.web.accounts.models import User
from youjun.web.organisation.models import OrgUnit
from youjun.web.site import network
from youjun.web.site.management.commands.demo_setup import PASSWORD, Command, base_url, place_name

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_PROBE = """
import json, django
from django.conf import settings as s
print(json.dumps({"debug": s.DEBUG, "hosts": s.ALLOWED_HOSTS, "public": s.YOUJUN_PUBLIC_URL, "local": s.YOUJUN_DEMO_URL,
                  "csrf_view": s.CSRF_FAILURE_VIEW}))
"""


def _clean_env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("YOUJUN_", "DATABASE_URL", "DJANGO_"))}
    return {**base, "DJANGO_SETTINGS_MODULE": "youjun.web.settings", **extra}


def _settings(tmp_path: Path, **env: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", SETTINGS_PROBE],
        env=_clean_env(YOUJUN_DATA_DIR=str(tmp_path), **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(result.stdout))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ----------------------------------------------------------------------------------------------------
# This machine's addresses


def test_the_demo_address_for_phones_follows_the_listening_host() -> None:
    lan = "192.168.1.23"
    assert network.demo_urls("0.0.0.0", "8080", lambda: lan) == ("http://127.0.0.1:8080", f"http://{lan}:8080")
    assert network.demo_urls("0.0.0.0", "8080", lambda: "") == ("http://127.0.0.1:8080", "")  # offline
    assert network.demo_urls("127.0.0.1", "8000", lambda: lan) == ("http://127.0.0.1:8000", "")  # loopback only
    assert network.demo_urls("localhost", "8000", lambda: lan) == ("http://localhost:8000", "")
    assert network.demo_urls("10.0.0.5", "9000", lambda: lan) == ("http://10.0.0.5:9000", "http://10.0.0.5:9000")


def test_only_addresses_other_machines_can_reach_count() -> None:
    assert network.is_lan("192.168.1.23") and network.is_lan("10.1.2.3")
    assert not any(network.is_lan(a) for a in ("127.0.0.1", "169.254.3.4", "0.0.0.0", "224.0.0.1", "::1", "x"))
    assert network.is_loopback("127.0.1.1") and network.is_loopback("localhost") and network.is_loopback("[::1]")
    assert not network.is_loopback("192.168.1.23")


def test_own_names_are_the_host_name_and_the_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(network, "hostname", lambda: "schoolpc")
    monkeypatch.setattr(network, "own_addresses", lambda: ("192.168.1.23", "10.8.0.2"))
    assert network.own_host_names() == ["schoolpc", "schoolpc.local", "192.168.1.23", "10.8.0.2"]
    assert network.lan_address() == "192.168.1.23"


def test_the_outgoing_address_is_found_without_sending_and_is_empty_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[object] = []

    class Probe:
        def __init__(self, *args: object) -> None: ...
        def __enter__(self) -> Probe:
            return self

        def __exit__(self, *args: object) -> None: ...
        def connect(self, address: object) -> None:
            sent.append(address)

        def getsockname(self) -> tuple[str, int]:
            return ("192.168.7.7", 40000)

        def send(self, data: bytes) -> None:  # pragma: no cover - must never be called
            raise AssertionError("a probe must not send anything")

    monkeypatch.setattr(network.socket, "socket", Probe)
    assert network.outgoing_address() == "192.168.7.7" and len(sent) == 1

    class Offline(Probe):
        def connect(self, address: object) -> None:
            raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(network.socket, "socket", Offline)
    assert network.outgoing_address() == ""


def test_a_hanging_resolver_does_not_hold_up_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(network.socket, "getaddrinfo", lambda *a, **k: time.sleep(1.5) or [])
    monkeypatch.setattr(network, "RESOLVE_TIMEOUT", 0.2)
    started = time.monotonic()
    assert network.resolved_addresses("schoolpc") == []
    assert time.monotonic() - started < 1

    def unknown(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(network.socket, "getaddrinfo", unknown)
    assert network.resolved_addresses("schoolpc") == []


def test_a_busy_port_is_reported_before_the_set_up() -> None:
    port = _free_port()
    assert network.listen_problem("127.0.0.1", port) == ""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        problem = network.listen_problem("127.0.0.1", port)
    assert f"端口 {port} 已被占用" in problem and "make demo PORT=8080" in problem
    assert "本机没有地址" in network.listen_problem("203.0.113.77", port)


# ----------------------------------------------------------------------------------------------------
# Settings of the demo (each in a fresh process: settings are read once)


def test_the_demo_runs_with_debug_off_and_allows_this_machine(tmp_path: Path) -> None:
    demo = _settings(tmp_path, YOUJUN_DEMO="1", YOUJUN_DEMO_HOST="0.0.0.0", YOUJUN_DEMO_PORT="8080")
    assert demo["debug"] is False and demo["csrf_view"] == "youjun.web.site.errors.csrf_failure"
    lan = network.lan_address()
    assert {"127.0.0.1", "localhost", *network.own_host_names()} <= set(demo["hosts"])
    assert demo["local"] == "http://127.0.0.1:8080"
    assert demo["public"] == (f"http://{lan}:8080" if lan else "")
    assert len(demo["hosts"]) == len(set(demo["hosts"]))
    # The development default stays (Django's debug pages for developers); outside the demo no machine address.
    development = _settings(tmp_path)
    assert development["debug"] is True and development["public"] == ""
    assert development["hosts"] == ["127.0.0.1", "localhost", "testserver"]


def test_the_demo_keeps_a_public_url_the_user_set_and_answers_to_it(tmp_path: Path) -> None:
    demo = _settings(
        tmp_path, YOUJUN_DEMO="1", YOUJUN_DEMO_HOST="0.0.0.0", YOUJUN_PUBLIC_URL="http://youjun.school.lan:9000/"
    )
    assert demo["public"] == "http://youjun.school.lan:9000" and "youjun.school.lan" in demo["hosts"]
    loopback = _settings(tmp_path, YOUJUN_DEMO="1", YOUJUN_DEMO_HOST="127.0.0.1", YOUJUN_DEMO_PORT="8001")
    assert loopback["public"] == "" and loopback["local"] == "http://127.0.0.1:8001"
    assert _settings(tmp_path, YOUJUN_DEMO="1", YOUJUN_DEBUG="1")["debug"] is True  # a developer may still ask


# ----------------------------------------------------------------------------------------------------
# The server the demo starts: gunicorn, DEBUG off, static files from the package, a phone's Host accepted


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = _clean_env(
        YOUJUN_DATA_DIR=str(tmp_path), YOUJUN_DEMO="1", YOUJUN_DEMO_HOST="127.0.0.1", YOUJUN_DEMO_PORT=str(port)
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = (tmp_path / "server.log").open("w")
    command = [str(gunicorn), "youjun.web.wsgi:application", "--bind", f"127.0.0.1:{port}", "--threads", "4"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/accounts/login/", timeout=2)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("the demo server did not start: " + (tmp_path / "server.log").read_text())
    yield url
    process.terminate()
    process.wait(timeout=10)
    log.close()


def _get(url: str, host: str | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_the_demo_server_serves_static_files_chinese_errors_and_phones(demo_server: str) -> None:
    status, headers, body = _get(demo_server + "/static/youjun/youjun.css")
    assert status == 200 and headers["Content-Type"].startswith("text/css") and ".menu-button" in body
    status, _, body = _get(demo_server + "/static/youjun/menu.js")
    assert status == 200 and "aria-expanded" in body
    status, _, body = _get(demo_server + "/no/such/page/")
    assert status == 404 and "页面不存在" in body and "Page not found" not in body  # DEBUG off
    lan = network.lan_address() or network.hostname()
    status, _, body = _get(demo_server + "/accounts/login/", host=f"{lan}:8000")  # what a phone's browser sends
    assert status == 200 and "登录" in body
    status, _, body = _get(demo_server + "/accounts/login/", host="elsewhere.example")
    assert status == 400 and "请求有误" in body and "DisallowedHost" not in body


# ----------------------------------------------------------------------------------------------------
# The Makefile: HOST and PORT reach the set-up and the server


def test_make_demo_passes_host_and_port_to_the_set_up_and_the_server(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    calls = tmp_path / "calls.txt"
    for tool in ("youjun-web", "gunicorn", "python"):
        script = fake / tool
        # The server waits (up to 10 s) for the worker started before it in the background: when the server
        # ends, make's trap stops the worker, which must have started by then.
        wait = f'for i in $(seq 100); do grep -q "^youjun-web worker" "{calls}" && break; sleep 0.1; done\n'
        script.write_text(
            "#!/bin/sh\n"
            f'echo "{tool} $* | tasks=$YOUJUN_TASKS demo=$YOUJUN_DEMO"'
            f' "host=$YOUJUN_DEMO_HOST port=$YOUJUN_DEMO_PORT" >> "{calls}"\n' + (wait if tool == "gunicorn" else "")
        )
        script.chmod(0o755)
    stamp = tmp_path / "stamp"  # newer than pyproject.toml and the lock file, and bin/python exists: no install
    stamp.touch()
    os.utime(stamp, (time.time() + 3600, time.time() + 3600))
    env = {k: v for k, v in _clean_env().items() if k not in ("MAKEFLAGS", "MFLAGS")} | {"HOST": "shell-hostname"}
    base = ["make", "--no-print-directory", "-C", str(ROOT), "demo", f"BIN={fake}", f"STAMP={stamp}"]
    subprocess.run([*base, "HOST=0.0.0.0", "PORT=8080"], env=env, check=True, capture_output=True, timeout=60)
    lines = calls.read_text().splitlines()
    # The set-up in order, then the worker (in the background) beside the server: their order is the scheduler's.
    assert [line.split()[:2] for line in lines[:3]] == [
        ["youjun-web", "migrate"],
        ["youjun-web", "load_divisions"],
        ["youjun-web", "demo_setup"],
    ]
    assert sorted(line.split()[0] + " " + line.split()[1] for line in lines[3:]) == [
        "gunicorn youjun.web.wsgi:application",
        "youjun-web worker",
    ]
    # Every process sees the demo settings and the queue of the database (not tasks run inside the request).
    assert all(line.endswith("tasks= demo=1 host=0.0.0.0 port=8080") for line in lines)
    server = next(line for line in lines if line.startswith("gunicorn"))
    assert "--bind 0.0.0.0:8080" in server
    calls.unlink()
    subprocess.run(base, env=env, check=True, capture_output=True, timeout=60)  # the shell's HOST is not taken
    server = next(line for line in calls.read_text().splitlines() if line.startswith("gunicorn"))
    assert "--bind 127.0.0.1:8000" in server


# ----------------------------------------------------------------------------------------------------
# What demo_setup prints


@pytest.fixture
def demo_output(db: None, settings: Any, tmp_path: Path) -> str:
    settings.YOUJUN_EVIDENCE_DIR = tmp_path / "evidence"
    settings.YOUJUN_PUBLIC_URL = "http://192.168.1.23:8080"
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    return out.getvalue()


def test_demo_accounts_are_printed_with_full_login_links_grouped_by_their_chain(demo_output: str) -> None:
    lines = demo_output.splitlines()
    base = "http://192.168.1.23:8080"
    accounts = [line for line in lines if f" / {PASSWORD}" in line]
    names = [re.search(r"(demo-[a-z0-9]+) / ", line)[1] for line in accounts]
    assert set(names) == set(User.objects.filter(username__startswith="demo-").values_list("username", flat=True))
    for line in accounts:
        assert f"{base}/accounts/login/?next=/" in line
    # One chain: the province, its prefecture, the county and that county's school together, under 安徽省.
    heads = [i for i, line in enumerate(lines) if line.startswith("  ") and not line.startswith("    ")]
    groups = {lines[i].strip(): lines[i + 1 : j] for i, j in zip(heads, [*heads[1:], len(lines)], strict=False)}
    anhui = next(body for head, body in groups.items() if head.startswith("安徽省"))
    anhui_names = [re.search(r"(demo-[a-z0-9]+) / ", line)[1] for line in anhui if " / " in line]
    assert anhui_names[:5] == ["demo-province", "demo-viewer", "demo-prefecture", "demo-county", "demo-school"]
    # Each account: its role and unit (counties with their prefecture) and what to try, then its link and login.
    entries = {m[1]: anhui[i - 1] for i in range(1, len(anhui)) if (m := re.search(r"(demo-[a-z0-9]+) / ", anhui[i]))}
    assert entries["demo-county"].strip().startswith("县级（芜湖市鸠江区）：审核学校数据")
    assert entries["demo-county2"].strip().startswith("县级（芜湖市镜湖区）：")
    assert entries["demo-school"].strip().startswith("学校（芜湖市鸠江区")
    assert entries["demo-prefecture"].strip().startswith("地市级（安徽省芜湖市）：")
    jiangsu = next(body for head, body in groups.items() if head.startswith("江苏省"))
    assert [line for line in jiangsu if "demo-province2 /" in line]
    assert any("demo-ministry /" in line for head, body in groups.items() if head.startswith("教育部") for line in body)
    assert f"以下链接按 {base} 给出" in demo_output  # run on its own (not by make demo): where the links point
    assert re.search(rf"{base}/survey/a/[\w-]+/", demo_output)  # the parents' questionnaire, a full link


def test_every_printed_login_link_leads_its_account_to_a_working_page(demo_output: str, settings: Any) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "192.168.1.23"]
    found = re.findall(
        r"http://192\.168\.1\.23:8080(/accounts/login/\?next=(\S+))\s.*?(demo-[a-z0-9]+) / ", demo_output
    )
    assert len(found) >= 8
    for login, page, username in found:
        client = Client(HTTP_HOST="192.168.1.23:8080")
        response = client.post(login, {"username": username, "password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == page, (username, response.status_code)
        assert client.get(page, follow=True).status_code == 200, (username, page)
    for path in re.findall(r"http://192\.168\.1\.23:8080(/(?:survey|assessment|programme)/\S*)", demo_output):
        client = Client(HTTP_HOST="192.168.1.23:8080")
        client.force_login(User.objects.get(username="demo-county"))
        assert client.get(path, follow=True).status_code == 200, path


@pytest.mark.django_db
def test_counties_are_named_with_their_prefecture() -> None:
    assert place_name(OrgUnit.objects.get(code="340207")) == "芜湖市鸠江区"
    assert place_name(OrgUnit.objects.get(code="110101")) == "北京市东城区"  # 市辖区 is not a place
    assert place_name(OrgUnit.objects.get(code="419001")) == "河南省济源市"  # 省直辖县级行政区划
    assert place_name(OrgUnit.objects.get(code="340200")) == "安徽省芜湖市"
    assert place_name(OrgUnit.objects.get(code="340000")) == "安徽省"


def test_the_demo_says_where_phones_go(settings: Any) -> None:
    settings.DEMO, settings.DEMO_HOST, settings.DEMO_PORT = True, "0.0.0.0", "8080"
    settings.YOUJUN_DEMO_URL, settings.YOUJUN_PUBLIC_URL = "http://127.0.0.1:8080", "http://192.168.1.23:8080"

    def start() -> str:
        out = io.StringIO()
        Command(stdout=out)._print_start(base_url())
        return out.getvalue()

    assert base_url() == "http://192.168.1.23:8080"
    text = start()
    assert (
        "优均演示即将启动：http://127.0.0.1:8080/" in text and "同一网络的手机、电脑：http://192.168.1.23:8080/" in text
    )
    settings.YOUJUN_PUBLIC_URL = ""  # no network address found
    assert "没有找到本机的局域网地址" in start() and base_url() == "http://127.0.0.1:8080"
    settings.DEMO_HOST = "127.0.0.1"
    assert "make demo HOST=0.0.0.0 PORT=8080" in start()


@pytest.mark.django_db
def test_the_demo_stops_at_once_on_a_busy_port_or_a_bad_one(settings: Any) -> None:
    settings.DEMO, settings.DEMO_HOST = True, "127.0.0.1"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        settings.DEMO_PORT = str(busy.getsockname()[1])
        with pytest.raises(CommandError, match="已被占用"):
            call_command("demo_setup", stdout=io.StringIO())
    settings.DEMO_PORT = "80a"
    with pytest.raises(CommandError, match="端口「80a」无效"):
        call_command("demo_setup", stdout=io.StringIO())
    assert not User.objects.filter(username__startswith="demo-").exists()  # nothing was prepared
