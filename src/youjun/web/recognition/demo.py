"""Demo data of the recognition (run by ``demo_setup``): the 2024 national recognition round, opened by the demo
ministry under the 2024 procedure file, and an expert account (demo-expert, no unit: it sees only what the ministry
assigns to it). Counties apply from their own page. Idempotent; the printed links start with ``base``."""

from __future__ import annotations

from django.urls import reverse

from youjun.web.accounts.models import Role, User
from youjun.web.recognition import services
from youjun.web.recognition.models import Round

PASSWORD = "youjun-demo-2024"
YEAR = 2024


def setup(base: str = "") -> list[str]:
    ministry = User.objects.filter(username="demo-ministry").first()
    if ministry is not None and not Round.objects.filter(kind="recognition", year=YEAR).exists():
        services.open_round(ministry, "recognition", YEAR)
    expert, created = User.objects.get_or_create(
        username="demo-expert", defaults={"role": Role.EXPERT, "display_name": "国家认定专家（演示）"}
    )
    if created:
        expert.set_password(PASSWORD)
        expert.save()
    return [
        f"国家认定：已开设 {YEAR} 年度认定批次（按 {YEAR} 年度认定程序文件办理）；县级账号在「国家认定」页申请，",
        "  市、省逐级审核并申报，教育部账号 demo-ministry 指派专家 demo-expert 进行指标审核与核查评估。",
        f"  认定名单（免登录）：{base}{reverse('recognition:public')}",
    ]
