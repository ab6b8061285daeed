from django.urls import path

from youjun.web.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password/", views.password_change, name="password_change"),
    path("users/", views.users, name="users"),
    path("users/<int:pk>/reset/", views.user_reset, name="user_reset"),
    path("tokens/", views.tokens, name="tokens"),
]
