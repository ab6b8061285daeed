from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "youjun.web.audit"
    label = "audit"
    verbose_name = "办理记录"
