"""Demo data of the programme (run by ``demo_setup``): basic-balance recognition years for the counties of 芜湖市
(安徽省) and 南京市 (江苏省), synthetic school data (and so a stored evaluation, which the recommendation form
needs) for a few of those counties that have none yet, a second province's account (demo-province2, 江苏省) and a
second pilot-county account (demo-county2, 镜湖区; ``demo_setup`` lists every demo account). No batch is created:
the ministry opens one (see the browser test). Idempotent; the printed links start with the ``base`` it is given."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from youjun.io.synth import generate
from youjun.web.accounts.models import Role, User
from youjun.web.collection.loading import load_frame, onto_real_counties
from youjun.web.collection.models import RecordStatus, SchoolRecord
from youjun.web.evaluation.pipeline import recompute
from youjun.web.organisation.models import BasicBalance, Level, OrgUnit

PASSWORD = "youjun-demo-2024"
#: 湾沚区 passed basic balance only last year: nominating it is refused (condition 2: at least 3 years before).
RECENT = {"340210": timezone.localdate().year - 1}
YEARS = {"3402": 2015, "3201": 2014}
#: Counties given synthetic school data of YEAR when they have none (nominees of the browser test's two runs).
WITH_DATA = ("340202", "340209", "340212", "320102", "320104", "320105", "320106")
YEAR = 2024
ACCOUNTS = (
    ("demo-province2", Role.PROVINCE, "320000", "江苏省教育厅演示账号"),
    ("demo-county2", Role.COUNTY, "340202", "镜湖区教育局演示账号"),
)


def _school_data() -> None:
    missing = [
        c
        for c in OrgUnit.objects.filter(code__in=WITH_DATA).order_by("code")
        if not SchoolRecord.objects.filter(county=c, year=YEAR).exists()
    ]
    if not missing:
        return
    synthetic = generate(len(missing), 2021, year=YEAR, province="34").schools
    load_frame(onto_real_counties(synthetic, missing), RecordStatus.APPROVED)
    for county in missing:
        recompute(county, YEAR)


def setup(base: str = "") -> list[str]:
    _school_data()
    for prefix, year in YEARS.items():
        for county in OrgUnit.objects.filter(level=Level.COUNTY, code__startswith=prefix):
            BasicBalance.objects.get_or_create(
                county=county, defaults={"year": RECENT.get(county.code, year), "document": "国家基本均衡认定（演示）"}
            )
    for username, role, code, name in ACCOUNTS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"role": role, "org_unit": OrgUnit.objects.get(code=code), "display_name": name}
        )
        if created:
            user.set_password(PASSWORD)
            user.save()
    return [
        "优质均衡先行创建：教育部账号 demo-ministry 新建批次并开始推荐，安徽省、江苏省账号推荐先行创建县；",
        "  芜湖市、南京市各县已录入基本均衡认定年份（芜湖市湾沚区认定未满 3 年，推荐会被拒绝）。",
        f"  公开名单（免登录）：{base}{reverse('programme:public')}",
    ]
