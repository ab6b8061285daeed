"""Production settings pass Django's deployment checks; secrets never have development defaults there."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path


def _check(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("YOUJUN_", "DATABASE_URL", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-m", "youjun.web.manage", "check", "--deploy", "--fail-level", "WARNING"],
        env={**base, "YOUJUN_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy(tmp_path: Path) -> None:
    env = {
        "YOUJUN_ENV": "production",
        "YOUJUN_SECRET_KEY": secrets.token_urlsafe(50),
        "YOUJUN_ALLOWED_HOSTS": "a.example",
    }
    result = _check(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    result = _check({"YOUJUN_ENV": "production", "YOUJUN_ALLOWED_HOSTS": "a.example"}, tmp_path)
    assert result.returncode != 0
    assert "YOUJUN_SECRET_KEY" in result.stderr


def test_production_ignores_the_demo_switch_and_keeps_its_own_hosts(tmp_path: Path) -> None:
    """``YOUJUN_DEMO`` (set by ``make demo``) never widens a production deployment: DEBUG stays off, the hosts are
    exactly YOUJUN_ALLOWED_HOSTS and the public URL is what was configured."""
    probe = (
        "import json, django; from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.DEMO, s.ALLOWED_HOSTS, s.YOUJUN_PUBLIC_URL]))"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("YOUJUN_", "DATABASE_URL", "DJANGO_"))}
    env = {
        **base,
        "DJANGO_SETTINGS_MODULE": "youjun.web.settings",
        "YOUJUN_DATA_DIR": str(tmp_path),
        "YOUJUN_ENV": "production",
        "YOUJUN_SECRET_KEY": secrets.token_urlsafe(50),
        "YOUJUN_ALLOWED_HOSTS": "youjun.example.gov.cn",
        "YOUJUN_PUBLIC_URL": "https://youjun.example.gov.cn",
        "YOUJUN_DEMO": "1",
        "YOUJUN_DEMO_HOST": "0.0.0.0",
        "YOUJUN_DEBUG": "1",
    }
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [False, False, ["youjun.example.gov.cn"], "https://youjun.example.gov.cn"]
