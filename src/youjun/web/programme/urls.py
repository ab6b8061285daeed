"""URLs of the programme app (all in the permission matrix: tests/web/targets_programme.py)."""

from django.urls import path

from youjun.web import converters
from youjun.web.programme import views

app_name = "programme"
converters.register()

urlpatterns = [
    path("", views.index, name="index"),
    path("list/", views.public_list, name="public"),
    path("list/export.xlsx", views.public_export, name="public_export"),
    path("experiences/", views.experiences, name="experiences"),
    path("notifications/", views.notifications, name="notifications"),
    path("batches/new/", views.batch_new, name="batch_new"),
    path("batch/<id:number>/", views.batch, name="batch"),
    path("batch/<id:number>/move/<str:action>/", views.batch_move, name="batch_move"),
    path("batch/<id:number>/forms.zip", views.batch_forms, name="batch_forms"),
    path("batch/<id:number>/province/<str:code>/", views.province_set, name="province"),
    path("batch/<id:number>/province/<str:code>/nominate/", views.nominate, name="nominate"),
    path("batch/<id:number>/province/<str:code>/submit/", views.submit_set, name="submit_set"),
    path("batch/<id:number>/province/<str:code>/extension/", views.extension, name="extension"),
    path("batch/<id:number>/province/<str:code>/letter/", views.letter_upload, name="letter_upload"),
    path("batch/<id:number>/province/<str:code>/forms.zip", views.province_forms, name="province_forms"),
    path("nomination/<id:pk>/", views.nomination, name="nomination"),
    path("nomination/<id:pk>/do/<str:action>/", views.nomination_action, name="nomination_action"),
    path("nomination/<id:pk>/form.<str:fmt>", views.nomination_export, name="nomination_export"),
    path("nomination/<id:pk>/evidence/<str:kind>/", views.evidence_upload, name="evidence_upload"),
    path("file/<id:pk>/", views.attachment, name="attachment"),
    path("file/<id:pk>/delete/", views.attachment_delete, name="attachment_delete"),
    path("province/<str:code>/", views.province_dashboard, name="province_dashboard"),
    path("province/<str:code>/basic-balance/", views.basic_balance, name="basic_balance"),
    path("county/<str:code>/", views.county, name="county"),
    path("county/<str:code>/plan/", views.plan, name="plan"),
    path("county/<str:code>/plan/do/<str:action>/", views.plan_action, name="plan_action"),
    path("plan/adopt/<int:pk>/", views.adopt_scenario, name="adopt_scenario"),
    path("county/<str:code>/reports/new/", views.report_new, name="report_new"),
    path("report/<id:pk>/", views.report, name="report"),
    path("report/<id:pk>/do/<str:action>/", views.report_action, name="report_action"),
    path("experience/<id:pk>/publish/", views.experience_publish, name="experience_publish"),
]
