from django.apps import AppConfig


class TodoConfig(AppConfig):
    name = "youjun.web.todo"
    label = "todo"
    verbose_name = "待办与提醒"

    def ready(self) -> None:
        """Offer ``services.settle_notifications`` to the programme's notifications page, which sits below this app
        and cannot import it: the programme calls what is registered in ``SETTLERS`` (when it has that hook)."""
        from youjun.web.programme.services import common
        from youjun.web.todo import services

        settlers = getattr(common, "SETTLERS", None)
        if isinstance(settlers, list) and services.settle_notifications not in settlers:
            settlers.append(services.settle_notifications)
