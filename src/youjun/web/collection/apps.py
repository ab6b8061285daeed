from django.apps import AppConfig


class CollectionConfig(AppConfig):
    name = "youjun.web.collection"
    label = "collection"
    verbose_name = "年度数据采集"
