"""Authenticate the credential of an incoming request against `MCPAPIKey`."""

import enum
import re
from dataclasses import dataclass

from .models import CREDENTIAL_SEPARATOR, KEY_ID_LENGTH, MCPAPIKey

# Both halves come from the urlsafe alphabet; the bound on the secret keeps junk off the hasher.
_CREDENTIAL = re.compile(
    rf"(?P<key_id>[A-Za-z0-9_-]{{{KEY_ID_LENGTH}}}){re.escape(CREDENTIAL_SEPARATOR)}"
    r"(?P<secret>[A-Za-z0-9_-]{1,128})"
)


class KeyStatus(enum.StrEnum):
    OK = "ok"
    MISSING = "missing"
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    WRONG_SECRET = "wrong_secret"
    REVOKED = "revoked"
    EXPIRED = "expired"
    INACTIVE_USER = "inactive_user"


@dataclass(frozen=True)
class KeyCheck:
    status: KeyStatus
    # The key id the client presented, when it could be parsed (for the audit log).
    key_id: str | None = None
    # The stored key, when one matched the key id, whatever the outcome.
    key: MCPAPIKey | None = None

    @property
    def ok(self):
        return self.status is KeyStatus.OK

    @property
    def user(self):
        """The authenticated user; None unless the check succeeded."""
        return self.key.user if self.ok else None

    @property
    def http_status(self):
        """None when authenticated; 403 for an inactive user; 401 for every invalid token."""
        if self.ok:
            return None
        # MCP authorization treats a missing, wrong, revoked or expired token alike: 401.
        return 403 if self.status is KeyStatus.INACTIVE_USER else 401


def _split_credential(value):
    """Split an Authorization header value or a bare credential into (status, key_id, secret)."""
    parts = (value or "").split()
    if not parts:
        return KeyStatus.MISSING, None, None
    if len(parts) == 2 and parts[0].lower() == "bearer":
        credential = parts[1]
    elif len(parts) == 1:
        credential = parts[0]
    else:
        return KeyStatus.MALFORMED, None, None
    match = _CREDENTIAL.fullmatch(credential)
    if match is None:
        return KeyStatus.MALFORMED, None, None
    return None, match["key_id"], match["secret"]


def authenticate_credential(value):
    """Check `Bearer <key_id>.<secret>` (or the bare credential) with one database query.

    The secret is verified before the key's state is looked at, so a caller who does not hold
    the secret learns nothing about whether a key is revoked or expired.
    """
    failure, key_id, secret = _split_credential(value)
    if failure is not None:
        return KeyCheck(failure)
    try:
        key = MCPAPIKey.objects.select_related("user").get(key_id=key_id)
    except MCPAPIKey.DoesNotExist:
        return KeyCheck(KeyStatus.UNKNOWN, key_id)
    if not key.verify_secret(secret):
        status = KeyStatus.WRONG_SECRET
    elif key.is_revoked:
        status = KeyStatus.REVOKED
    elif key.is_expired:
        status = KeyStatus.EXPIRED
    elif not key.user.is_active:
        status = KeyStatus.INACTIVE_USER
    else:
        status = KeyStatus.OK
    return KeyCheck(status, key_id, key)
