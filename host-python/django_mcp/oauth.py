"""OAuth resource-server mode: bearer tokens of an authorization server (django-oauth-toolkit,
an identity provider) accepted through the project's resolver, and the RFC 9728 metadata that
tells a client which authorization server to get them from.

With `DJANGO_MCP_OAUTH["server"] = "django-oauth-toolkit"` the site is that authorization
server itself (`oauth_server`), and its tokens are resolved without a resolver (`oauth_tokens`).
"""

from urllib.parse import urlsplit, urlunsplit

from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_safe

from django_mcp import conf

WELL_KNOWN = "/.well-known/oauth-protected-resource"
SERVER = "django-oauth-toolkit"

#: The scopes of the site's own authorization server: `mcp:read` reaches the read-only items
#: (the engine's read-only narrowing), `mcp:write` everything the user may do.
READ, WRITE = "mcp:read", "mcp:write"
SCOPES = {
    READ: "Read: read-only tools, resources and prompts",
    WRITE: "Write: everything your account may do, changes included",
}


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


def server_mode():
    """Whether the site is its own authorization server (django-oauth-toolkit, turnkey)."""
    config = conf.get("DJANGO_MCP_OAUTH")
    return isinstance(config, dict) and config.get("server") == SERVER


def resource(request):
    """This MCP server's resource identifier: the configured one, or the endpoint's absolute URL
    without its trailing slash (the form MCP clients use as the token audience)."""
    return resource_at(request.scheme, request.get_host())


def resource_at(scheme, host):
    """`resource` for a request to `scheme://host`."""
    return configured_resource() or f"{scheme}://{host}{reverse('django_mcp:mcp')}".rstrip("/")


def configured_resource():
    config = conf.get("DJANGO_MCP_OAUTH")
    return config.get("resource") if isinstance(config, dict) else None


def authorization_servers(request):
    """The configured issuers; in server mode, by default, this site (its RFC 8414 metadata is
    at the origin's root: `oauth_urls`)."""
    config = conf.get("DJANGO_MCP_OAUTH")
    if config.get("authorization_servers") or not server_mode():
        return list(config["authorization_servers"])
    return [request.build_absolute_uri("/").rstrip("/")]


def scopes_supported():
    config = conf.get("DJANGO_MCP_OAUTH")
    if "scopes_supported" in config or not server_mode():
        return list(config.get("scopes_supported") or ())
    return [READ, WRITE]


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
    if scopes_supported():
        parameters.append(f'scope="{" ".join(scopes_supported())}"')
    return parameters


def step_up(identity, done, scheme, host):
    """The `WWW-Authenticate` of a 403 when the engine refused a write to a caller whose OAuth
    token holds `mcp:read` only (RFC 6750 insufficient_scope: the client may ask for
    `mcp:write` and retry); None for every other answer. The one place this rule lives. The
    engine's `done` says `needs_write` when the credential's read-only switch refused it (not
    the endpoint's, which no other token would change)."""
    if identity.grant is None or not identity.grant.read_only or not done.get("needs_write"):
        return None
    return insufficient_scope_challenge(WRITE, resource_at(scheme, host))


def insufficient_scope_challenge(scope, resource_id):
    return (
        f'Bearer realm="django-mcp", error="insufficient_scope", scope="{scope}", '
        f'resource_metadata="{metadata_url(resource_id)}"'
    )


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
        "authorization_servers": authorization_servers(request),
        "bearer_methods_supported": ["header"],
    }
    if scopes_supported():
        document["scopes_supported"] = scopes_supported()
    response = JsonResponse(document)
    # Browser-based clients (MCP Inspector) read it from another origin; it is public.
    response["Access-Control-Allow-Origin"] = "*"
    return response
