"""MCPAPIKey and authenticate_credential: credential shapes, states, legacy hashes."""

import re
import threading
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.utils import timezone

from django_mcp.keys import KeyStatus, authenticate_credential, find_key
from django_mcp.models import MCPAPIKey, generate_key_id, hash_secret

pytestmark = pytest.mark.django_db

URLSAFE = re.compile(r"[A-Za-z0-9_-]+")


@pytest.fixture
def user():
    return User.objects.create_user("alice")


@pytest.fixture
def issued(user):
    """A fresh key and its secret."""
    return MCPAPIKey.objects.create_key(user, name="laptop")


def bearer(key, secret):
    return f"Bearer {key.credential(secret)}"


# Creating keys


def test_create_key_returns_key_and_secret_of_the_wire_shapes(user, issued):
    key, secret = issued
    assert len(key.key_id) == 24 and URLSAFE.fullmatch(key.key_id)
    assert len(secret) == 32 and URLSAFE.fullmatch(secret)
    credential = key.credential(secret)
    assert credential == f"{key.key_id}.{secret}"
    assert len(credential) == 57

    stored = MCPAPIKey.objects.get(pk=key.pk)
    assert stored.user == user
    assert stored.name == "laptop"
    assert stored.allowed_tools == []
    assert stored.expires_at is None and stored.revoked_at is None and stored.last_used_at is None
    assert stored.status_label() == "active"
    assert stored.is_active()


def test_the_secret_is_stored_only_as_a_sha256_digest(issued):
    key, secret = issued
    stored = MCPAPIKey.objects.get(pk=key.pk)
    assert stored.secret_hash == hash_secret(secret)
    assert re.fullmatch(r"sha256\$[0-9a-f]{64}", stored.secret_hash)
    assert secret not in stored.secret_hash


def test_create_key_keeps_allowlist_and_expiry(user):
    expires = timezone.now() + timedelta(days=3)
    key, _ = MCPAPIKey.objects.create_key(user, name="ci", allowed_tools=("tool_a", "tool_b"), expires_at=expires)
    key.refresh_from_db()
    assert key.allowed_tools == ["tool_a", "tool_b"]
    assert key.expires_at == expires


def test_create_key_refuses_a_string_as_allowlist(user):
    with pytest.raises(TypeError):
        MCPAPIKey.objects.create_key(user, name="x", allowed_tools="tool_a")


def test_each_key_gets_its_own_id_and_secret(user):
    pairs = [MCPAPIKey.objects.create_key(user, name=str(n)) for n in range(20)]
    assert len({key.key_id for key, _ in pairs}) == 20
    assert len({secret for _, secret in pairs}) == 20


def test_key_ids_never_start_with_a_dash(user):
    # The original drew ids from token_urlsafe, so 1 in 64 started with "-" and broke mcp_key.
    ids = [generate_key_id() for _ in range(20_000)]
    assert not [key_id for key_id in ids if key_id.startswith("-")]
    # ...while "-" is still part of the alphabet after the first character.
    assert any("-" in key_id for key_id in ids)
    assert all(len(key_id) == 24 and URLSAFE.fullmatch(key_id) for key_id in ids)

    created = [MCPAPIKey.objects.create_key(user, name=str(n))[0] for n in range(500)]
    assert not [key.key_id for key in created if key.key_id.startswith("-")]


# Verifying secrets


def test_verify_secret(issued):
    key, secret = issued
    assert key.verify_secret(secret)
    assert not key.verify_secret(secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    assert not key.verify_secret("")
    assert not key.verify_secret(None)


def test_rotate_replaces_the_secret_and_keeps_a_revocation(issued):
    key, old = issued
    key.revoke()
    new = key.rotate()
    assert new != old and len(new) == 32
    key.refresh_from_db()
    assert key.verify_secret(new)
    assert not key.verify_secret(old)
    assert key.status_label() == "revoked"


def test_revoking_twice_keeps_the_first_revocation_time(issued):
    key, _ = issued
    key.revoke()
    first = MCPAPIKey.objects.get(pk=key.pk).revoked_at
    assert first is not None
    key.revoke()
    assert MCPAPIKey.objects.get(pk=key.pk).revoked_at == first


def test_status_label_and_is_active(user, issued):
    key, _ = issued
    key.expires_at = timezone.now() - timedelta(seconds=1)
    assert key.status_label() == "expired" and not key.is_active()
    key.expires_at = timezone.now() + timedelta(days=1)
    assert key.status_label() == "active" and key.is_active()
    user.is_active = False
    assert key.status_label() == "active" and not key.is_active()
    user.is_active = True
    key.revoke()
    assert key.status_label() == "revoked" and not key.is_active()


# authenticate_credential


@pytest.mark.parametrize(
    "template",
    ["Bearer {}", "bearer {}", "BEARER {}", "  Bearer   {}  ", "{}"],
    ids=["Bearer", "lowercase", "uppercase", "extra-spaces", "bare-credential"],
)
def test_a_valid_credential_authenticates_in_one_query(user, issued, template, django_assert_num_queries):
    key, secret = issued
    with django_assert_num_queries(1):
        check = authenticate_credential(template.format(key.credential(secret)))
        assert check.user == user  # the user came with the key (select_related)
    assert check.status is KeyStatus.OK and check.ok
    assert check.key == key and check.key_id == key.key_id
    assert check.http_status is None


def test_the_key_is_found_as_the_orm_finds_it(user, django_assert_num_queries):
    """find_key runs the key query compiled once; what it gives must be what the ORM gives:
    every field converted from the database (aware datetimes, the decoded allowlist) and the
    user loaded with the key."""
    key, _ = MCPAPIKey.objects.create_key(
        user, name="ci", allowed_tools=["get_library_book"], expires_at=timezone.now() + timedelta(days=3)
    )
    key.touch_last_used()
    key.revoke()
    expected = MCPAPIKey.objects.select_related("user").get(key_id=key.key_id)
    for _ in range(2):  # the second lookup reuses the compiled query
        with django_assert_num_queries(1):
            found = find_key(key.key_id)
            assert found.user.username == "alice"
        assert found._state.db == expected._state.db and not found._state.adding
        for field in MCPAPIKey._meta.concrete_fields:
            assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
        assert found.allowed_tools == ["get_library_book"]
        assert found.expires_at.tzinfo is not None and found.revoked_at is not None
        for field in User._meta.concrete_fields:
            assert getattr(found.user, field.attname) == getattr(expected.user, field.attname), field.name
    assert find_key("Z" * 24) is None
    assert find_key(key.key_id[:-1] + "%") is None  # a parameter, never a pattern


@pytest.mark.django_db(transaction=True)
def test_the_key_query_is_compiled_once_for_every_thread(user):
    """Under ASGI each request runs on a thread of its own, with a connection of its own: the
    compiled query must serve them all, not be compiled again for each, and keep none of
    their connections (a persistent one would stay open after its thread ended)."""
    from django.db import connection

    from django_mcp import keys

    key, _ = MCPAPIKey.objects.create_key(user, name="threads")
    assert find_key(key.key_id) == key
    compiled = dict(keys._lookups)
    found = []

    def in_a_thread():
        try:
            found.append(find_key(key.key_id))
        finally:
            connection.close()

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join()
    assert found == [key] and found[0].user == user
    assert keys._lookups == compiled
    # It keeps no thread's connection alive, and holds no database connection itself.
    [lookup] = compiled.values()
    compiler_connection = lookup.compiler.connection
    assert compiler_connection is not connection and compiler_connection.connection is None


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_credential(value, django_assert_num_queries):
    with django_assert_num_queries(0):
        check = authenticate_credential(value)
    assert check.status is KeyStatus.MISSING
    assert not check.ok and check.user is None
    assert check.http_status == 401


@pytest.mark.parametrize(
    "value",
    [
        "Bearer",
        "Basic {credential}",
        "Bearer {credential} extra",
        "Bearer {key_id}{secret}",  # no separator
        "Bearer {key_id}.",  # empty secret
        "Bearer .{secret}",  # empty key id
        "Bearer {key_id}x.{secret}",  # 25-character key id
        "Bearer {short_id}.{secret}",  # 23-character key id
        "Bearer {key_id}.{secret}=",  # character outside the urlsafe alphabet
        "Bearer {key_id}.{secret}.{secret}",
    ],
)
def test_malformed_credential_costs_no_query(issued, value, django_assert_num_queries):
    key, secret = issued
    header = value.format(
        credential=key.credential(secret),
        key_id=key.key_id,
        short_id=key.key_id[:-1],
        secret=secret,
    )
    with django_assert_num_queries(0):
        check = authenticate_credential(header)
    assert check.status is KeyStatus.MALFORMED
    assert check.user is None and check.http_status == 401


def test_unknown_key_id(issued):
    _, secret = issued
    unknown = "Z" * 24
    check = authenticate_credential(f"Bearer {unknown}.{secret}")
    assert check.status is KeyStatus.UNKNOWN
    assert check.key_id == unknown and check.key is None
    assert check.user is None and check.http_status == 401


def test_wrong_secret(issued):
    key, secret = issued
    check = authenticate_credential(bearer(key, secret[::-1]))
    assert check.status is KeyStatus.WRONG_SECRET
    assert check.key == key and check.user is None
    assert check.http_status == 401


def test_revoked_key(issued):
    key, secret = issued
    key.revoke()
    check = authenticate_credential(bearer(key, secret))
    assert check.status is KeyStatus.REVOKED
    assert check.user is None and check.http_status == 401


def test_state_is_only_revealed_to_holders_of_the_secret(issued):
    key, secret = issued
    key.revoke()
    assert authenticate_credential(bearer(key, secret[::-1])).status is KeyStatus.WRONG_SECRET


def test_expired_key(user):
    key, secret = MCPAPIKey.objects.create_key(user, name="old", expires_at=timezone.now() - timedelta(minutes=1))
    check = authenticate_credential(bearer(key, secret))
    assert check.status is KeyStatus.EXPIRED
    assert check.user is None and check.http_status == 401

    key.expires_at = timezone.now() + timedelta(minutes=1)
    key.save()
    assert authenticate_credential(bearer(key, secret)).ok


def test_inactive_user_is_forbidden_not_unauthenticated(user, issued):
    key, secret = issued
    user.is_active = False
    user.save()
    check = authenticate_credential(bearer(key, secret))
    assert check.status is KeyStatus.INACTIVE_USER
    assert check.user is None and check.http_status == 403


def test_revocation_wins_over_an_inactive_user(user, issued):
    key, secret = issued
    key.revoke()
    user.is_active = False
    user.save()
    assert authenticate_credential(bearer(key, secret)).status is KeyStatus.REVOKED


# Keys created by the original package


@pytest.fixture
def legacy_key(user):
    """A key as the original stored it: `make_password` hash, id possibly starting with "-"."""
    secret = "legacy-secret-0123456789abcdefgh"
    key = MCPAPIKey.objects.create(
        key_id="-legacyKeyId0123456789ab",
        secret_hash=make_password(secret, hasher="pbkdf2_sha256"),
        user=user,
        name="from 1.0.0",
    )
    return key, secret


def test_legacy_hash_verifies_and_is_upgraded_on_first_use(legacy_key, django_assert_num_queries):
    key, secret = legacy_key
    assert key.secret_hash.startswith("pbkdf2_sha256$")

    check = authenticate_credential(bearer(key, secret))
    assert check.ok
    key.refresh_from_db()
    assert key.secret_hash == hash_secret(secret)

    # Upgraded: the next check is a single query and no password hashing.
    with django_assert_num_queries(1):
        assert authenticate_credential(bearer(key, secret)).ok


def test_legacy_hash_is_not_upgraded_by_a_wrong_secret(legacy_key):
    key, secret = legacy_key
    original_hash = key.secret_hash
    check = authenticate_credential(bearer(key, secret[::-1]))
    assert check.status is KeyStatus.WRONG_SECRET
    key.refresh_from_db()
    assert key.secret_hash == original_hash


# last_used_at


def test_touch_last_used_writes_at_most_once_a_minute(issued, django_assert_num_queries):
    key, _ = issued
    assert key.touch_last_used() is True
    first = MCPAPIKey.objects.get(pk=key.pk).last_used_at
    assert first is not None and key.last_used_at == first

    with django_assert_num_queries(0):
        assert key.touch_last_used() is False
    assert MCPAPIKey.objects.get(pk=key.pk).last_used_at == first

    earlier = timezone.now() - timedelta(minutes=2)
    MCPAPIKey.objects.filter(pk=key.pk).update(last_used_at=earlier)
    key.last_used_at = earlier
    assert key.touch_last_used() is True
    assert MCPAPIKey.objects.get(pk=key.pk).last_used_at > earlier


def test_touch_last_used_respects_a_recent_write_by_another_worker(issued):
    key, _ = issued
    other_worker_copy = MCPAPIKey.objects.get(pk=key.pk)  # loaded before any use
    assert key.touch_last_used() is True
    written = MCPAPIKey.objects.get(pk=key.pk).last_used_at

    assert other_worker_copy.touch_last_used() is False
    assert MCPAPIKey.objects.get(pk=key.pk).last_used_at == written
