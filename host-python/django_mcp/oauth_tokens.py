"""Access tokens of the site's own authorization server (django-oauth-toolkit), resolved to
the user they act for without a project-written resolver.

A token is found by its SHA-256 checksum (`AccessToken.token_checksum`, what the toolkit
stores and looks up; the token itself may be stored blank, RFC 9700) with its user and
client, in one query compiled once like the key lookup's. It is refused when it is unknown
(never issued, or revoked: revoking deletes it), expired, issued to no user (a registration
access token), bound to another resource (RFC 8707), or carries no MCP scope.
"""

import hashlib
from dataclasses import dataclass

from oauth2_provider.models import get_access_token_model

from django_mcp import oauth
from django_mcp.keys import KeyStatus, compiled_lookup

#: Statuses beside the key ones (KeyStatus), as the HTTP transport answers them.
WRONG_AUDIENCE = "wrong_audience"  # 401 invalid_token
NO_MCP_SCOPE = "insufficient_scope"  # 403 insufficient_scope


@dataclass(frozen=True)
class Grant:
    """What an OAuth caller was granted: by which client, with which MCP scopes."""

    application_id: int
    client_id: str
    client_name: str
    scopes: frozenset

    @property
    def read_only(self):
        return oauth.WRITE not in self.scopes


def find_token(token):
    """The AccessToken whose checksum is that of `token`, with its user and application; None."""
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    return compiled_lookup(get_access_token_model(), "token_checksum", ("user", "application")).find(checksum)


def authenticate(token, request):
    """(status, identity) for a bearer token presented at the MCP endpoint of `request`."""
    from django_mcp.identity import Identity

    access = find_token(token)
    if access is None or access.user is None or access.application is None:
        return KeyStatus.UNKNOWN, None
    if access.is_expired():
        return KeyStatus.EXPIRED, None
    if not bound_to(access, oauth.resource(request)):
        return WRONG_AUDIENCE, None
    if not access.user.is_active:
        return KeyStatus.INACTIVE_USER, None
    scopes = frozenset(access.scope.split()) & {oauth.READ, oauth.WRITE}
    if not scopes:
        return NO_MCP_SCOPE, None
    application = access.application
    grant = Grant(application.pk, application.client_id, application.name or application.client_id, scopes)
    return KeyStatus.OK, Identity(access.user, grant=grant)


def bound_to(access, resource_id):
    """RFC 8707: the token names this resource among its audiences. A token that names none was
    not issued for MCP (the authorization server binds every grant to the endpoint: oauth_server)."""
    return any(audience.rstrip("/") == resource_id for audience in access.resource or ())
