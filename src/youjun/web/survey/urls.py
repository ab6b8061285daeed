"""URLs of the survey app (every one is in the permission matrix of the web tests)."""

from django.urls import path

from youjun.web import converters
from youjun.web.survey import answer, views

app_name = "survey"
converters.register()

urlpatterns = [
    path("", views.index, name="index"),
    path("county/<str:code>/", views.county, name="county"),
    path("campaign/<id:pk>/", views.campaign, name="campaign"),
    path("campaign/<id:pk>/status/", views.status, name="status"),
    path("campaign/<id:pk>/quotas/", views.quotas, name="quotas"),
    path("campaign/<id:pk>/links/", views.links, name="links"),
    path("campaign/<id:pk>/links.xlsx", views.links_export, name="links_export"),
    path("campaign/<id:pk>/school-links/", views.school_links, name="school_links"),
    path("campaign/<id:pk>/school-links/all/", views.all_school_links, name="all_school_links"),
    path("campaign/<id:pk>/qr/", views.qr_sheet, name="qr_sheet"),
    path("campaign/<id:pk>/responses.xlsx", views.responses_export, name="responses_export"),
    path("a/<str:token>/", answer.answer, name="answer"),
]
