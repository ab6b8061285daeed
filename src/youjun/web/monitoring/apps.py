from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "youjun.web.monitoring"
    label = "monitoring"
    verbose_name = "年度监测与预警"

    def ready(self) -> None:
        from youjun.web.monitoring import documents

        documents.register_all()
