from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "youjun.web.site"
    label = "site"
    verbose_name = "站点"
