"""Prepare the demo: a province with synthetic schools in several real counties, two years, one account per role."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import polars as pl
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from youjun.io.synth import generate
from youjun.web.accounts.models import Role, User
from youjun.web.collection.loading import load_frame, onto_real_counties
from youjun.web.collection.models import CollectionYear, CountySubmission, RecordStatus, SchoolRecord
from youjun.web.evaluation.pipeline import recompute
from youjun.web.organisation.models import MINISTRY_CODE, Level, OrgUnit, School
from youjun.web.organisation.services import load_divisions

PROVINCE = "340000"  # 安徽省
PREFECTURE = "340200"  # 芜湖市
COUNTY = "340207"  # 鸠江区: the demo county, its current year still being collected
YEAR = 2024
PASSWORD = "youjun-demo-2024"


DEMO_APPS = ("assessment", "survey", "programme")


class Command(BaseCommand):
    help = "准备演示数据：安徽省若干县（区）的模拟学校数据、两个年度、各角色演示账号"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--counties", type=int, default=8)

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if OrgUnit.objects.filter(level=Level.COUNTY).count() == 0:
            load_divisions()
        if SchoolRecord.objects.filter(county__code__startswith="34").exists():
            self.stdout.write("演示数据已存在，跳过生成。")
        else:
            self._load(int(options["counties"]))
        self._accounts()
        extras = self._app_demos()
        self._print_logins()
        for line in extras:
            self.stdout.write(line)

    def _load(self, n: int) -> None:
        wuhu = list(OrgUnit.objects.filter(level=Level.COUNTY, code__startswith="3402").order_by("code"))
        others = list(
            OrgUnit.objects.filter(level=Level.COUNTY, code__startswith="34").exclude(code__startswith="3402")
        )
        counties = (wuhu + others)[:n]
        counties.sort(key=lambda c: c.code != COUNTY)  # the demo county first
        current = onto_real_counties(generate(n, 2024, year=YEAR, province="34").schools, counties)
        # Last year: the same schools with somewhat less equipment and fewer multimedia rooms, so that the
        # year-on-year comparison has something to show.
        last = current.with_columns(
            pl.lit(YEAR - 1).alias("year"),
            (pl.col("equipment_value") * 0.9).round(0),
            (pl.col("multimedia_rooms") - (pl.col("multimedia_rooms") // 8)).alias("multimedia_rooms"),
        )
        load_frame(last, RecordStatus.APPROVED)
        load_frame(current, RecordStatus.APPROVED)
        # The demo county's current year is still open: records back to the schools, nothing submitted yet.
        SchoolRecord.objects.filter(county__code=COUNTY, year=YEAR).update(status=RecordStatus.DRAFT)
        province = OrgUnit.objects.get(code=PROVINCE)
        admin = self._user("demo-ministry", Role.MINISTRY, OrgUnit.objects.get(code=MINISTRY_CODE), "教育部演示账号")
        now = timezone.now()
        CollectionYear.objects.get_or_create(
            year=YEAR,
            scope=province,
            defaults={"opens_at": now - timedelta(days=30), "closes_at": now + timedelta(days=90), "opened_by": admin},
        )
        for county in counties:
            if county.code != COUNTY:
                CountySubmission.objects.get_or_create(county=county, year=YEAR - 1, defaults={"status": "accepted"})
            for year in (YEAR - 1, YEAR):
                recompute(county, year)

    def _user(self, username: str, role: str, unit: OrgUnit | None, name: str, school: School | None = None) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={"role": role, "org_unit": unit, "display_name": name, "school": school}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
        return user

    def _accounts(self) -> None:
        county = OrgUnit.objects.get(code=COUNTY)
        school = county.schools.order_by("school_id").first()
        self._user("demo-ministry", Role.MINISTRY, OrgUnit.objects.get(code=MINISTRY_CODE), "教育部演示账号")
        self._user("demo-province", Role.PROVINCE, OrgUnit.objects.get(code=PROVINCE), "安徽省教育厅演示账号")
        self._user("demo-prefecture", Role.PREFECTURE, OrgUnit.objects.get(code=PREFECTURE), "芜湖市教育局演示账号")
        self._user("demo-county", Role.COUNTY, county, "鸠江区教育局演示账号")
        self._user("demo-school", Role.SCHOOL, None, f"{school.name}填报员" if school else "学校填报员", school)
        self._user("demo-viewer", Role.VIEWER, OrgUnit.objects.get(code=PROVINCE), "安徽省只读账号")

    def _app_demos(self) -> list[str]:
        """Each app with a ``demo`` module adds its own demo data (survey campaign, assessment inputs, pilot batch)
        after the schools and accounts exist; it returns lines to print (links, hints). Idempotent like the rest."""
        lines: list[str] = []
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"youjun.web.{app}.demo")
            except ModuleNotFoundError:
                continue
            lines += module.setup()
        return lines

    def _print_logins(self) -> None:
        self.stdout.write(f"\n演示账号（密码均为 {PASSWORD}）：")
        for user in User.objects.filter(username__startswith="demo-").order_by("id"):
            where = user.org_unit.full_name if user.org_unit else (user.school.name if user.school else "")
            self.stdout.write(f"  {user.username:<16} {user.get_role_display():<6} {where}")
