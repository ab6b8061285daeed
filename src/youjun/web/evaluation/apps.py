from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "youjun.web.evaluation"
    label = "evaluation"
    verbose_name = "评估结果"

    def ready(self) -> None:
        from youjun.web.evaluation import downloads
        from youjun.web.evaluation.pipeline import on_data_changed
        from youjun.web.signals import data_changed

        data_changed.connect(on_data_changed, dispatch_uid="youjun-evaluation-data-changed")
        downloads.register_all()
