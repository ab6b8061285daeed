"""Production settings pass Django's deployment checks; secrets never have development defaults there."""

from __future__ import annotations

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
