"""OAuth resource-server mode: bearer tokens of an authorization server (django-oauth-toolkit,
an identity provider) accepted through the project's resolver, and the RFC 9728 metadata that
tells a client which authorization server to get them from."""

from urllib.parse import urlsplit, urlunsplit

from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_safe

from django_mcp import conf

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def bearer_token(header):
    """The token of `Bearer <token>`; None for another scheme or shape."""
    parts = (header or "").split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1]
    return None


def resolver():
    """`resolve(token, request) -> user | None` from DJANGO_MCP_BEARER_RESOLVER, or None."""
    path = conf.get("DJANGO_MCP_BEARER_RESOLVER")
    return import_string(path) if path else None


def resource(request):
    """This MCP server's resource identifier: the configured one, or the endpoint's absolute URL
    without its trailing slash (the form MCP clients use as the token audience)."""
    configured = (conf.get("DJANGO_MCP_OAUTH") or {}).get("resource")
    return configured or request.build_absolute_uri(reverse("django_mcp:mcp")).rstrip("/")


def metadata_url(resource_id):
    """Where RFC 9728 (section 3.1) puts the metadata of `resource_id`: the well-known path at
    the origin's root, followed by the resource's own path."""
    parts = urlsplit(resource_id)
    return urlunsplit((parts.scheme, parts.netloc, WELL_KNOWN + parts.path.rstrip("/"), "", ""))


def challenge_parameters(request):
    """What a 401's `WWW-Authenticate` adds so a client can discover how to authorize."""
    config = conf.get("DJANGO_MCP_OAUTH")
    if not config:
        return []
    parameters = [f'resource_metadata="{metadata_url(resource(request))}"']
    if config.get("scopes_supported"):
        parameters.append(f'scope="{" ".join(config["scopes_supported"])}"')
    return parameters


@require_safe
def protected_resource_metadata(request, resource_path=""):
    config = conf.get("DJANGO_MCP_OAUTH")
    if not config:
        raise Http404("OAuth resource-server mode is not configured")
    resource_id = resource(request)
    if resource_path and resource_path.strip("/") != urlsplit(resource_id).path.strip("/"):
        raise Http404("no such protected resource")
    document = {
        "resource": resource_id,
        "authorization_servers": list(config["authorization_servers"]),
        "bearer_methods_supported": ["header"],
    }
    if config.get("scopes_supported"):
        document["scopes_supported"] = list(config["scopes_supported"])
    response = JsonResponse(document)
    # Browser-based clients (MCP Inspector) read it from another origin; it is public.
    response["Access-Control-Allow-Origin"] = "*"
    return response
