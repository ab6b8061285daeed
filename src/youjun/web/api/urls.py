"""The JSON API under /api/ (django-ninja; see ``api.api``). Names: ``api:openapi-json``, ``api:api-root``, …"""

from youjun.web.api.api import api

app_name = "api"
urlpatterns = api.urls[0]
