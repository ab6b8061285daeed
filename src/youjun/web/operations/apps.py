from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "youjun.web.operations"
    label = "operations"
    verbose_name = "后台任务"
