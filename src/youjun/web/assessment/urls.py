"""URLs of the assessment app (every one is in the permission matrix of the web tests)."""

from django.urls import URLPattern, path

from youjun.web import converters
from youjun.web.assessment import views

app_name = "assessment"
converters.register()

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("county/<str:code>/<year:year>/", views.county, name="county"),
    path("county/<str:code>/<year:year>/print/", views.printable, name="print"),
    path("county/<str:code>/<year:year>/inputs/", views.inputs, name="inputs"),
    path("county/<str:code>/<year:year>/inputs/import/", views.inputs_import, name="inputs_import"),
    path("county/<str:code>/<year:year>/evidence/<str:item>/", views.evidence_upload, name="evidence_upload"),
    path("county/<str:code>/<year:year>/review/<str:item>/", views.review, name="review"),
    path("county/<str:code>/<year:year>/finding/<str:veto>/", views.finding, name="finding"),
    path("county/<str:code>/<year:year>/self-evaluation.docx", views.report_docx, name="report_docx"),
    path("county/<str:code>/<year:year>/annex.xlsx", views.annex_xlsx, name="annex_xlsx"),
    path("county/<str:code>/<year:year>/application.<str:fmt>", views.application, name="application"),
    path("evidence/<id:pk>/", views.evidence_file, name="evidence_file"),
    path("evidence/<id:pk>/delete/", views.evidence_delete, name="evidence_delete"),
]
