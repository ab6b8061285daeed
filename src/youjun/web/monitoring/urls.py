from django.urls import path

from youjun.web.monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("", views.index, name="index"),
    path("unit/<str:code>/", views.unit, name="unit"),
    path("unit/<str:code>/refresh/", views.refresh, name="refresh"),
    path("county/<str:code>/", views.county, name="county"),
    path("county/<str:code>/report.<str:fmt>", views.county_report, name="county_report"),
    path("county/<str:code>/forecast/upload/", views.forecast_upload, name="forecast_upload"),
    path("county/<str:code>/forecast/template.xlsx", views.forecast_template, name="forecast_template"),
    path("unit/<str:code>/report.<str:fmt>", views.province_report, name="province_report"),
]
