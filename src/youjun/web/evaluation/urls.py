"""Evaluation pages (see ``views`` for who may open which)."""

from django.urls import path

from youjun.web.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("", views.index, name="index"),
    path("county/<str:code>/<int:year>/", views.county, name="county"),
    path("unit/<str:code>/<int:year>/", views.unit, name="unit"),
    path("national/<int:year>/", views.national, name="national"),
]
