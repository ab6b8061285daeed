from django.urls import path

from youjun.web.planning import views

app_name = "planning"
urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("<int:pk>/", views.scenario, name="scenario"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/plan/", views.plan, name="plan"),
    path("<int:pk>/apply/", views.apply, name="apply"),
    path("<int:pk>/manage/", views.manage, name="manage"),
    path("<int:pk>/plan.xlsx", views.plan_xlsx, name="plan_xlsx"),
    path("compare/<str:code>/", views.compare, name="compare"),
]
