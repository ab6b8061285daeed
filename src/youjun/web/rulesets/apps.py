from django.apps import AppConfig


class RuleSetsConfig(AppConfig):
    name = "youjun.web.rulesets"
    label = "rulesets"
    verbose_name = "规则集"
