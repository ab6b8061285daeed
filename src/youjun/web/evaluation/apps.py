from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "youjun.web.evaluation"
    label = "evaluation"
    verbose_name = "评估结果"
