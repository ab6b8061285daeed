from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "youjun.web.assessment"
    label = "assessment"
    verbose_name = "综合评估"
