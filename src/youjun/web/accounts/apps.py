from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "youjun.web.accounts"
    label = "accounts"
    verbose_name = "账号与权限"
