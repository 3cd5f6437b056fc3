from demo_project.urls import urlpatterns as demo
from django.urls import include, path

urlpatterns = [
    *demo,
    path("", include("django_mcp.oauth_urls")),
    # A mount narrowed to a toolset: OAuth callers are narrowed there as keys are.
    path("mcp/authors/", include("django_mcp.urls", namespace="mcp_authors"), {"toolset": ["library.Author.*"]}),
]
