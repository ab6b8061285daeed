"""The web application at national data volume under load: 20 concurrent sessions for 60 s against gunicorn.

``make bench-load`` (PostgreSQL at ``DATABASE_URL``, default ``postgres://postgres@127.0.0.1:5432/youjun_load``):

1. ``--prepare`` (or when the database is empty): migrate, load the national synthetic data for two years
   (``load_synthetic``, 198,571 schools a year), recompute both years in one batch each (``recompute --year``),
   create the accounts and an API token. The phases are timed: this is the national recompute's figure too.
2. Serve the app with gunicorn under production settings (2 gthread workers × 4 threads), log 20 sessions in
   (ministry, province, prefecture and county accounts), and let 4 load processes × 5 sessions request the pages
   round-robin for ``--seconds`` (after a 5-s warm-up): the national, province and county evaluation pages, the
   API for a province, the collection overview of the ministry and of a province.
3. Print median / p95 / max per page and the errors; targets: p95 ≤ 500 ms for every page, zero errors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/youjun_load"
YEARS = (2023, 2024)
PROVINCE, PREFECTURE, COUNTY = "340000", "340200", "340207"
SESSIONS, PROCESSES = 20, 4


def _manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "youjun.web.manage", *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"youjun-web {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def prepare(env: dict[str, str]) -> dict[str, float]:
    timings = {}
    started = time.perf_counter()
    _manage("migrate", "--verbosity", "0", env=env)
    timings["migrate"] = time.perf_counter() - started
    for year in YEARS:
        started = time.perf_counter()
        print(_manage("load_synthetic", "--year", str(year), "--seed", str(year), env=env))
        timings[f"load_synthetic {year}"] = time.perf_counter() - started
    for year in YEARS:
        started = time.perf_counter()
        print(_manage("recompute", "--year", str(year), env=env))
        timings[f"recompute --year {year}"] = time.perf_counter() - started
    return timings


def _setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()


def accounts(env: dict[str, str]) -> tuple[list[str], str]:
    """20 session cookies (5 each: ministry, province, prefecture, county) and an API token of the province."""
    _setup_django(env)
    from django.test import Client

    from youjun.web.accounts.models import Role, User
    from youjun.web.api.models import ApiToken
    from youjun.web.organisation.models import OrgUnit

    cookies = []
    for role, code in (
        (Role.MINISTRY, "000000"),
        (Role.PROVINCE, PROVINCE),
        (Role.PREFECTURE, PREFECTURE),
        (Role.COUNTY, COUNTY),
    ):
        user, _ = User.objects.get_or_create(
            username=f"load-{role}", defaults={"role": role, "org_unit": OrgUnit.objects.get(code=code)}
        )
        for _ in range(SESSIONS // 4):
            client = Client()
            client.force_login(user)
            cookies.append(client.cookies["sessionid"].value)
    province_user = User.objects.get(username=f"load-{Role.PROVINCE}")
    token = ApiToken.issue(province_user, f"load-{time.time():.0f}")[1]
    return cookies, token


def pages(year: int) -> dict[str, list[tuple[str, str]]]:
    """Per role of the session: (page name, path) requested round-robin."""
    county = [("county page", f"/evaluation/county/{COUNTY}/{year}/")]
    return {
        "ministry": [
            ("national page", f"/evaluation/national/{year}/"),
            ("collection overview (ministry)", f"/collection/?year={year}"),
        ],
        "province": [
            ("province page", f"/evaluation/unit/{PROVINCE}/{year}/"),
            ("collection overview (province)", f"/collection/?year={year}"),
            *county,
        ],
        "prefecture": [("prefecture page", f"/evaluation/unit/{PREFECTURE}/{year}/"), *county],
        "county": county,
    }


def _load(port: int, sessions: list[tuple[str, str]], token: str, seconds: float, warmup: float, queue: Any) -> None:
    plan = pages(YEARS[-1])
    api = ("API: a province's evaluations", f"/api/evaluations/{YEARS[-1]}")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    timings: dict[str, list[float]] = {}
    errors: list[str] = []
    start = time.perf_counter()
    turn = 0
    while (now := time.perf_counter()) - start < warmup + seconds:
        role, cookie = sessions[turn % len(sessions)]
        targets = plan[role] + ([api] if role == "province" else [])
        name, path = targets[(turn // len(sessions)) % len(targets)]
        turn += 1
        headers = {"Cookie": f"sessionid={cookie}", "Host": "127.0.0.1"}
        if path.startswith("/api/"):
            headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            status = 0
            errors.append(f"{name}: {type(exc).__name__}")
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        elapsed = time.perf_counter() - now
        if status != 200 and status != 0:
            errors.append(f"{name}: HTTP {status}")
        if now - start >= warmup:
            timings.setdefault(name, []).append(elapsed)
    queue.put({"timings": timings, "errors": errors})


def run(env: dict[str, str], seconds: float) -> dict[str, Any]:
    port = 8700 + os.getpid() % 200
    server_env = env | {
        "YOUJUN_ENV": "production",
        "YOUJUN_SECRET_KEY": "load-benchmark-" + "x" * 40,
        "YOUJUN_ALLOWED_HOSTS": "127.0.0.1",
        "YOUJUN_SSL_REDIRECT": "0",
    }
    # The sessions are made under the server's settings: a session carries a hash keyed by the secret key.
    cookies, token = accounts(server_env)
    roles = ["ministry", "province", "prefecture", "county"]
    sessions = [(roles[i // (SESSIONS // 4)], c) for i, c in enumerate(cookies)]
    _manage("collectstatic", "--noinput", "--verbosity", "0", env=server_env)
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "youjun.web.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--timeout",
            "120",
        ],
        env=server_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/accounts/login/")
                break
            except OSError:
                time.sleep(0.2)
        queue: Any = multiprocessing.Queue()
        share = [sessions[i::PROCESSES] for i in range(PROCESSES)]
        workers = [multiprocessing.Process(target=_load, args=(port, s, token, seconds, 5.0, queue)) for s in share]
        for w in workers:
            w.start()
        results = [queue.get(timeout=seconds + 120) for _ in workers]
        for w in workers:
            w.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    merged: dict[str, list[float]] = {}
    errors: list[str] = []
    for r in results:
        errors += r["errors"]
        for name, values in r["timings"].items():
            merged.setdefault(name, []).extend(values)
    report = {}
    for name, values in sorted(merged.items()):
        values.sort()
        report[name] = {
            "requests": len(values),
            "median_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(values[int(0.95 * (len(values) - 1))] * 1000, 1),
            "max_ms": round(values[-1] * 1000, 1),
        }
    return {"pages": report, "errors": len(errors), "error_kinds": sorted(set(errors))[:10], "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true", help="load the national data for two years first")
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_URL),
        "DJANGO_SETTINGS_MODULE": "youjun.web.settings",
        "YOUJUN_TASKS": "immediate",
    }
    env.setdefault("YOUJUN_DATA_DIR", tempfile.mkdtemp(prefix="youjun-load-"))
    timings = prepare(env) if args.prepare else {}
    result = run(env, args.seconds) | {"prepare_seconds": {k: round(v, 1) for k, v in timings.items()}}
    print(json.dumps(result, ensure_ascii=False, indent=1))
    worst = max((p["p95_ms"] for p in result["pages"].values()), default=0.0)
    print(f"worst p95 {worst:.0f} ms (target ≤ 500), errors {result['errors']} (target 0)")


if __name__ == "__main__":
    main()
