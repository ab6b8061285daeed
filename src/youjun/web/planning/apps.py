from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "youjun.web.planning"
    label = "planning"
    verbose_name = "达标规划与情景模拟"
