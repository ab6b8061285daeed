"""Browser tests: Playwright drives Debian's chromium against a real server process on a demo database.

The server runs in its own process on a fresh embedded database prepared by ``demo_setup`` (demo accounts, a
province with synthetic schools), so these tests see exactly what a user sees. Its public address
(``YOUJUN_PUBLIC_URL``, the one QR codes and links carry) is set to its own address. Screenshots go to
``test-artifacts/``. Without chromium the tests are skipped, unless ``YOUJUN_REQUIRE_BROWSER`` is set (CI).

``add_account`` gives a test an account the demo does not have (a school or county of its own), made on the
server's database as an administrator would, so that tests changing data need not share the demo accounts.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "youjun-demo-2024"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}

if CHROMIUM is None and os.environ.get("YOUJUN_REQUIRE_BROWSER"):
    raise RuntimeError("chromium is required for the browser tests (apt-get install chromium)")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


MANAGE = [sys.executable, "-m", "youjun.web.manage"]
#: The server's environment (set by the ``server`` fixture): management commands run against the same database.
SERVER_ENV: dict[str, str] = {}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("browser-db")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {
        "YOUJUN_DATA_DIR": str(data),
        "DJANGO_SETTINGS_MODULE": "youjun.web.settings",
        "YOUJUN_DEBUG": "1",
        "YOUJUN_PUBLIC_URL": url,  # QR codes and links carry the server's own address
    }
    SERVER_ENV.clear()
    SERVER_ENV.update(env)
    manage = MANAGE
    for command in (["migrate", "--verbosity", "0"], ["demo_setup", "--counties", "4"]):
        subprocess.run([*manage, *command], env=env, check=True, capture_output=True, timeout=300)
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    # The background worker, as `make demo` starts it: recomputes after approvals run there.
    worker = subprocess.Popen(
        [*manage, "worker", "--id", "browser-tests-1", "--interval", "0.2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError("the test server did not start: " + (data / "server.log").read_text())
    yield url
    for child in (process, worker):
        child.terminate()
        child.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """``new_page(viewport, **options)`` opens a fresh context (no cookies) with that viewport; ``options`` go to
    ``browser.new_context`` (``user_agent``, ``is_mobile``, ``has_touch``, ``accept_downloads`` …)."""
    contexts = []

    def make(viewport: dict[str, int] = DESKTOP, **options: Any) -> Any:
        settings = {"viewport": viewport, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"} | options
        context = browser.new_context(**settings)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield make
    for context in contexts:
        context.close()


def login(page: Any, server: str, username: str) -> None:
    page.goto(f"{server}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


ACCOUNT_CODE = """
from youjun.web.accounts.models import User
from youjun.web.organisation.models import OrgUnit, School
username, role, unit, school, name, password = {args!r}
user, created = User.objects.get_or_create(
    username=username,
    defaults={{
        "role": role,
        "org_unit": OrgUnit.objects.get(code=unit) if unit else None,
        "school": School.objects.get(school_id=school) if school else None,
        "display_name": name,
    }},
)
if created:
    user.set_password(password)
    user.save()
"""


def add_account(username: str, role: str, name: str, *, unit: str = "", school: str = "") -> str:
    """An account (password ``PASSWORD``) on the test server's database: ``role`` ``county`` with the county's code
    as ``unit``, or ``school`` with the school's identifier; nothing happens when it exists. Its user name."""
    if not SERVER_ENV:
        raise RuntimeError("add_account needs the server fixture")
    code = ACCOUNT_CODE.format(args=(username, role, unit, school, name, PASSWORD))
    subprocess.run([*MANAGE, "shell", "-c", code], env=SERVER_ENV, check=True, capture_output=True, timeout=120)
    return username


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
