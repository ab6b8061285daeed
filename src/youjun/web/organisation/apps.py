from django.apps import AppConfig


class OrganisationConfig(AppConfig):
    name = "youjun.web.organisation"
    label = "organisation"
    verbose_name = "行政区划与学校"
