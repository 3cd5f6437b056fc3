"""Handshake-era `Mcp-Session-Id`: issued by `initialize`, signed, never stored.

Handshake clients expect a session id and send it back on every request; nothing about a
session is kept anywhere, so any worker can verify any id (signed with SECRET_KEY). An id
this deployment did not sign is answered 404, which tells the client to initialize again.
"""

import functools
import secrets

from django.core import signing
from django.core.signals import setting_changed

SALT = "django_mcp.session"
HEADER = "Mcp-Session-Id"
#: The settings a signature is checked with: when one changes, what was verified is not.
SIGNING_SETTINGS = frozenset({"SECRET_KEY", "SECRET_KEY_FALLBACKS"})


def issue():
    return signing.dumps(secrets.token_hex(8), salt=SALT)


def is_valid(session_id):
    try:
        return _signed_here(session_id)
    except signing.BadSignature:
        return False


# A client sends its id with every request, and an id, once signed, stays valid for as long as
# the signing keys do: the HMAC is checked once per id and process, not per request. Only ids
# that verified are remembered (an exception is not cached), so ids nobody signed cannot
# crowd out those of real sessions; past the bound an id is simply checked again.
@functools.lru_cache(maxsize=1024)
def _signed_here(session_id):
    signing.loads(session_id, salt=SALT)
    return True


def _forget_verified(setting, **kwargs):
    if setting in SIGNING_SETTINGS:
        _signed_here.cache_clear()


setting_changed.connect(_forget_verified, dispatch_uid="django_mcp.sessions")
