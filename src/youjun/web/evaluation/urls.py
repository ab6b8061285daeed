"""Evaluation pages (see ``views`` for who may open which)."""

from django.urls import path

from youjun.web import converters
from youjun.web.evaluation import views

app_name = "evaluation"
converters.register()

urlpatterns = [
    path("", views.index, name="index"),
    path("county/<str:code>/<year:year>/", views.county, name="county"),
    path("unit/<str:code>/<year:year>/", views.unit, name="unit"),
    path("national/<year:year>/", views.national, name="national"),
]
