from django.urls import path

from youjun.web import converters
from youjun.web.accounts import views

app_name = "accounts"
converters.register()

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("users/", views.users, name="users"),
    path("users/<id:pk>/reset/", views.user_reset, name="user_reset"),
]
