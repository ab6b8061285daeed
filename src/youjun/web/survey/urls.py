"""URLs of the survey app (every one is in the permission matrix of the web tests)."""

from django.urls import URLPattern

app_name = "survey"
urlpatterns: list[URLPattern] = []
