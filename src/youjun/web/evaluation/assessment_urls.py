"""URLs of the full assessment (namespace ``assessment``): the page and documents (``evaluation.assessment_views``)
and the assessment app's writes (``assessment.views``). Every one is in the permission matrix of the web tests."""

from django.urls import URLPattern, path

from youjun.web import converters
from youjun.web.assessment import views as writes
from youjun.web.evaluation import assessment_views as views

app_name = "assessment"
converters.register()

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("county/<str:code>/<year:year>/", views.county, name="county"),
    path("county/<str:code>/<year:year>/print/", views.printable, name="print"),
    path("county/<str:code>/<year:year>/inputs/", writes.inputs, name="inputs"),
    path("county/<str:code>/<year:year>/inputs/import/", writes.inputs_import, name="inputs_import"),
    path("county/<str:code>/<year:year>/narrative/", writes.narrative, name="narrative"),
    path("county/<str:code>/<year:year>/evidence/<str:item>/", writes.evidence_upload, name="evidence_upload"),
    path("county/<str:code>/<year:year>/review/<str:item>/", writes.review, name="review"),
    path("county/<str:code>/<year:year>/finding/<str:veto>/", writes.finding, name="finding"),
    path("county/<str:code>/<year:year>/self-evaluation.docx", views.report_docx, name="report_docx"),
    path("county/<str:code>/<year:year>/annex.xlsx", views.annex_xlsx, name="annex_xlsx"),
    path("county/<str:code>/<year:year>/application.<str:fmt>", views.application, name="application"),
    path("evidence/<id:pk>/", writes.evidence_file, name="evidence_file"),
    path("evidence/<id:pk>/delete/", writes.evidence_delete, name="evidence_delete"),
]
