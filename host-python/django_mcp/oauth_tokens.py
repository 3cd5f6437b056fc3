"""Access tokens of the site's own authorization server (django-oauth-toolkit), resolved to
the user they act for without a project-written resolver.

A token is found by its SHA-256 checksum (`AccessToken.token_checksum`, what the toolkit
stores and looks up; the token itself may be stored blank, RFC 9700) with its user and its
client's id, in one query compiled once like the key lookup's. It is refused when it is unknown
(never issued, or revoked: revoking deletes it), expired, issued to no user (a registration
access token), bound to another resource (RFC 8707), or carries no MCP scope.
"""

import hashlib
from dataclasses import dataclass

from oauth2_provider.models import get_access_token_model

from django_mcp import oauth
from django_mcp.identity import Identity
from django_mcp.keys import KeyStatus, compiled_lookup

AccessToken = get_access_token_model()

#: Statuses beside the key ones (KeyStatus), as the HTTP transport answers them.
WRONG_AUDIENCE = "wrong_audience"  # 401 invalid_token
NO_MCP_SCOPE = "insufficient_scope"  # 403 insufficient_scope


@dataclass(frozen=True)
class Grant:
    """What an OAuth caller was granted: by which client, with which MCP scopes."""

    application_id: int
    client_id: str
    scopes: frozenset

    @property
    def read_only(self):
        return oauth.WRITE not in self.scopes


def find_token(token):
    """The AccessToken whose checksum is that of `token`, with its user and its client's id
    (`oauth_client_id`); None."""
    checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
    return compiled_lookup(AccessToken, "token_checksum", ("user",), _READ, _CLIENT).find(checksum)


#: What resolving reads of a token (of its user, everything: it acts as them), and of its
#: client the id only, without building the client's instance.
_READ = ("expires", "scope", "resource", "user", "application")
_CLIENT = (("oauth_client_id", "application__client_id"),)


def authenticate(token, request, host):
    """(status, identity) for a bearer token presented at the MCP endpoint of `request`, whose
    host (validated, `request.get_host()`) is `host`."""
    access = find_token(token)
    if access is None or access.user is None or access.oauth_client_id is None:
        return KeyStatus.UNKNOWN, None
    if access.is_expired():
        return KeyStatus.EXPIRED, None
    if not bound_to(access, request, host):
        return WRONG_AUDIENCE, None
    if not access.user.is_active:
        return KeyStatus.INACTIVE_USER, None
    scopes = frozenset(access.scope.split()) & {oauth.READ, oauth.WRITE}
    if not scopes:
        return NO_MCP_SCOPE, None
    return KeyStatus.OK, Identity(access.user, grant=Grant(access.application_id, access.oauth_client_id, scopes))


def bound_to(access, request, host):
    """RFC 8707: the token names this endpoint among its audiences — the configured resource, or
    the endpoint's URL or one it is a path prefix of (as the toolkit's own resource validator
    reads audiences), so a token for `/mcp` serves the mounts under it. A token that names none
    was not issued for MCP (the authorization server binds every grant: oauth_server)."""
    target = oauth.configured_resource() or f"{request.scheme}://{host}{request.path}".rstrip("/")
    for audience in access.resource or ():
        audience = audience.rstrip("/")
        if target == audience or target.startswith(audience + "/"):
            return True
    return False
