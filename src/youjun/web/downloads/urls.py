from django.urls import path

from youjun.web.downloads import views

app_name = "downloads"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("<int:pk>/", views.file, name="file"),
    path("<int:pk>/download/", views.download, name="download"),
]
