from django.urls import path

from youjun.web import converters
from youjun.web.collection import registry_views as views

app_name = "organisation"
converters.register()

urlpatterns = [
    path("county/<str:code>/schools/", views.registry, name="registry"),
    path("county/<str:code>/schools/<id:pk>/close/", views.close, name="close"),
]
