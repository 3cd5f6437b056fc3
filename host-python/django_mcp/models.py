"""API keys: the credential an MCP client presents as `Authorization: Bearer <key_id>.<secret>`."""

import hashlib
import hmac
import secrets
import string
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import models
from django.db.models import Q
from django.utils import timezone

KEY_ID_LENGTH = 24
SECRET_BYTES = 24  # token_urlsafe(24) -> 32 characters
CREDENTIAL_SEPARATOR = "."

# The alphabet of `secrets.token_urlsafe`, which the original package used for key ids.
URLSAFE_ALPHABET = string.ascii_letters + string.digits + "-_"
# A key id that starts with "-" reads as an option to argparse, so `mcp_key revoke <key_id>` fails.
_KEY_ID_FIRST_ALPHABET = URLSAFE_ALPHABET.replace("-", "")

# Secrets are 192 random bits, so one SHA-256 is as strong as a slow password hash and costs
# microseconds per request instead of ~0.5 s. Deliberately unkeyed: rotating SECRET_KEY must not
# invalidate every key. Django has no hasher named "sha256", so the prefix cannot be confused
# with a `make_password` hash, which is what the original package stored.
_HASH_PREFIX = "sha256$"

# `last_used_at` is informational; writing it on every request would cost a DB write each time.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def generate_key_id():
    first = secrets.choice(_KEY_ID_FIRST_ALPHABET)
    rest = "".join(secrets.choice(URLSAFE_ALPHABET) for _ in range(KEY_ID_LENGTH - 1))
    return first + rest


def generate_secret():
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret):
    return _HASH_PREFIX + hashlib.sha256(secret.encode()).hexdigest()


class MCPAPIKeyManager(models.Manager):
    def create_key(self, user, *, name, allowed_tools=None, read_only=False, expires_at=None):
        """Create a key for `user`; returns `(key, secret)`. The secret is not stored anywhere."""
        if isinstance(allowed_tools, str):
            raise TypeError("allowed_tools must be a list of names, not a string")
        secret = generate_secret()
        key = self.create(
            # 143 random bits: a collision is practically impossible, and `unique` would catch it.
            key_id=generate_key_id(),
            secret_hash=hash_secret(secret),
            user=user,
            name=name,
            allowed_tools=list(allowed_tools or []),
            read_only=read_only,
            expires_at=expires_at,
        )
        return key, secret


class MCPAPIKey(models.Model):
    key_id = models.CharField(max_length=KEY_ID_LENGTH, unique=True, db_index=True)
    secret_hash = models.CharField(max_length=128)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mcp_api_keys")
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Tool, resource-template and prompt names and toolset patterns (`library.*`, `*.read`)
    # this key may use; empty means all.
    allowed_tools = models.JSONField(default=list, blank=True)
    # Only read-only tools, resources and prompts. Nullable so that the original package,
    # which knows no such column, can still insert keys: NULL reads as False.
    read_only = models.BooleanField(default=False, null=True)

    objects = MCPAPIKeyManager()

    class Meta:
        verbose_name = "MCP API key"
        verbose_name_plural = "MCP API keys"

    def __str__(self):
        return f"{self.name} ({self.key_id})"

    def credential(self, secret):
        """The wire credential for this key and one of its secrets."""
        return f"{self.key_id}{CREDENTIAL_SEPARATOR}{secret}"

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    @property
    def is_expired(self):
        return self.expires_at is not None and self.expires_at <= timezone.now()

    def status_label(self):
        if self.is_revoked:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "active"

    def is_active(self):
        return not self.is_revoked and not self.is_expired and self.user.is_active

    def verify_secret(self, secret):
        if not isinstance(secret, str) or not secret:
            return False
        if self.secret_hash.startswith(_HASH_PREFIX):
            return hmac.compare_digest(self.secret_hash, hash_secret(secret))
        # A key created by the original package: pay for the slow hash once, then upgrade it.
        if not check_password(secret, self.secret_hash):
            return False
        self.secret_hash = hash_secret(secret)
        self.save(update_fields=["secret_hash"])
        return True

    def revoke(self):
        """Revoke the key; revoking twice keeps the first revocation time."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def rotate(self):
        """Replace the secret and return the new one. A revoked key stays revoked."""
        secret = generate_secret()
        self.secret_hash = hash_secret(secret)
        self.save(update_fields=["secret_hash"])
        return secret

    def touch_last_used(self):
        """Record a use, writing at most once per LAST_USED_RESOLUTION; True if it wrote."""
        now = timezone.now()
        stale_before = now - LAST_USED_RESOLUTION
        if self.last_used_at is not None and self.last_used_at > stale_before:
            return False
        # The condition is repeated in SQL so that concurrent workers write only once.
        written = (
            type(self)
            .objects.filter(pk=self.pk)
            .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before))
            .update(last_used_at=now)
        )
        if written:
            self.last_used_at = now
        return bool(written)
