"""URLs of the programme app (every one is in the permission matrix of the web tests)."""

from django.urls import URLPattern

app_name = "programme"
urlpatterns: list[URLPattern] = []
