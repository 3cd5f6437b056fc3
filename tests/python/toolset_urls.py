"""The demo's URLs and a narrowed mount beside `/mcp/`: `/mcp/support/` serves the library's
read-only items, whatever a key allows."""

from django.urls import include, path

from demo_project.urls import urlpatterns as demo_urlpatterns

urlpatterns = [
    *demo_urlpatterns,
    path(
        "mcp/support/",
        include("django_mcp.urls", namespace="mcp_support"),
        {"toolset": ["library.*"], "read_only": True},
    ),
]
