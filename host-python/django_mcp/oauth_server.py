"""The site as its own OAuth 2.1 authorization server, on django-oauth-toolkit (turnkey mode:
`DJANGO_MCP_OAUTH = {"server": "django-oauth-toolkit"}`). Imported only in that mode.

The toolkit does the protocol; this module sets it up for MCP clients (hosted connectors,
the SDKs' OAuth providers) and adds the rules MCP asks of it:

- `provider_settings`: the toolkit's settings — authorization code with PKCE S256 only,
  refresh tokens that rotate (a reused one revokes its family), tokens stored as checksums,
  the `mcp:read` / `mcp:write` scopes, client registration as configured — under the
  project's own `OAUTH2_PROVIDER`, which may change what is not a rule (`RULES`).
- `Validator`: redirect URIs https or loopback only.
- `AuthorizationView`: the consent page, `django_mcp/oauth_authorize.html`, after the site's
  login (`LOGIN_URL`); every grant bound (RFC 8707) to the MCP endpoint when the client names
  no resource.
- `register`: RFC 7591 dynamic client registration (the toolkit's), limited per address.
- Client ID Metadata Documents: `oauth_cimd`.
"""

import json
from urllib.parse import urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from oauthlib.oauth2.rfc6749.errors import InvalidRequestError
from oauth2_provider import views as toolkit
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings

from django_mcp import conf, oauth, rate_limits

#: What the toolkit's settings must stay for MCP: a project's OAUTH2_PROVIDER that changes one
#: is a system check error (django_mcp.E025).
RULES = {
    "PKCE_REQUIRED": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,  # "plain" refused
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "OAUTH2_VALIDATOR_CLASS": "django_mcp.oauth_server.Validator",
}

#: Client registrations (RFC 7591 requests, first fetches of metadata documents) per address.
REGISTRATION_RATE = "20/h"


def config():
    return conf.get("DJANGO_MCP_OAUTH") or {}


def provider_settings():
    """The toolkit's settings in turnkey mode: these, then the project's OAUTH2_PROVIDER."""
    mode = config()
    defaults = {
        **RULES,
        "SCOPES": dict(oauth.SCOPES),
        "DEFAULT_SCOPES": [oauth.READ, oauth.WRITE],
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],  # http: loopback only (Validator)
        "ALLOW_LOCALHOST_LOOPBACK": True,  # http://localhost on any port, as for 127.0.0.1
        "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # only checksums at rest
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,  # RFC 9207 mix-up defence
        "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
        "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["none", "client_secret_basic", "client_secret_post"],
        "DCR_ENABLED": mode.get("dynamic_client_registration", True),
        # Open registration (hosted connectors register anonymously), limited by `register`.
        "DCR_REGISTRATION_PERMISSION_CLASSES": ("oauth2_provider.dcr.AllowAllDCRPermission",),
        "CIMD_ENABLED": mode.get("client_id_metadata_documents", True),
        "CIMD_METADATA_FETCHER": "django_mcp.oauth_cimd.MetadataFetcher",
        "CIMD_REGISTRATION_PERMISSION_CLASSES": ("django_mcp.oauth_cimd.RateLimited",),
    }
    return {**defaults, **(getattr(settings, "OAUTH2_PROVIDER", None) or {})}


def install():
    """Give the toolkit its turnkey settings (at start-up, and again when a setting changes)."""
    oauth2_settings.reload()
    # What the toolkit reads its settings from (OAUTH2_PROVIDER, read again on `reload`).
    oauth2_settings._user_settings = provider_settings()


@receiver(setting_changed)
def _settings_changed(setting, **kwargs):
    # After the toolkit's own receiver (connected when it was imported, before this module).
    if setting in ("OAUTH2_PROVIDER", "DJANGO_MCP_OAUTH"):
        install() if oauth.server_mode() else oauth2_settings.reload()


def redirect_uri_acceptable(uri):
    """https anywhere, http only to this machine (RFC 8252 loopback redirects)."""
    if not isinstance(uri, str):
        return False
    parts = urlsplit(uri)
    if parts.scheme == "https":
        return bool(parts.hostname)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "::1", "localhost")


def registration_limited(address):
    """Seconds until `address` may register another client; None when it may now."""
    rate = config().get("registration_rate", REGISTRATION_RATE)
    return rate_limits.for_registration(address, rate) if rate and address else None


class Validator(OAuth2Validator):
    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return redirect_uri_acceptable(redirect_uri) and super().validate_redirect_uri(
            client_id, redirect_uri, request, *args, **kwargs
        )


class AuthorizationView(toolkit.AuthorizationView):
    """The toolkit's authorization endpoint with this package's consent page: the client, the
    host it sends the user back to, the scopes it asks for; approve or deny (a CSRF-protected
    form). Override the template in the project to restyle it."""

    template_name = "django_mcp/oauth_authorize.html"

    def get(self, request, *args, **kwargs):
        if "resource" not in request.GET:
            # A client that names no resource (RFC 8707 is optional in OAuth) is asking for the
            # MCP endpoint, the one resource this server issues tokens for: its grant, token and
            # refreshes are bound to it, as a client's that named it.
            request.GET = request.GET.copy()
            request.GET["resource"] = oauth.resource(request)
        return super().get(request, *args, **kwargs)

    def validate_authorization_request(self, request):
        scopes, credentials = super().validate_authorization_request(request)
        # The toolkit refuses "plain" only once the user has approved; refused here, before the
        # consent page, the client learns it at once.
        if credentials.get("code_challenge_method") != "S256":
            raise OAuthToolkitError(
                InvalidRequestError(description='code_challenge_method must be "S256"', state=credentials.get("state")),
                redirect_uri=credentials["redirect_uri"],
            )
        return scopes, credentials

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = context.get("application")
        if application is not None:
            context["client_name"] = application.name or application.client_id
            context["redirect_host"] = urlsplit(context.get("redirect_uri") or "").netloc
            context["scope_items"] = [(name, oauth2_settings.SCOPES.get(name, name)) for name in context["scopes"]]
        return context


_register = toolkit.DynamicClientRegistrationView.as_view()


@csrf_exempt
def register(request):
    """RFC 7591 registration: the toolkit's, after this server's limit per client address and
    its rules for what an MCP client may register (redirect URIs, the code grant)."""
    if request.method == "POST" and oauth2_settings.DCR_ENABLED:
        retry_after = registration_limited(request.META.get("REMOTE_ADDR"))
        if retry_after is not None:
            response = _registration_error(
                429, "temporarily_unavailable", f"Too many client registrations: retry after {retry_after} s"
            )
            response["Retry-After"] = str(retry_after)
            return response
        problem = _registration_problem(request.body)
        if problem is not None:
            return _registration_error(400, *problem)
    return _register(request)


def _registration_problem(body):
    """(error, description) when the metadata asks for what this server does not issue; None
    otherwise (and for a body that is no JSON object: the toolkit says so)."""
    try:
        metadata = json.loads(body)
    except ValueError:
        return None
    if not isinstance(metadata, dict):
        return None
    uris = metadata.get("redirect_uris")
    if isinstance(uris, list) and not all(redirect_uri_acceptable(uri) for uri in uris):
        return "invalid_redirect_uri", "redirect_uris must be https, or http to 127.0.0.1, [::1] or localhost"
    grants = metadata.get("grant_types", ["authorization_code"])
    if isinstance(grants, list) and not set(grants) <= {"authorization_code", "refresh_token"}:
        return "invalid_client_metadata", "grant_types may be authorization_code and refresh_token only"
    return None


def _registration_error(status, error, description):
    return JsonResponse({"error": error, "error_description": description}, status=status)
