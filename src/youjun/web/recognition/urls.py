"""URLs of the recognition (all in the permission matrix: tests/web/targets_recognition.py)."""

from django.urls import path

from youjun.web import converters
from youjun.web.recognition import views

app_name = "recognition"
converters.register()

urlpatterns = [
    path("", views.index, name="index"),
    path("list/", views.public, name="public"),
    path("list/<id:pk>.xlsx", views.public_xlsx, name="public_xlsx"),
    path("rounds/new/", views.round_new, name="round_new"),
    path("experts/new/", views.expert_new, name="expert_new"),
    path("round/<id:pk>/", views.round_page, name="round"),
    path("round/<id:pk>/publish/", views.round_publish, name="round_publish"),
    path("round/<id:pk>/start/", views.start, name="start"),
    path("round/<id:pk>/quality/", views.round_quality, name="round_quality"),
    path("round/<id:pk>/quality-template.xlsx", views.quality_template, name="quality_template"),
    path("case/<id:pk>/", views.case_page, name="case"),
    path("case/<id:pk>/record/", views.case_record, name="case_record"),
    path("case/<id:pk>/act/", views.case_act, name="case_act"),
    path("case/<id:pk>/file/", views.case_file, name="case_file"),
    path("case/<id:pk>/assign/", views.case_assign, name="case_assign"),
    path("case/<id:pk>/survey/", views.case_survey, name="case_survey"),
    path("case/<id:pk>/findings/new/", views.finding_new, name="finding_new"),
    path("case/<id:pk>/rectification.docx", views.rectification_report, name="rectification_report"),
    path("file/<id:pk>/", views.case_file_download, name="file"),
    path("finding/<id:pk>/", views.finding_page, name="finding"),
    path("finding/<id:pk>/do/<str:action>/", views.finding_do, name="finding_do"),
    path("finding/<id:pk>/file/", views.finding_file, name="finding_file"),
]
