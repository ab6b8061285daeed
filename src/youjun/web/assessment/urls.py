"""URLs of the assessment app (every one is in the permission matrix of the web tests)."""

from django.urls import URLPattern

app_name = "assessment"
urlpatterns: list[URLPattern] = []
