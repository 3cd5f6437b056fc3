"""Handshake-era `Mcp-Session-Id`: issued by `initialize`, signed, never stored.

Handshake clients expect a session id and send it back on every request; nothing about a
session is kept anywhere, so any worker can verify any id (signed with SECRET_KEY). An id
this deployment did not sign is answered 404, which tells the client to initialize again.
"""

import secrets

from django.core import signing

SALT = "django_mcp.session"
HEADER = "Mcp-Session-Id"


def issue():
    return signing.dumps(secrets.token_hex(8), salt=SALT)


def is_valid(session_id):
    try:
        signing.loads(session_id, salt=SALT)
    except signing.BadSignature:
        return False
    return True
