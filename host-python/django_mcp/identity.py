"""Who a request acts for: a Django user, through an MCP key, through an access token of the
site's own authorization server (`oauth_tokens`), or through a bearer token the project's
`DJANGO_MCP_BEARER_RESOLVER` accepted (OAuth resource-server mode, no key)."""

from dataclasses import dataclass, replace

from django_mcp import oauth
from django_mcp.keys import KeyStatus, authenticate_credential
from django_mcp.models import MCPAPIKey


@dataclass(frozen=True)
class Identity:
    user: object
    key: MCPAPIKey | None = None
    #: The endpoint's `{"toolset", "read_only"}` when it was mounted with them (urls.py).
    endpoint: dict | None = None
    #: The OAuth client and scopes, for an access token of the site's authorization server.
    grant: object = None

    @classmethod
    def of_key(cls, key):
        return cls(key.user, key)

    @property
    def key_id(self):
        return self.key.key_id if self.key is not None else None

    @property
    def client(self):
        """The key's name, which the admin's history shows; None for a resolved token."""
        return self.key.name if self.key is not None else None

    @property
    def oauth_client(self):
        """The OAuth client's id, for the audit line; None for a key or a resolved token."""
        return self.grant.client_id if self.grant is not None else None

    @property
    def subject(self):
        """What rate limits count against: the key, the OAuth client for its user, or the user."""
        if self.key is not None:
            return f"key:{self.key.key_id}"
        if self.grant is not None:
            return f"oauth:{self.grant.application_id}:user:{self.user.pk}"
        return f"user:{self.user.pk}"

    def at_endpoint(self, endpoint):
        """This identity on an endpoint that narrows what it serves (None: it does not)."""
        if endpoint == self.endpoint:  # frozen: the same identity serves
            return self
        return replace(self, endpoint=endpoint)

    def principal(self):
        """The principal the engine judges by: the key's allowlist (empty: every item) and
        read-only switch, and the endpoint's, which narrow as an intersection. The switches
        are sent only when set, so an unnarrowed principal keeps the shape it always had."""
        allowed = list(self.key.allowed_tools or []) if self.key is not None else []
        principal = {"user_id": self.user.pk, "key_id": self.key_id, "allowed_tools": allowed}
        if (self.key is not None and self.key.read_only) or (self.grant is not None and self.grant.read_only):
            principal["read_only"] = True
        if self.endpoint is not None:
            principal["endpoint"] = self.endpoint
        return principal


def authenticate(header, request, host=None):
    """(status, identity) for an Authorization header: an MCP key credential, or else a bearer
    token the configured resolver maps to a user. Identity is None unless the status is ok.
    `host`: the request's host (`request.get_host()`) when the caller has it already."""
    check = authenticate_credential(header)
    if check.status is KeyStatus.MALFORMED:
        token = oauth.bearer_token(header)
        if token is not None and oauth.server_mode():
            from django_mcp import oauth_tokens  # imports django-oauth-toolkit: server mode only

            return oauth_tokens.authenticate(token, request, host or request.get_host())
        resolve = oauth.resolver()
        if token is not None and resolve is not None:
            return _resolved(resolve(token, request))
    if check.ok:
        return check.status, Identity.of_key(check.key)
    return check.status, None


def _resolved(user):
    if user is None:
        return KeyStatus.UNKNOWN, None
    if not user.is_active:
        return KeyStatus.INACTIVE_USER, None
    return KeyStatus.OK, Identity(user)
