from django.urls import path

from youjun.web.organisation import views

app_name = "organisation"
urlpatterns = [
    path("county/<str:code>/schools/", views.registry, name="registry"),
    path("county/<str:code>/schools/<str:school_id>/close/", views.close, name="close"),
]
