from django.apps import AppConfig


class ProgrammeConfig(AppConfig):
    name = "youjun.web.programme"
    label = "programme"
    verbose_name = "优质均衡创建"
