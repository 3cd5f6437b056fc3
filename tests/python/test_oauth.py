"""OAuth resource-server mode: bearer tokens the project's resolver maps to users (no MCP key),
RFC 9728 Protected Resource Metadata, and 401 challenges that point clients to it."""

import json

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.core import checks

from conftest import rpc_error
from django_mcp.models import MCPAPIKey

RESOLVER = "test_oauth.resolve_token"
OAUTH = {"authorization_servers": ["https://auth.example.com"], "scopes_supported": ["mcp:tools", "openid"]}

# Opaque access tokens, as an authorization server (django-oauth-toolkit) issues them.
ISSUED = {"dot-token-of-alice": "alice", "dot-token-of-bob": "bob"}
resolved = []


def resolve_token(token, request):
    """The project's resolver: an access-token table lookup, here a dict of issued tokens."""
    resolved.append((token, request.method, request.path))
    username = ISSUED.get(token)
    return User.objects.get(username=username) if username else None


@pytest.fixture
def resolver(settings, library):
    settings.DJANGO_MCP_BEARER_RESOLVER = RESOLVER
    resolved.clear()
    return resolved


@pytest.fixture
def oauth(settings):
    settings.DJANGO_MCP_OAUTH = OAUTH
    return OAUTH


def names(mcp):
    return [tool["name"] for tool in mcp.all_tools()]


def test_a_resolved_token_acts_as_its_user_with_that_users_permissions(mcp_as, resolver, settings):
    # bob's admin tools only, not the demo's open views and searches
    settings.DJANGO_MCP_VIEW_INCLUDE, settings.DJANGO_MCP_MODEL_SEARCH = [], []
    bob = mcp_as("dot-token-of-bob")
    assert names(bob) == ["list_library_author", "get_library_author"]
    assert bob.call("list_library_author")["structuredContent"]["count"] > 0
    reply = bob.rpc("tools/call", {"name": "list_library_book", "arguments": {}})
    assert reply["error"]["code"] == -32002

    # The resolver saw the bearer value and the request it came with.
    assert resolved[0] == ("dot-token-of-bob", "POST", "/mcp/")
    assert "list_library_book" in names(mcp_as("dot-token-of-alice"))


def test_a_resolved_user_has_no_key_and_every_tool_is_in_scope(mcp_as, resolver, caplog):
    caplog.set_level("INFO", logger="django_mcp.audit")
    alice = mcp_as("dot-token-of-alice")
    created = alice.call("create_library_tag", {"name": "Via OAuth", "slug": "via-oauth"})
    assert created.get("isError") is not True, created
    [audit] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "django_mcp.audit"]
    assert (audit["key_id"], audit["user_id"]) == (None, User.objects.get(username="alice").pk)
    # The admin history names no key: there is none.
    entry = LogEntry.objects.latest("action_time")
    assert entry.object_repr == "Via OAuth"
    assert entry.get_change_message().endswith("Via MCP.")


def test_key_credentials_never_reach_the_resolver(mcp_as, resolver, alice_key):
    assert "list_library_book" in names(mcp_as(alice_key))
    wrong_secret = alice_key.split(".")[0] + "." + "x" * 32
    rpc_error(mcp_as(wrong_secret).post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}), status=401, code=-32001)
    assert resolved == []


def test_an_unknown_token_gets_401_pointing_to_the_metadata(mcp_as, resolver, oauth):
    response = mcp_as("dot-token-never-issued").post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    rpc_error(response, status=401, code=-32001)
    assert response["WWW-Authenticate"] == (
        'Bearer realm="django-mcp", error="invalid_token", '
        'resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp", '
        'scope="mcp:tools openid"'
    )


def test_a_missing_token_gets_the_challenge_without_an_error_code(mcp_as, library, oauth):
    response = mcp_as(None).post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    rpc_error(response, status=401, code=-32001)
    challenge = response["WWW-Authenticate"]
    assert 'resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp"' in challenge
    assert "error=" not in challenge


def test_without_a_resolver_a_token_that_is_not_a_key_is_refused(mcp_as, library, oauth):
    response = mcp_as("dot-token-of-alice").post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    rpc_error(response, status=401, code=-32001)
    assert "resource_metadata=" in response["WWW-Authenticate"]


def test_without_oauth_metadata_the_challenge_has_no_resource_metadata(mcp_as, resolver):
    response = mcp_as("dot-token-never-issued").post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    rpc_error(response, status=401, code=-32001)
    assert response["WWW-Authenticate"] == 'Bearer realm="django-mcp", error="invalid_token"'


def test_a_resolved_inactive_user_gets_403(mcp_as, resolver):
    User.objects.filter(username="bob").update(is_active=False)
    response = mcp_as("dot-token-of-bob").post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert "inactive" in rpc_error(response, status=403, code=-32002)["message"]
    assert "WWW-Authenticate" not in response


def test_the_resolver_does_not_mint_keys(mcp_as, resolver):
    names(mcp_as("dot-token-of-alice"))
    assert not MCPAPIKey.objects.exists()


# RFC 9728 metadata


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"])
def test_the_metadata_is_served_at_both_well_known_urls(client, oauth, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response.json() == {
        "resource": "http://testserver/mcp",
        "authorization_servers": ["https://auth.example.com"],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["mcp:tools", "openid"],
    }


def test_a_configured_resource_is_served_and_named_in_challenges(client, mcp_as, settings, library):
    settings.DJANGO_MCP_OAUTH = {"authorization_servers": ["https://auth.example.com"],
                                 "resource": "https://api.example.com/tools/mcp"}
    document = client.get("/.well-known/oauth-protected-resource/tools/mcp").json()
    assert document["resource"] == "https://api.example.com/tools/mcp"
    assert "scopes_supported" not in document
    assert client.get("/.well-known/oauth-protected-resource/mcp").status_code == 404
    response = mcp_as(None).post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response["WWW-Authenticate"] == (
        'Bearer realm="django-mcp", '
        'resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/tools/mcp"'
    )


def test_the_metadata_is_not_found_unless_configured_or_for_another_resource(client, settings):
    assert client.get("/.well-known/oauth-protected-resource/mcp").status_code == 404
    settings.DJANGO_MCP_OAUTH = OAUTH
    assert client.get("/.well-known/oauth-protected-resource/admin").status_code == 404
    assert client.post("/.well-known/oauth-protected-resource/mcp").status_code == 405


# System checks


def errors(number):
    return [e for e in checks.run_checks() if e.id == f"django_mcp.E{number:03d}"]


@pytest.mark.parametrize("resolver", ["test_oauth.no_such_function", "no_such_module.resolve", "test_oauth.ISSUED", 42])
def test_a_resolver_that_is_not_an_importable_callable_is_a_check_error(settings, resolver):
    settings.DJANGO_MCP_BEARER_RESOLVER = resolver
    assert len(errors(7)) == 1


@pytest.mark.parametrize("config", [
    ["https://auth.example.com"],
    {"authorization_servers": []},
    {"authorization_servers": "https://auth.example.com"},
    {"authorization_servers": ["auth.example.com"]},
    {"authorization_servers": ["ftp://auth.example.com"]},
    {"authorization_servers": ["https://auth.example.com"], "scopes_supported": ["two words"]},
    {"authorization_servers": ["https://auth.example.com"], "scopes_supported": "mcp"},
    {"authorization_servers": ["https://auth.example.com"], "resource": "/mcp"},
    {"authorization_server": ["https://auth.example.com"]},
])
def test_a_malformed_oauth_setting_is_a_check_error(settings, config):
    settings.DJANGO_MCP_OAUTH = config
    assert len(errors(8)) == 1


def test_well_formed_oauth_settings_pass_the_checks(settings):
    settings.DJANGO_MCP_BEARER_RESOLVER = RESOLVER
    settings.DJANGO_MCP_OAUTH = {**OAUTH, "resource": "https://api.example.com/mcp"}
    assert errors(7) == errors(8) == []
