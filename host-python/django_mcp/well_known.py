"""RFC 9728 Protected Resource Metadata, for OAuth resource-server mode (`DJANGO_MCP_OAUTH`).

Include at the root of the URLconf — `path("", include("django_mcp.well_known"))` — since
clients look for it at `/.well-known/oauth-protected-resource` followed by the MCP endpoint's
path (`/.well-known/oauth-protected-resource/mcp`), and some at the bare well-known path.
"""

from django.urls import path

from django_mcp.oauth import protected_resource_metadata

urlpatterns = [
    path(".well-known/oauth-protected-resource", protected_resource_metadata),
    path(".well-known/oauth-protected-resource/<path:resource_path>", protected_resource_metadata),
]
