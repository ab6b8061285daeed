from django.urls import path

from youjun.web.operations import views

app_name = "operations"
urlpatterns = [path("tasks/", views.tasks, name="tasks")]
