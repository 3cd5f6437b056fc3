from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("mcp/", include("django_mcp.urls")),
    path("library/", include("library.urls")),
    # OAuth resource-server metadata (RFC 9728); answers 404 until DJANGO_MCP_OAUTH is set.
    path("", include("django_mcp.well_known")),
]

if settings.HAS_REST_API:
    urlpatterns.append(path("api/", include("library.api_urls")))
