from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "youjun.web.accounts"
    label = "accounts"
    verbose_name = "账号与权限"

    def ready(self) -> None:
        from youjun.web.accounts import signals  # noqa: F401  (connects the login and logout receivers)
