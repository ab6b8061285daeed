from django.apps import AppConfig


class ProgrammeConfig(AppConfig):
    name = "youjun.web.programme"
    label = "programme"
    verbose_name = "优质均衡创建"

    def ready(self) -> None:
        from youjun.web.audit.models import register_states
        from youjun.web.programme import downloads
        from youjun.web.programme.models import STATES

        for kind, choices in STATES.items():
            register_states(kind, choices)
        downloads.register_all()
