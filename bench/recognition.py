"""Server time of the recognition at national scale: one round with a case for every county-level unit (~2,900),
spread over the 2024 procedure's steps and its end states, a finding for every third case (a fifth of them
overdue), 60 cases assigned to one expert, half the counties recognised and the list published.

Builds a throw-away SQLite database in a temporary directory (or ``test_<name>`` on PostgreSQL when
``DATABASE_URL`` is set), then times requests through ``django.test.Client`` (in process: routing, middleware,
session, queries, templates) and the to-do builders. Prints ms per request (median and worst of ``--requests``).
Target: every page ≤ 500 ms.

Usage: ``.venv/bin/python bench/recognition.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
import warnings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "youjun.web.settings")
os.environ.setdefault("YOUJUN_DATA_DIR", tempfile.mkdtemp(prefix="youjun-bench-recognition-"))
warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: no collected static files here

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def prepare() -> dict[str, object]:
    from youjun.standards.procedures import load_procedure
    from youjun.web.accounts.models import Role, User
    from youjun.web.organisation.models import MINISTRY_CODE, Level, OrgUnit
    from youjun.web.organisation.services import load_divisions
    from youjun.web.recognition.models import Assignment, Case, Finding, Round, StepRecord

    started = time.perf_counter()
    load_divisions()
    ministry = User.objects.create(username="bench-ministry", role=Role.MINISTRY,
                                   org_unit=OrgUnit.objects.get(code=MINISTRY_CODE))  # fmt: skip
    province = User.objects.create(username="bench-province", role=Role.PROVINCE,
                                   org_unit=OrgUnit.objects.get(code="130000"))  # fmt: skip
    expert = User.objects.create(username="bench-expert", role=Role.EXPERT)
    counties = list(OrgUnit.objects.filter(level=Level.COUNTY).order_by("code"))
    procedure = load_procedure("recognition-2024")
    r = Round.objects.create(
        kind="recognition", year=2024, procedure=procedure.id, name="2024 年度认定", created_by=ministry
    )
    steps = [s.key for s in procedure.steps]
    cases = []
    for i, county in enumerate(counties):
        recognised = i % 2 == 0
        cases.append(Case(round=r, county=county, step="decision" if recognised else steps[i % len(steps)],
                          state="recognised" if recognised else "open", data_year=2024))  # fmt: skip
    Case.objects.bulk_create(cases, batch_size=500)
    cases = list(Case.objects.filter(round=r).order_by("pk"))
    today = dt.date.today()
    StepRecord.objects.bulk_create(
        [StepRecord(case=c, step=c.step, outcome="passed", actor=ministry) for c in cases], batch_size=500
    )
    Finding.objects.bulk_create(
        [Finding(case=c, step="verification", raised_by="expert", text="基准问题",
                 deadline=today + dt.timedelta(days=-3 if i % 5 == 0 else 30),
                 status="verified" if c.state == "recognised" else "open")
         for i, c in enumerate(cases) if i % 3 == 0],
        batch_size=500,
    )  # fmt: skip
    Assignment.objects.bulk_create([Assignment(case=c, expert=expert) for c in cases[1:120:2]])
    Round.objects.filter(pk=r.pk).update(status="published", document_number="教督函〔2025〕3号",
                                         document_date=dt.date(2025, 3, 1))  # fmt: skip
    print(f"prepared {len(cases)} cases in {time.perf_counter() - started:.1f} s")
    return {"round": r.pk, "ministry": ministry, "province": province, "expert": expert, "case": cases[1].pk}


def timed(client: Client, url: str, requests: int) -> tuple[float, float]:
    client.get(url)  # warm
    times = []
    for _ in range(requests):
        t = time.perf_counter()
        response = client.get(url)
        times.append(1000 * (time.perf_counter() - t))
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10)
    args = parser.parse_args()
    setup_test_environment()
    from django.conf import settings
    from django.test.utils import get_runner

    runner = get_runner(settings)(verbosity=0, interactive=False)
    old = runner.setup_databases()
    try:
        found = prepare()
        from youjun.web.todo.selectors import todos_for

        pages = [
            ("ministry", "/recognition/", "国家认定首页（教育部，全国）"),
            ("ministry", f"/recognition/round/{found['round']}/", "批次页（约 2,900 个县）"),
            ("ministry", "/", "教育部工作台（含认定待办）"),
            ("province", "/recognition/", "国家认定首页（省级）"),
            ("expert", "/recognition/", "专家首页（60 个指派）"),
            ("expert", f"/recognition/case/{found['case']}/", "专家的一件申请"),
            (None, "/recognition/list/", "公开认定名单（约 1,450 个县）"),
            (None, f"/recognition/list/{found['round']}.xlsx", "认定名单 Excel"),
        ]
        print(f"{'page':<34} {'median ms':>10} {'worst ms':>9}")
        for who, url, label in pages:
            client = Client()
            if who is not None:
                client.force_login(found[who])  # type: ignore[arg-type]
            median, worst = timed(client, url, args.requests)
            print(f"{label:<30} {median:>10.1f} {worst:>9.1f}")
        for who in ("ministry", "province", "expert"):
            t = time.perf_counter()
            todos = todos_for(found[who])  # type: ignore[arg-type]
            print(f"to-do list of {who}: {1000 * (time.perf_counter() - t):.1f} ms, {len(todos)} items")
    finally:
        runner.teardown_databases(old)


if __name__ == "__main__":
    main()
