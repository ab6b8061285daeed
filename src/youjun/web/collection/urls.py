"""Pages of the annual collection; see ``collection.views`` for who may use each."""

from django.urls import path

from youjun.web import converters
from youjun.web.collection import views

app_name = "collection"
converters.register()

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("years/", views.years, name="years"),
    path("template.xlsx", views.template, name="template"),
    path("record/<id:pk>/", views.record, name="record"),
    path("record/<id:pk>/move/", views.record_move, name="record_move"),
    path("record/<id:pk>/upload/", views.record_upload, name="record_upload"),
    path("county/<str:code>/<year:year>/", views.county, name="county"),
    path("county/<str:code>/<year:year>/export.xlsx", views.county_export, name="county_export"),
    path("county/<str:code>/<year:year>/records/", views.create_records, name="create_records"),
    path("county/<str:code>/<year:year>/approve/", views.bulk_approve, name="bulk_approve"),
    path("county/<str:code>/<year:year>/submission/", views.submission, name="submission"),
    path("county/<str:code>/<year:year>/upload/", views.county_upload, name="county_upload"),
    path("county/<str:code>/<year:year>/upload/report/", views.upload_report, name="upload_report"),
    path(
        "county/<str:code>/<year:year>/upload/report.<str:fmt>",
        views.upload_report_file,
        name="upload_report_file",
    ),
]
