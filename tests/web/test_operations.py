"""Production operations: request ids in every log line and on the 500 page, security events, request errors in the
log, the Content-Security-Policy, no caching of logged-in pages, database health checks.

``LiveServer`` runs the application as in production (``YOUJUN_ENV=production``, gunicorn, collected static files)
on a database of its own, migrated for the test (a SQLite file, or a PostgreSQL database next to the test database
when the tests run on PostgreSQL); ``test_accounts_security`` uses it too.
"""

from __future__ import annotations

import http.client
import logging
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.urls import path

from youjun.web.accounts import csp
from youjun.web.accounts.logs import RequestIdFilter, new_request_id
from youjun.web.accounts.models import User
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.settings import database_from_url

# ----------------------------------------------------------------------------------------------------------------
# A production server in a subprocess

#: Settings and URLs used only by the live server of these tests: production settings plus a view that fails.
TEST_SETTINGS = "from youjun.web.settings import *  # noqa: F403\nROOT_URLCONF = 'youjun_live_urls'\n"
TEST_URLS = """
from django.urls import path
from youjun.web.urls import urlpatterns as _site


def boom(request):
    raise RuntimeError("故意的错误：只在测试中可达")


urlpatterns = [path("boom/", boom), *_site]
"""
LIVE_PASSWORD = "live-test-password-2024"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class LiveServer:
    """gunicorn with N sync workers on 127.0.0.1 and a private database; ``request`` talks plain HTTP to it."""

    root: Path
    workers: int = 2
    users: tuple[str, ...] = ("county-live", "province-live")
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    database: str = ""
    database_name: str = ""
    _pg_admin: str = ""

    @property
    def log_file(self) -> Path:
        return self.root / "youjun.log"

    @property
    def stderr_file(self) -> Path:
        return self.root / "gunicorn.err"

    @property
    def access_file(self) -> Path:
        return self.root / "gunicorn.out"

    def prepare(self) -> None:
        (self.root / "youjun_live_settings.py").write_text(TEST_SETTINGS, encoding="utf-8")
        (self.root / "youjun_live_urls.py").write_text(TEST_URLS, encoding="utf-8")
        if connection.vendor == "postgresql":
            import psycopg

            db = django_settings.DATABASES["default"]
            name = f"{db['NAME']}_live"
            credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
            base = f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            self._pg_admin = f"{base}/postgres"
            with psycopg.connect(self._pg_admin, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{name}"')
            self.database = f"{base}/{name}"
            self.database_name = name
        else:
            self.database = f"sqlite:///{self.root / 'live.sqlite3'}"
        self._manage("migrate", "--verbosity", "0")
        self._manage("collectstatic", "--noinput", "--verbosity", "0")
        create = (
            "from youjun.web.accounts.models import User\n"
            f"for name in {list(self.users)!r}:\n"
            f"    User.objects.create_user(name, password={LIVE_PASSWORD!r}, role=name.split('-')[0])\n"
        )
        self._manage("shell", "--command", create)

    def environment(self) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("YOUJUN_", "DATABASE_URL", "DJANGO_"))}
        paths = [str(self.root), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        return {
            **base,
            "PYTHONPATH": os.pathsep.join(paths),
            "DJANGO_SETTINGS_MODULE": "youjun_live_settings",
            "DATABASE_URL": self.database,
            "YOUJUN_ENV": "production",
            "YOUJUN_SECRET_KEY": secrets.token_urlsafe(50),
            "YOUJUN_ALLOWED_HOSTS": "127.0.0.1",
            "YOUJUN_SSL_REDIRECT": "0",
            "YOUJUN_DATA_DIR": str(self.root),
            "YOUJUN_LOG_FILE": str(self.log_file),
            **self.env,
        }

    def _manage(self, *args: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "youjun.web.manage", *args],
            env=self.environment(),
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr

    def start(self) -> None:
        self.port = _free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(self.workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--access-logfile",
            str(self.access_file),
            "--access-logformat",
            "pid=%(p)s status=%(s)s %(m)s %(U)s",
            "--error-logfile",
            str(self.stderr_file.with_suffix(".gunicorn")),
            "youjun.web.wsgi:application",
        ]
        with self.stderr_file.open("ab") as stderr:
            self.process = subprocess.Popen(
                command, env=self.environment(), cwd=self.root, stdout=subprocess.DEVNULL, stderr=stderr
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.stderr_file.read_text(errors="replace")
            try:
                if self.request("GET", "/accounts/login/").status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("the live server did not answer within 60 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def drop(self) -> None:
        if self._pg_admin:
            import psycopg

            with psycopg.connect(self._pg_admin, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')

    def request(self, method: str, url: str, body: dict[str, str] | None = None, **headers: str) -> Response:
        from urllib.parse import urlencode

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            data = urlencode(body) if body is not None else None
            if data is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, url, body=data, headers={k.replace("_", "-"): v for k, v in headers.items()})
            raw = conn.getresponse()
            text = raw.read().decode("utf-8", errors="replace")
            cookies = {}
            for name, value in raw.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookies[key] = rest.split(";", 1)[0]
            return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, text, cookies)
        finally:
            conn.close()

    def login_form(self) -> tuple[str, str]:
        """A CSRF cookie and form token for POSTs to the login page (reusable for many attempts)."""
        page = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token and "csrftoken" in page.cookies, page.body[:500]
        return page.cookies["csrftoken"], token.group(1)

    def login(self, username: str, password: str, form: tuple[str, str] | None = None, **headers: str) -> Response:
        cookie, token = form or self.login_form()
        fields = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        return self.request("POST", "/accounts/login/", fields, Cookie=f"csrftoken={cookie}", **headers)

    def log_text(self) -> str:
        return self.log_file.read_text(encoding="utf-8") if self.log_file.exists() else ""


@contextmanager
def live_server(root: Path, **options: Any) -> Iterator[LiveServer]:
    server = LiveServer(root, **options)
    try:
        server.prepare()
        server.start()
        yield server
    finally:
        server.stop()
        server.drop()


def _wait_for(predicate: Any, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


# ----------------------------------------------------------------------------------------------------------------
# Production, for real


def test_production_logs_request_errors_and_failed_logins_with_the_request_id(tmp_path: Path) -> None:
    with live_server(tmp_path, users=("county-live",)) as server:
        quoted = server.request("GET", "/boom/", X_Request_ID="ticket-4711.a")
        generated = server.request("GET", "/boom/", X_Request_ID="bad id\twith spaces")
        failed = server.login("county-live", "wrong-password-1")
        assert _wait_for(lambda: "login_failed" in server.log_text())
        stderr = server.stderr_file.read_text(encoding="utf-8")
    log = server.log_text()

    # The deliberate error: a Chinese 500 page quoting the id, the same id in the header and on the log lines.
    assert quoted.status == 500 and quoted.headers["x-request-id"] == "ticket-4711.a"
    assert "系统错误" in quoted.body and "ticket-4711.a" in quoted.body
    assert "故意的错误" not in quoted.body and "Traceback" not in quoted.body
    error_lines = [line for line in log.splitlines() if "[ticket-4711.a]" in line]
    assert any("ERROR django.request" in line and "/boom/" in line for line in error_lines), log
    assert "RuntimeError: 故意的错误" in log  # the traceback follows the line
    assert "[ticket-4711.a]" in stderr and "RuntimeError: 故意的错误" in stderr  # stderr carries the same

    # An insane incoming id is replaced by a fresh one, shown on the page and logged.
    fresh = generated.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", fresh) and fresh in generated.body and f"[{fresh}]" in log
    assert "bad id" not in log

    # The failed login: user, address and request id on one line.
    assert failed.status == 401
    line = next(line for line in log.splitlines() if "event=login_failed" in line)
    assert "user=county-live" in line and "addr=127.0.0.1" in line
    assert f"[{failed.headers['x-request-id']}]" in line


def test_production_pages_carry_the_security_headers(tmp_path: Path) -> None:
    with live_server(tmp_path, users=("county-live",)) as server:
        page = server.request("GET", "/accounts/login/")
        form = (page.cookies["csrftoken"], re.search(r'csrfmiddlewaretoken" value="([^"]+)"', page.body).group(1))  # type: ignore[union-attr]
        done = server.login("county-live", LIVE_PASSWORD, form)
        session = done.cookies["sessionid"]
        home = server.request("GET", "/", Cookie=f"sessionid={session}", X_Forwarded_Proto="https")
        static = server.request("GET", "/static/youjun/youjun.css", Cookie=f"sessionid={session}")
        assert _wait_for(lambda: "event=login " in server.log_text())
    assert page.status == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    assert done.status == 302 and home.status == 200
    assert home.headers["cache-control"] == "no-store"
    assert "no-store" not in static.headers.get("cache-control", "") and static.status == 200
    assert "strict-transport-security" in home.headers  # production settings are in force (behind TLS)
    assert "; secure" in done.headers["set-cookie"].lower()


# ----------------------------------------------------------------------------------------------------------------
# In process


def _boom(request: Any) -> Any:
    logging.getLogger("youjun.test").warning("about to fail")
    raise RuntimeError("secret internal detail")


urlpatterns = [path("boom/", _boom)]


def test_the_500_page_shows_the_request_id(settings: Any) -> None:
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/boom/", HTTP_X_REQUEST_ID="abc-123")
    body = response.content.decode()
    assert response.status_code == 500 and response["X-Request-ID"] == "abc-123"
    assert '<code id="request-id">abc-123</code>' in body and "secret internal detail" not in body


def test_every_log_record_of_a_request_carries_its_id(settings: Any, caplog: pytest.LogCaptureFixture) -> None:
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    handler = logging.getLogger().handlers  # the configured stderr handler has the filter
    assert any(isinstance(f, RequestIdFilter) for h in handler for f in h.filters)
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        response = Client(raise_request_exception=False).get("/boom/")
    request_id = response["X-Request-ID"]
    ours = [r for r in caplog.records if r.name in ("youjun.test", "django.request")]
    assert {r.name for r in ours} == {"youjun.test", "django.request"}
    assert all(r.request_id == request_id for r in ours)  # type: ignore[attr-defined]
    error = next(r for r in ours if r.name == "django.request")
    assert error.levelno == logging.ERROR and error.exc_info is not None


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("abc-123", True),
        ("0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c", True),
        ("trace:1.2_x", True),
        ("has space", False),
        ("line\nbreak", False),
        ("x" * 65, False),
        ("-leading-dash", False),
        ("", False),
        ("引号", False),
    ],
)
def test_an_incoming_request_id_is_used_only_when_sane(incoming: str, kept: bool) -> None:
    chosen = new_request_id(incoming)
    assert (chosen == incoming) is kept
    if not kept:
        assert re.fullmatch(r"[0-9a-f]{32}", chosen)


@pytest.mark.django_db
def test_a_security_event_cannot_forge_a_log_line(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="youjun.security"):
        client.post("/accounts/login/", {"username": "x\nsecurity event=login user=admin", "password": "p"})
    messages = [r.getMessage() for r in caplog.records if r.name == "youjun.security"]
    assert messages and all("\n" not in m for m in messages)
    assert any('user="x\\nsecurity event=login user=admin"' in m for m in messages)  # one quoted value


def test_the_policy_allows_exactly_the_inline_code_of_the_templates() -> None:
    policy = csp.policy()
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'" and "'unsafe-inline'" not in directives["script-src"]
    assert "http" not in policy  # no CDN, no other origin
    for template in csp.template_files():
        scripts, styles, handlers = csp.inline_code(template.read_text(encoding="utf-8"))
        for code in scripts + handlers:
            assert csp._hash(code) in directives["script-src"], template
        for code in styles:
            assert csp._hash(code) in directives["style-src"], template
    # The 500 page's own style is allowed by its hash, computed from the page as rendered.
    rendered = render_to_string("500.html")
    style = re.search(r"<style>(.*?)</style>", rendered, re.S)
    assert style and csp._hash(style.group(1)) in directives["style-src"]


@pytest.mark.django_db
def test_rendered_pages_run_only_inline_code_the_policy_allows(
    users: dict[str, User], open_record: SchoolRecord, settings: Any
) -> None:
    """What the browser checks: the hash of each inline script, style and handler as rendered, against the header."""
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    pages = [client.get("/accounts/login/"), client.get("/no-such-page/")]
    client.force_login(users["county"])
    pages += [client.get(url) for url in ("/", "/accounts/tokens/", "/accounts/password/", "/accounts/users/")]
    # A county page with a submitted record carries the bulk-approval script.
    SchoolRecord.objects.filter(pk=open_record.pk).update(status=RecordStatus.SUBMITTED)
    county_page = client.get(f"/collection/county/{open_record.county.code}/{open_record.year}/")
    assert county_page.status_code == 200 and csp.inline_code(county_page.content.decode())[0]
    pages.append(county_page)
    for response in pages:
        html = response.content.decode()
        policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
        scripts, styles, handlers = csp.inline_code(html)
        for code in scripts + handlers:
            assert csp._hash(code) in policy["script-src"], (response.request["PATH_INFO"], code[:80])
        for code in styles:
            assert csp._hash(code) in policy["style-src"], response.request["PATH_INFO"]


def test_template_scripts_need_no_template_syntax() -> None:
    """A script whose text holds template tags renders differently on every page and could not be allowed by hash."""
    for template in csp.template_files():
        text = template.read_text(encoding="utf-8")
        for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", text, re.S):
            assert not re.search(r"\{[{%]", match.group(1)), f"{template}: move this script to a static file"


@pytest.mark.django_db
def test_logged_in_html_is_not_stored_but_static_files_and_anonymous_pages_may_be(
    users: dict[str, User], client: Client
) -> None:
    anonymous = client.get("/accounts/login/")
    assert "no-store" not in anonymous.get("Cache-Control", "")
    assert "Content-Security-Policy" in anonymous
    client.force_login(users["county"])
    page = client.get("/")
    assert page.status_code == 200 and page["Cache-Control"] == "no-store"
    assert page["Content-Security-Policy"] == csp.policy()
    static = client.get("/static/youjun/youjun.css")
    assert static.status_code == 200 and "no-store" not in static.get("Cache-Control", "")
    assert "Content-Security-Policy" not in static


def test_postgresql_connections_are_health_checked() -> None:
    database = database_from_url("postgres://u:p@db.example:5432/youjun")
    assert database["CONN_HEALTH_CHECKS"] is True


def test_the_log_file_is_configured_only_when_asked(tmp_path: Path) -> None:
    script = (
        "import logging.config, os\n"
        "from youjun.web import settings\n"
        "logging.config.dictConfig(settings.LOGGING)\n"
        "logging.getLogger('youjun.security').warning('hello %s', 'log')\n"
        "print(sorted(settings.LOGGING['handlers']))\n"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("YOUJUN_", "DATABASE_URL", "DJANGO_"))}
    target = tmp_path / "app.log"
    for extra, handlers in (({}, "['stderr']"), ({"YOUJUN_LOG_FILE": str(target)}, "['file', 'stderr']")):
        result = subprocess.run(
            [sys.executable, "-c", script],
            env={**base, "YOUJUN_DATA_DIR": str(tmp_path), **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == handlers
        assert "WARNING youjun.security [-]" in result.stderr and "hello log" in result.stderr
    assert "hello log" in target.read_text(encoding="utf-8")
