from django.apps import AppConfig


class CollectionConfig(AppConfig):
    name = "youjun.web.collection"
    label = "collection"
    verbose_name = "年度数据采集"

    def ready(self) -> None:
        from youjun.web.audit.models import register_states
        from youjun.web.collection.models import RecordStatus, SubmissionStatus

        register_states("record", RecordStatus)
        register_states("submission", SubmissionStatus)
