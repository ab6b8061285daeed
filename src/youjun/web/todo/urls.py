"""URLs of the to-do app (all in the permission matrix: tests/web/targets_todo.py)."""

from django.urls import path

from youjun.web import converters
from youjun.web.todo import views

app_name = "todo"
converters.register()

urlpatterns = [
    path("open/", views.open_notice, name="open"),
    path("county/<str:code>/<year:year>/chase/", views.chase, name="chase"),
    path("county/<str:code>/<year:year>/chase/print/", views.chase_print, name="chase_print"),
    path("county/<str:code>/<year:year>/chase.xlsx", views.chase_xlsx, name="chase_xlsx"),
    path("county/<str:code>/<year:year>/chase/send/", views.chase_send, name="chase_send"),
]
