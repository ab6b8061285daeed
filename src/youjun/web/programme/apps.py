from django.apps import AppConfig


class ProgrammeConfig(AppConfig):
    name = "youjun.web.programme"
    label = "programme"
    verbose_name = "优质均衡创建"

    def ready(self) -> None:
        from youjun.web.audit.models import register_states
        from youjun.web.evaluation import report_parts
        from youjun.web.programme import downloads
        from youjun.web.programme.models import STATES
        from youjun.web.programme.services.adoption import report_plan

        for kind, choices in STATES.items():
            register_states(kind, choices)
        downloads.register_all()
        report_parts.register_plan(report_plan)
