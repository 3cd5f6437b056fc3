from django.urls import path

from django_mcp.transport import mcp_endpoint

app_name = "django_mcp"

# `include()`d at "mcp/"; `django_mcp.routing` makes "mcp" (no slash) answer too. An
# include's extra kwargs narrow that mount: `path("mcp/support/", include("django_mcp.urls",
# namespace="mcp_support"), {"toolset": ["library.*"], "read_only": True})`.
urlpatterns = [path("", mcp_endpoint, name="mcp")]
