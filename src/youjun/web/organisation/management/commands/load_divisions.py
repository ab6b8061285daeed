from django.core.management.base import BaseCommand

from youjun.web.organisation.services import load_divisions


class Command(BaseCommand):
    help = "载入全国行政区划（省、地市、县级）"

    def handle(self, *args: object, **options: object) -> None:
        counts = load_divisions()
        province, prefecture, county = counts["province"], counts["prefecture"], counts["county"]
        self.stdout.write(f"已载入行政区划：{province} 个省级、{prefecture} 个地市级、{county} 个县级单位。")
