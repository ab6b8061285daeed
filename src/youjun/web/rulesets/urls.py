from django.urls import path

from youjun.web.rulesets import views

app_name = "rulesets"

urlpatterns = [path("", views.index, name="index")]
