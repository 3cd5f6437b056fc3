"""`manage.py mcp_key`: the original's subcommands and output, plus --json."""

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from django_mcp.keys import KeyStatus, authenticate_credential
from django_mcp.models import MCPAPIKey

pytestmark = pytest.mark.django_db

SHOWN_ONCE = "This secret is shown ONCE. Store it now."
CREDENTIAL = re.compile(r"[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{32}")


def mcp_key(*args):
    out, err = StringIO(), StringIO()
    call_command("mcp_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def alice():
    return User.objects.create_user("alice")


@pytest.fixture
def key(alice):
    return MCPAPIKey.objects.create_key(alice, name="laptop", allowed_tools=["t1", "t2"])[0]


# create


def test_create_prints_only_the_credential_and_warns_on_stderr(alice):
    out, err = mcp_key("create", "alice", "--name", "laptop")
    credential = out.strip()
    assert out == credential + "\n"
    assert CREDENTIAL.fullmatch(credential) and len(credential) == 57
    assert err.strip() == SHOWN_ONCE

    key = MCPAPIKey.objects.get()
    assert credential.startswith(key.key_id + ".")
    assert (key.user, key.name, key.allowed_tools, key.expires_at) == (alice, "laptop", [], None)
    check = authenticate_credential(f"Bearer {credential}")
    assert check.ok and check.user == alice


def test_create_with_allowlist_and_expiry(alice):
    mcp_key(
        "create",
        "alice",
        "--name",
        "ci",
        "--allowed-tools",
        " tool_a, tool_b ,,",
        "--expires-in",
        "3",
    )
    key = MCPAPIKey.objects.get()
    assert key.allowed_tools == ["tool_a", "tool_b"]
    expected = timezone.now() + timedelta(days=3)
    assert abs(key.expires_at - expected) < timedelta(minutes=1)


def test_create_json(alice):
    out, err = mcp_key("create", "alice", "--name", "laptop", "--allowed-tools", "a,b", "--json")
    document = json.loads(out)
    key = MCPAPIKey.objects.get()
    assert document["credential"].startswith(key.key_id + ".")
    assert authenticate_credential(document["credential"]).ok
    assert document["key_id"] == key.key_id
    assert document["user"] == "alice"
    assert document["name"] == "laptop"
    assert document["status"] == "active"
    assert document["allowed_tools"] == ["a", "b"]
    assert document["expires_at"] is None and document["revoked_at"] is None
    assert "secret_hash" not in document
    assert SHOWN_ONCE in err


def test_create_for_an_unknown_user_fails():
    with pytest.raises(CommandError, match="user not found: 'nobody'"):
        mcp_key("create", "nobody", "--name", "x")
    assert not MCPAPIKey.objects.exists()


def test_create_for_an_inactive_user_fails():
    User.objects.create_user("dave", is_active=False)
    with pytest.raises(CommandError, match="user is not active: 'dave'"):
        mcp_key("create", "dave", "--name", "x")
    assert not MCPAPIKey.objects.exists()


@pytest.mark.parametrize("days", ["0", "-2"])
def test_create_rejects_a_non_positive_expiry(alice, days):
    with pytest.raises(CommandError, match="--expires-in must be a positive integer"):
        mcp_key("create", "alice", "--name", "x", "--expires-in", days)
    assert not MCPAPIKey.objects.exists()


def test_create_requires_a_name(alice):
    with pytest.raises(CommandError, match="--name"):
        mcp_key("create", "alice")


def test_a_subcommand_is_required():
    with pytest.raises(CommandError, match="subcommand"):
        mcp_key()


# list


def test_list_prints_an_aligned_table(alice, key):
    bob = User.objects.create_user("bob")
    revoked, _ = MCPAPIKey.objects.create_key(bob, name="old phone")
    revoked.revoke()
    MCPAPIKey.objects.create_key(bob, name="gone", expires_at=timezone.now() - timedelta(days=1))
    key.touch_last_used()

    out, err = mcp_key("list")
    lines = out.splitlines()
    assert lines[0].split() == ["key_id", "name", "user", "status", "created_at", "last_used_at"]
    assert len(lines) == 4 and err == ""
    rows = [re.split(r"\s{2,}", line) for line in lines[1:]]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        (key.key_id, "laptop", "alice", "active"),
        (revoked.key_id, "old phone", "bob", "revoked"),
        (MCPAPIKey.objects.get(name="gone").key_id, "gone", "bob", "expired"),
    ]
    assert rows[0][5] == MCPAPIKey.objects.get(pk=key.pk).last_used_at.isoformat()
    assert rows[1][5] == "-"
    # Columns line up: every column starts at the same offset as its header.
    offset = lines[0].index("status")
    assert all(line[offset:].startswith(("active", "revoked", "expired")) for line in lines[1:])
    assert all(line == line.rstrip() for line in lines)


def test_list_filters_by_user(alice, key):
    MCPAPIKey.objects.create_key(User.objects.create_user("bob"), name="bob's")
    out, _ = mcp_key("list", "--user", "alice")
    assert key.key_id in out and "bob's" not in out


def test_list_without_keys_says_so_on_stderr():
    out, err = mcp_key("list")
    assert out == ""
    assert err.strip() == "no keys found"


def test_list_json(alice, key):
    out, _ = mcp_key("list", "--json")
    assert json.loads(out) == [
        {
            "key_id": key.key_id,
            "name": "laptop",
            "user": "alice",
            "status": "active",
            "created_at": key.created_at.isoformat(),
            "last_used_at": None,
            "expires_at": None,
            "revoked_at": None,
            "allowed_tools": ["t1", "t2"],
            "read_only": False,
        }
    ]
    out, err = mcp_key("list", "--json", "--user", "nobody")
    assert json.loads(out) == [] and err == ""


# revoke, rotate, inspect


def test_revoke(key):
    out, _ = mcp_key("revoke", key.key_id)
    assert out == f"revoked: {key.key_id}\n"
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_revoke_json(key):
    out, _ = mcp_key("revoke", key.key_id, "--json")
    document = json.loads(out)
    assert document["status"] == "revoked"
    assert document["revoked_at"] == MCPAPIKey.objects.get(pk=key.pk).revoked_at.isoformat()


def test_rotate_prints_a_new_credential_that_replaces_the_old_one(key):
    out, err = mcp_key("rotate", key.key_id)
    credential = out.strip()
    assert CREDENTIAL.fullmatch(credential) and credential.startswith(key.key_id + ".")
    assert err.strip() == SHOWN_ONCE
    assert authenticate_credential(credential).ok
    old = credential.split(".")[0] + "." + "x" * 32
    assert authenticate_credential(old).status is KeyStatus.WRONG_SECRET


def test_rotate_keeps_a_revoked_key_revoked(key):
    key.revoke()
    out, _ = mcp_key("rotate", key.key_id, "--json")
    document = json.loads(out)
    assert document["status"] == "revoked"
    assert authenticate_credential(document["credential"]).status is KeyStatus.REVOKED


def test_inspect(key):
    key.expires_at = timezone.now() + timedelta(days=1)
    key.save()
    out, _ = mcp_key("inspect", key.key_id)
    assert out.splitlines() == [
        f"key_id         {key.key_id}",
        "name           laptop",
        "user           alice",
        "status         active",
        f"created_at     {key.created_at.isoformat()}",
        "last_used_at   -",
        f"expires_at     {key.expires_at.isoformat()}",
        "revoked_at     -",
        "allowed_tools  t1,t2",
        "read_only      False",
    ]


def test_inspect_shows_an_empty_allowlist_as_brackets(alice):
    key, _ = MCPAPIKey.objects.create_key(alice, name="all")
    out, _ = mcp_key("inspect", key.key_id)
    assert "allowed_tools  []" in out.splitlines()


def test_inspect_json_never_contains_the_secret_hash(key):
    out, _ = mcp_key("inspect", key.key_id, "--json")
    document = json.loads(out)
    assert document["key_id"] == key.key_id and document["allowed_tools"] == ["t1", "t2"]
    assert key.secret_hash not in out and "secret" not in " ".join(document)


@pytest.mark.parametrize("subcommand", ["revoke", "rotate", "inspect"])
def test_unknown_key_id_fails(subcommand):
    with pytest.raises(CommandError, match="key not found: 'Nope'"):
        mcp_key(subcommand, "Nope")


# Key ids made by the original package may start with "-"; they must still work positionally.

LEGACY_IDS = ["-abcdefghijklmnopqrstuvw", "-hABCDEFGHIJKLMNOPQRSTUV", "--ABCDEFGHIJKLMNOPQRSTUV"]


@pytest.fixture(params=LEGACY_IDS)
def legacy_key(request, alice):
    return MCPAPIKey.objects.create(key_id=request.param, secret_hash="", user=alice, name="legacy")


def test_inspect_accepts_a_key_id_starting_with_a_dash(legacy_key):
    out, _ = mcp_key("inspect", legacy_key.key_id)
    assert out.splitlines()[0] == f"key_id         {legacy_key.key_id}"
    out, _ = mcp_key("inspect", legacy_key.key_id, "--json")
    assert json.loads(out)["key_id"] == legacy_key.key_id


def test_revoke_accepts_a_key_id_starting_with_a_dash(legacy_key):
    out, _ = mcp_key("revoke", "--json", legacy_key.key_id)
    assert json.loads(out)["status"] == "revoked"
    legacy_key.refresh_from_db()
    assert legacy_key.revoked_at is not None


def test_rotate_accepts_a_key_id_starting_with_a_dash(legacy_key):
    out, _ = mcp_key("rotate", legacy_key.key_id)
    check = authenticate_credential(out.strip())
    assert check.ok and check.key == legacy_key


def test_explicit_double_dash_still_works(legacy_key):
    out, _ = mcp_key("revoke", "--", legacy_key.key_id)
    assert out == f"revoked: {legacy_key.key_id}\n"
