"""The site's OAuth authorization server (`DJANGO_MCP_OAUTH = {"server": "django-oauth-toolkit"}`):
include at the root of the URLconf, beside `django_mcp.well_known` —
`path("", include("django_mcp.oauth_urls"))` — since clients look for RFC 8414 metadata at
`/.well-known/oauth-authorization-server`. The endpoints are under `oauth/`; the names are
django-oauth-toolkit's (namespace `oauth2_provider`), which its views reverse.
"""

from django.urls import path
from oauth2_provider import views as toolkit

from django_mcp import oauth_server

app_name = "oauth2_provider"

urlpatterns = [
    path(
        ".well-known/oauth-authorization-server",
        toolkit.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path("oauth/authorize/", oauth_server.AuthorizationView.as_view(), name="authorize"),
    path("oauth/token/", toolkit.TokenView.as_view(), name="token"),
    path("oauth/revoke/", toolkit.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/register/", oauth_server.register, name="dcr-register"),
    path(
        "oauth/register/<str:client_id>/",
        toolkit.DynamicClientRegistrationManagementView.as_view(),
        name="dcr-register-management",
    ),
]
