from django.apps import AppConfig


class DownloadsConfig(AppConfig):
    name = "youjun.web.downloads"
    label = "downloads"
    verbose_name = "文件下载"
