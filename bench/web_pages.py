"""Server time of the evaluation pages: a county of ~300 schools and a province of ~120 counties.

Builds a throw-away test database (SQLite file in a temporary directory, or ``test_<name>`` on PostgreSQL when
``DATABASE_URL`` is set), loads synthetic approved data with ``load_frame`` + ``onto_real_counties``, stores the
results with ``recompute``, then times requests through ``django.test.Client`` (in process: URL routing,
middleware, session, queries, template rendering; no network). Prints ms per request over ``--requests`` requests
and the number of SQL queries per page. Targets: county page ≤ 300 ms, province page ≤ 500 ms.

Usage: ``.venv/bin/python bench/web_pages.py`` (``DATABASE_URL=postgres://… .venv/bin/python bench/web_pages.py``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "youjun.web.settings")
os.environ.setdefault("YOUJUN_DATA_DIR", tempfile.mkdtemp(prefix="youjun-bench-web-"))
warnings.filterwarnings("ignore", message="No directory at")  # WhiteNoise: no collected static files here

import django  # noqa: E402

django.setup()

import polars as pl  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

PROVINCE = "130000"  # 河北省: 167 county-level units
COUNTY = "340207"  # 鸠江区, the big county
UPLOAD_COUNTY = "340202"  # 镜湖区: the county that uploads its workbook
YEAR = 2024


def big_county_frame(schools: int, seed: int) -> pl.DataFrame:
    """``schools`` evaluated synthetic schools (+10 out of scope) as one county, for this year and last year."""
    from youjun.io.synth import generate

    pool = generate(14, seed, year=YEAR, province="34").schools
    first = pool["county_code"][0]
    out_of_scope = pl.col("school_type").is_in(["特殊教育学校", "教学点"])
    chosen = pl.concat([pool.filter(~out_of_scope).head(schools), pool.filter(out_of_scope).head(10)])
    frame = chosen.with_columns(
        pl.lit(first).alias("county_code"),
        pl.lit(pool["county_name"][0]).alias("county_name"),
        (pl.lit(first) + pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(4)).alias("school_id"),
    )
    last = frame.with_columns(
        pl.lit(YEAR - 1).cast(frame.schema["year"]).alias("year"),
        (pl.col("equipment_value") * 0.9).round(0),
        (pl.col("multimedia_rooms") - pl.col("multimedia_rooms") // 8).alias("multimedia_rooms"),
    )
    return pl.concat([last, frame])


def prepare(counties: int, schools: int, seed: int) -> None:
    from youjun.io.synth import generate
    from youjun.web.accounts.models import Role, User
    from youjun.web.collection.loading import load_frame, onto_real_counties
    from youjun.web.evaluation.pipeline import recompute
    from youjun.web.organisation.models import MINISTRY_CODE, Level, OrgUnit
    from youjun.web.organisation.services import load_divisions

    started = time.perf_counter()
    load_divisions()
    province = list(OrgUnit.objects.filter(level=Level.COUNTY, code__startswith=PROVINCE[:2]).order_by("code"))
    if len(province) < counties:
        sys.exit(f"{PROVINCE} has only {len(province)} county-level units")
    big = OrgUnit.objects.get(code=COUNTY)
    load_frame(onto_real_counties(generate(counties, seed, year=YEAR, province=PROVINCE[:2]).schools, province))
    load_frame(onto_real_counties(big_county_frame(schools, seed), [big]))
    loaded = time.perf_counter()
    for county in province[:counties]:
        recompute(county, YEAR)
    for year in (YEAR - 1, YEAR):
        recompute(big, year)
    done = time.perf_counter()
    User.objects.create(username="b-county", role=Role.COUNTY, org_unit=big)
    User.objects.create(username="b-province", role=Role.PROVINCE, org_unit=OrgUnit.objects.get(code=PROVINCE))
    User.objects.create(username="b-ministry", role=Role.MINISTRY, org_unit=OrgUnit.objects.get(code=MINISTRY_CODE))
    print(f"data: loaded in {loaded - started:.1f} s, evaluated {counties + 2} county-years in {done - loaded:.1f} s")


def timed(client: Client, url: str, requests: int, headers: dict[str, str] | None = None) -> tuple[list[float], int]:
    for _ in range(2):  # warm-up: templates compiled, rule set loaded
        response = client.get(url, headers=headers or {})
        assert response.status_code == 200, (url, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
    queries: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        response = client.get(url, headers=headers or {})
        if response.streaming:
            b"".join(response.streaming_content)
    times = []
    for _ in range(requests):
        t0 = time.perf_counter()
        response = client.get(url, headers=headers or {})
        if response.streaming:
            b"".join(response.streaming_content)
        times.append((time.perf_counter() - t0) * 1000)
    return times, len(queries)


def time_upload(schools: int, seed: int, runs: int = 3) -> None:
    """A county uploads its whole workbook (``schools`` schools, .xlsx) through the web: first import and re-imports."""
    from datetime import timedelta

    from django.utils import timezone

    from youjun.io.workbook import write_data_workbook
    from youjun.web.accounts.models import Role, User
    from youjun.web.collection.loading import onto_real_counties
    from youjun.web.collection.models import CollectionYear, SchoolRecord
    from youjun.web.organisation.models import OrgUnit

    county = OrgUnit.objects.get(code=UPLOAD_COUNTY)
    frame = onto_real_counties(big_county_frame(schools, seed + 1).filter(pl.col("year") == YEAR), [county])
    path = Path(os.environ["YOUJUN_DATA_DIR"]) / "county.xlsx"
    write_data_workbook(path, {"学校": frame})
    user = User.objects.create(username="b-upload", role=Role.COUNTY, org_unit=county)
    now = timezone.now()
    CollectionYear.objects.create(year=YEAR, scope=county, opened_by=user, opens_at=now - timedelta(days=1),
                                  closes_at=now + timedelta(days=1))  # fmt: skip
    client = Client()
    client.force_login(user)
    url = f"/collection/county/{UPLOAD_COUNTY}/{YEAR}/upload/"
    for run in range(runs):
        with path.open("rb") as fh:
            t0 = time.perf_counter()
            response = client.post(url, {"file": fh})
            elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 302, (response.status_code, response.content[:300])  # redirect = imported
        label = "first import" if run == 0 else "re-import"
        imported = SchoolRecord.objects.filter(county=county, year=YEAR).count()
        assert imported == frame.height, imported
        print(f"{url:<48} {'≤ 2000':>9} {elapsed:7.1f}  ({frame.height} schools, .xlsx, {label})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--counties", type=int, default=120, help="counties of the province page")
    parser.add_argument("--schools", type=int, default=300, help="schools of the county page")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    setup_test_environment(debug=False)
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        db.setdefault("TEST", {})["NAME"] = str(Path(os.environ["YOUJUN_DATA_DIR"]) / "bench.sqlite3")
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        prepare(args.counties, args.schools, args.seed)
        from youjun.web.accounts.models import User
        from youjun.web.api.models import ApiToken
        from youjun.web.evaluation.models import CountyEvaluation

        big = CountyEvaluation.objects.get(county__code=COUNTY, year=YEAR)
        schools = len({u["school_id"] for u in big.result["resource_allocation"]["units"]})
        counties = CountyEvaluation.objects.filter(county__code__startswith=PROVINCE[:2]).count()
        print(
            f"database: {connection.vendor}; county {COUNTY}: {schools} schools evaluated, {big.units} units; "
            f"province {PROVINCE}: {counties} counties"
        )
        pages = [
            ("county", f"/evaluation/county/{COUNTY}/{YEAR}/", "≤ 300"),
            ("province", f"/evaluation/unit/{PROVINCE}/{YEAR}/", "≤ 500"),
            ("ministry", f"/evaluation/national/{YEAR}/", ""),
            ("county", f"/evaluation/county/{COUNTY}/{YEAR}/?format=xlsx", ""),
            ("province", f"/evaluation/unit/{PROVINCE}/{YEAR}/?format=xlsx", ""),
        ]
        print(f"{'page':<48} {'target ms':>9} {'min':>7} {'median':>7} {'mean':>7} {'max':>7} {'queries':>7}")
        for role, url, target in pages:
            client = Client()
            client.force_login(User.objects.get(username=f"b-{role}"))
            times, queries = timed(client, url, args.requests)
            print(
                f"{url:<48} {target:>9} {min(times):7.1f} {statistics.median(times):7.1f} "
                f"{statistics.fmean(times):7.1f} {max(times):7.1f} {queries:7d}"
            )
        raw = ApiToken.issue(User.objects.get(username="b-province"), "bench")[1]
        bearer = {"Authorization": f"Bearer {raw}"}
        first = CountyEvaluation.objects.filter(county__code__startswith=PROVINCE[:2]).order_by("county__code")[0]
        for url in (f"/api/counties/{first.county.code}/evaluations/{YEAR}", f"/api/evaluations/{YEAR}"):
            times, queries = timed(Client(), url, args.requests, bearer)
            print(
                f"{url:<48} {'':>9} {min(times):7.1f} {statistics.median(times):7.1f} "
                f"{statistics.fmean(times):7.1f} {max(times):7.1f} {queries:7d}"
            )
        time_upload(args.schools, args.seed)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
