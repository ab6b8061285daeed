"""Prepare the demo: a province with synthetic schools in several real counties over five years, one account per role;
then print where to go: the addresses (this machine and, with ``make demo HOST=0.0.0.0``, the one phones use), each
demo account with what to try and a login link that leads there, and the demo's anonymous links (the survey)."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import polars as pl
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from youjun.io.forecast_inputs import GRADE_KEYS
from youjun.io.synth import generate
from youjun.web.accounts.models import Role, User
from youjun.web.collection.loading import load_frame, onto_real_counties
from youjun.web.collection.models import CollectionYear, CountySubmission, RecordStatus, SchoolRecord
from youjun.web.evaluation.pipeline import recompute
from youjun.web.monitoring.models import ForecastInputs
from youjun.web.organisation.models import MINISTRY_CODE, Level, OrgUnit, School
from youjun.web.organisation.services import load_divisions
from youjun.web.site import network

PROVINCE = "340000"  # 安徽省
PREFECTURE = "340200"  # 芜湖市
COUNTY = "340207"  # 鸠江区: the demo county, its current year still being collected
YEAR = 2024
#: Years before last year's, for monitoring: the demo province has five years in all.
EARLIER_YEARS = 3
PASSWORD = "youjun-demo-2024"


#: The programme first: it records the counties' basic-balance years, which the assessment's results depend on.
DEMO_APPS = ("programme", "assessment", "survey", "recognition")
#: What each demo account should try, and the page its login link leads to (the order accounts are listed in).
TRY = {
    "demo-province": ("审核鸠江区综合评估、接收县（区）报送、推荐先行创建县", "/assessment/county/340207/2023/"),
    "demo-viewer": ("只读查看全省评估结果", "/evaluation/"),
    "demo-prefecture": ("查看本市各县（区）评估结果和报送进度", "/evaluation/"),
    "demo-county": (
        "审核学校数据并报送；综合评估、社会认可度调查；年度监测与学位预测；达标规划与情景模拟",
        "/collection/",
    ),
    "demo-school": ("填报本校 2024 年数据，提交县（区）审核", "/collection/"),
    "demo-county2": ("作为先行创建县填写实施方案、报送进展报告（教育部确认后）", "/programme/"),
    "demo-province2": ("推荐本省先行创建县（教育部开设批次后）", "/programme/"),
    "demo-ministry": ("开设先行创建批次；国家认定：审核、指派专家、公布名单；全国评估结果", "/programme/"),
    "demo-expert": ("审核教育部指派给本人的县（区）：指标审核、核查评估，登记问题、核验整改", "/recognition/"),
}
#: Prefecture-level names that are not places (direct-controlled cities, counties under the province).
PSEUDO_PREFECTURES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


class Command(BaseCommand):
    help = "准备演示数据：安徽省若干县（区）的模拟学校数据、两个年度、各角色演示账号"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--counties", type=int, default=8)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DEMO:
            self._check_address(settings.DEMO_HOST, settings.DEMO_PORT)
        base = base_url()
        with transaction.atomic():
            if OrgUnit.objects.filter(level=Level.COUNTY).count() == 0:
                load_divisions()
            if SchoolRecord.objects.filter(county__code__startswith="34").exists():
                self.stdout.write("演示数据已存在，跳过生成。")
            else:
                self._load(int(options["counties"]))
            self._accounts()
            self._forecast_inputs()
            extras = self._app_demos(base)
        # After the commit (and the jobs it starts): the addresses and logins are the last thing on the screen.
        self._print_start(base)
        self._print_logins(base)
        for line in extras:
            self.stdout.write(line)
        if settings.DEMO:
            self.stdout.write("\n按 Ctrl+C 停止；命令行演示见 make cli-demo。")

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
        # Three years before that, going back: less equipment and fewer rooms (bought since), fewer backbone
        # teachers, and rural schools with more pupils (who have moved to the towns since): five years of movement
        # for the monitoring pages (years compared are consecutive).
        for back in range(1, EARLIER_YEARS + 1):
            rural = pl.col("urban_rural").cast(pl.String).str.starts_with("乡村")
            earlier = last.with_columns(
                pl.lit(YEAR - 1 - back).alias("year"),
                (pl.col("equipment_value") * 0.9**back).round(0),
                (pl.col("multimedia_rooms") - back * (pl.col("multimedia_rooms") // 10)).clip(0),
                (pl.col("backbone_teachers_primary") * (1 - 0.05 * back)).floor().cast(pl.Int64),
                (pl.col("backbone_teachers_junior") * (1 - 0.05 * back)).floor().cast(pl.Int64),
                (pl.col("teaching_aux_area") * (1 - 0.02 * back)).round(1),
                pl.when(rural)
                .then((pl.col("students_primary") * (1 + 0.04 * back)).round(0).cast(pl.Int64))
                .otherwise(pl.col("students_primary"))
                .alias("students_primary"),
            )
            load_frame(earlier, RecordStatus.APPROVED)
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
            for year in range(YEAR - 1 - EARLIER_YEARS, YEAR - 1):
                CountySubmission.objects.get_or_create(county=county, year=year, defaults={"status": "accepted"})
            if county.code != COUNTY:
                CountySubmission.objects.get_or_create(county=county, year=YEAR - 1, defaults={"status": "accepted"})
            for year in range(YEAR - 1 - EARLIER_YEARS, YEAR + 1):
                recompute(county, year)

    def _forecast_inputs(self) -> None:
        """The demo county's pupils by grade for its approved years and its births: cohorts that move up a grade a
        year, an intake falling with the births since 2017 (so the forecast shows emptying grades)."""
        county = OrgUnit.objects.get(code=COUNTY)
        if ForecastInputs.objects.filter(county=county).exists():
            return
        records = SchoolRecord.objects.filter(county=county, status=RecordStatus.APPROVED).order_by("year", "school")
        grades: dict[str, list[Any]] = {k: [] for k in ("year", "school_id", "county_code", *GRADE_KEYS)}

        def intake(entry: int) -> float:
            return 1.0 - 0.035 * max(entry - 2017, 0)

        for r in records.select_related("school"):
            values = [float(intake(r.year - g)) for g in range(9)]  # grade g + 1 entered in year − g
            split = []
            for total, part in (
                (r.values.get("students_primary") or 0, values[:6]),
                (r.values.get("students_junior") or 0, values[6:]),
            ):
                shares = [int(total * v / sum(part)) for v in part]
                shares[-1] += int(total) - sum(shares)
                split += shares
            for key, value in (("year", r.year), ("school_id", r.school.school_id), ("county_code", county.code)):
                grades[key].append(value)
            for key, n in zip(GRADE_KEYS, split, strict=True):
                grades[key].append(n)
        if not grades["year"]:
            return
        first = [n for y, n in zip(grades["year"], grades["grade_1"], strict=True) if y == max(grades["year"])]
        entry = sum(first) / intake(max(grades["year"]))
        births = {
            "county_code": [county.code] * 15,
            "birth_year": list(range(YEAR - 20, YEAR - 5)),
            "births": [round(entry * intake(y + 6) * 1.02) for y in range(YEAR - 20, YEAR - 5)],
        }
        ForecastInputs.objects.create(county=county, grades=grades, births=births, version=1)

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

    def _app_demos(self, base: str) -> list[str]:
        """Each app with a ``demo`` module adds its own demo data (survey campaign, assessment inputs, programme
        recognitions and accounts) after the schools and accounts exist; it returns lines to print, its links
        starting with ``base``. Idempotent like the rest."""
        lines: list[str] = []
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"youjun.web.{app}.demo")
            except ModuleNotFoundError:
                continue
            lines += ["", *module.setup(base)]
        return lines

    def _check_address(self, host: str, port: str) -> None:
        """The demo's address can be listened on (before minutes of set-up end in "address already in use")."""
        if not port.isdigit() or not 0 < int(port) < 65536:
            raise CommandError(f"端口「{port}」无效：请用 1–65535 之间的数字，例如 make demo PORT=8080。")
        problem = network.listen_problem(host, int(port))
        if problem:
            raise CommandError(problem)

    def _print_start(self, base: str) -> None:
        if not settings.DEMO:  # run on its own (tests, a server started otherwise)
            self.stdout.write(f"\n演示数据已准备好；以下链接按 {base} 给出。")
            return
        local, public = settings.YOUJUN_DEMO_URL, settings.YOUJUN_PUBLIC_URL
        self.stdout.write(f"\n优均演示即将启动：{local}/")
        if public and public != local:
            self.stdout.write(f"同一网络的手机、电脑：{public}/（问卷二维码和链接都带这个地址）")
        elif public:
            self.stdout.write("同一网络的手机、电脑也用这个地址（问卷二维码和链接都带它）。")
        elif settings.DEMO_HOST in network.WILDCARDS:
            self.stdout.write("没有找到本机的局域网地址（未联网？）：问卷二维码将带浏览器所用的地址。")
        else:
            port = "" if settings.DEMO_PORT == "8000" else f" PORT={settings.DEMO_PORT}"
            self.stdout.write(f"要让同一网络的手机扫码答卷：make demo HOST=0.0.0.0{port}（本机防火墙须允许该端口）")

    def _print_logins(self, base: str) -> None:
        """Each account as role and unit with what to try, then its login link and user name / password, grouped
        by the chain of jurisdiction they share: a province with its prefecture, counties and school; the ministry."""
        users = User.objects.filter(username__startswith="demo-").select_related("org_unit__parent", "school__county")
        by_name = {u.username: u for u in users}
        groups: dict[str, list[User]] = {}
        for name in [n for n in TRY if n in by_name] + sorted(set(by_name) - set(TRY)):
            groups.setdefault(_chain(by_name[name]), []).append(by_name[name])
        self.stdout.write(f"\n演示账号（密码均为 {PASSWORD}；登录后直接进入要试的页面）：")
        for chain, members in groups.items():
            chained = any(u.school is not None for u in members)
            note = "（一条管辖链：学校填报 → 县（区）审核、报送 → 市、省接收和审核）" if chained else ""
            self.stdout.write(f"  {chain}{note}")
            for user in members:
                what, page = TRY.get(user.username, ("", "/"))
                self.stdout.write(f"    {_role(user)}{'：' + what if what else ''}")
                self.stdout.write(f"      {login_url(base, page)}   {user.username} / {PASSWORD}")


def base_url() -> str:
    """Where links printed by the demo point: the public address (phones), else the demo's own, else the default."""
    return settings.YOUJUN_PUBLIC_URL or settings.YOUJUN_DEMO_URL or "http://127.0.0.1:8000"


def login_url(base: str, page: str) -> str:
    return f"{base}/accounts/login/?next={page}"


def place_name(unit: OrgUnit) -> str:
    """A county with its prefecture (芜湖市鸠江区), a prefecture with its province (安徽省芜湖市); where the prefecture
    level is not a place (北京市市辖区, 省直辖县级行政区划), the province instead (北京市东城区)."""
    parent = unit.parent
    if unit.level == Level.COUNTY and parent is not None and parent.name not in PSEUDO_PREFECTURES:
        return unit.name if unit.name == parent.name else f"{parent.name}{unit.name}"
    if unit.level in (Level.COUNTY, Level.PREFECTURE) and unit.province_name and unit.name != unit.province_name:
        return f"{unit.province_name}{unit.name}"
    return unit.name


def _unit(user: User) -> OrgUnit | None:
    return user.school.county if user.school is not None else user.org_unit


def _chain(user: User) -> str:
    unit = _unit(user)
    if unit is None or unit.level == Level.MINISTRY:
        return "教育部"
    return unit.province_name or unit.name


def _role(user: User) -> str:
    if user.school is not None:
        return f"{user.get_role_display()}（{place_name(user.school.county)}{user.school.name}）"
    unit = user.org_unit
    return (
        f"{user.get_role_display()}（{place_name(unit)}）"
        if unit is not None and unit.level != Level.MINISTRY
        else user.get_role_display()
    )
