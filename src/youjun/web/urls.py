"""URL configuration. Every view below is scoped by the user's jurisdiction (see accounts.scoping)."""

from django.urls import include, path

from youjun.web import views
from youjun.web.api import views as api_views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/tokens/", api_views.tokens, name="tokens"),
    path("accounts/", include("youjun.web.accounts.urls")),
    path("collection/", include("youjun.web.collection.urls")),
    path("evaluation/", include("youjun.web.evaluation.urls")),
    path("api/", include("youjun.web.api.urls")),
    path("registry/", include("youjun.web.collection.registry_urls")),
    path("rulesets/", include("youjun.web.rulesets.urls")),
    path("assessment/", include("youjun.web.evaluation.assessment_urls")),
    path("survey/", include("youjun.web.survey.urls")),
    path("programme/", include("youjun.web.programme.urls")),
    path("operations/", include("youjun.web.operations.urls")),
    path("todo/", include("youjun.web.todo.urls")),
    path("downloads/", include("youjun.web.downloads.urls")),
    path("monitoring/", include("youjun.web.monitoring.urls")),
    path("planning/", include("youjun.web.planning.urls")),
    path("recognition/", include("youjun.web.recognition.urls")),
]
