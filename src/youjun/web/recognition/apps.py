from django.apps import AppConfig


class RecognitionConfig(AppConfig):
    name = "youjun.web.recognition"
    label = "recognition"
    verbose_name = "国家认定与复查"

    def ready(self) -> None:
        from youjun.web.audit.models import register_states
        from youjun.web.organisation import status
        from youjun.web.recognition import selectors
        from youjun.web.recognition.models import STATES

        for kind, choices in STATES.items():
            register_states(kind, choices)
        status.register(selectors.status_lines)
