"""Pages of the annual collection; see ``collection.views`` for who may use each."""

from django.urls import path

from youjun.web.collection import views

app_name = "collection"
urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("years/", views.years, name="years"),
    path("template.xlsx", views.template, name="template"),
    path("record/<int:pk>/", views.record, name="record"),
    path("record/<int:pk>/move/", views.record_move, name="record_move"),
    path("record/<int:pk>/upload/", views.record_upload, name="record_upload"),
    path("county/<str:code>/<int:year>/", views.county, name="county"),
    path("county/<str:code>/<int:year>/export.xlsx", views.county_export, name="county_export"),
    path("county/<str:code>/<int:year>/records/", views.create_records, name="create_records"),
    path("county/<str:code>/<int:year>/approve/", views.bulk_approve, name="bulk_approve"),
    path("county/<str:code>/<int:year>/submission/", views.submission, name="submission"),
    path("county/<str:code>/<int:year>/upload/", views.county_upload, name="county_upload"),
    path("county/<str:code>/<int:year>/upload/report/", views.upload_report, name="upload_report"),
    path(
        "county/<str:code>/<int:year>/upload/report.<str:fmt>",
        views.upload_report_file,
        name="upload_report_file",
    ),
]
