from django.urls import path

from django_mcp.transport import mcp_endpoint

app_name = "django_mcp"

# `include()`d at "mcp/"; `django_mcp.routing` makes "mcp" (no slash) answer too.
urlpatterns = [path("", mcp_endpoint, name="mcp")]
