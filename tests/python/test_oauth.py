"""OAuth resource-server mode: bearer tokens the project's resolver maps to users (no MCP key),
RFC 9728 Protected Resource Metadata, and 401 challenges that point clients to it."""

import json
import os
import sys

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.core import checks

from conftest import rpc_error
from servers import manage
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
    assert json.loads(response.content)["error"]["message"].endswith("<key_id>.<secret> or an OAuth access token")
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
    assert json.loads(response.content)["error"]["message"].endswith("<key_id>.<secret> or an OAuth access token")
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
    settings.DJANGO_MCP_OAUTH = {
        "authorization_servers": ["https://auth.example.com"],
        "resource": "https://api.example.com/tools/mcp",
    }
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


@pytest.mark.parametrize(
    "config",
    [
        ["https://auth.example.com"],
        {"authorization_servers": []},
        {"authorization_servers": "https://auth.example.com"},
        {"authorization_servers": ["auth.example.com"]},
        {"authorization_servers": ["ftp://auth.example.com"]},
        {"authorization_servers": ["https://auth.example.com"], "scopes_supported": ["two words"]},
        {"authorization_servers": ["https://auth.example.com"], "scopes_supported": "mcp"},
        {"authorization_servers": ["https://auth.example.com"], "resource": "/mcp"},
        {"authorization_server": ["https://auth.example.com"]},
    ],
)
def test_a_malformed_oauth_setting_is_a_check_error(settings, config):
    settings.DJANGO_MCP_OAUTH = config
    assert len(errors(8)) == 1


def test_well_formed_oauth_settings_pass_the_checks(settings):
    settings.DJANGO_MCP_BEARER_RESOLVER = RESOLVER
    settings.DJANGO_MCP_OAUTH = {**OAUTH, "resource": "https://api.example.com/mcp"}
    assert errors(7) == errors(8) == []


# The site as its own authorization server (DJANGO_MCP_OAUTH["server"]): its checks. The flows
# themselves run against uvicorn: test_oauth_server.py, test_oauth_sdk.py, test_oauth_ts.py.

SERVER = {"server": "django-oauth-toolkit"}


def test_server_mode_needs_no_authorization_servers_but_the_toolkit_installed(settings):
    settings.DJANGO_MCP_OAUTH = SERVER
    assert errors(8) == []
    [missing] = errors(24)
    assert missing.msg == "DJANGO_MCP_OAUTH['server'] needs 'oauth2_provider' in INSTALLED_APPS."


@pytest.mark.parametrize(
    "config, number",
    [
        ({"server": "authlib"}, 8),
        ({**SERVER, "dynamic_client_registration": "yes"}, 8),
        ({**SERVER, "client_id_metadata_documents": 1}, 8),
        ({**SERVER, "registration_rate": "many"}, 10),
        ({**SERVER, "registraton_rate": "5/m"}, 8),
    ],
)
def test_a_malformed_server_setting_is_a_check_error(settings, config, number):
    settings.DJANGO_MCP_OAUTH = config
    assert len(errors(number)) == 1


@pytest.fixture
def toolkit_installed(settings):
    """django-oauth-toolkit in INSTALLED_APPS (no tables: for checks and views that need none).
    Installing an app runs the ready() of every app: the admin's autodiscovery registers the
    toolkit's models on the admin site, and the toolkit registers system checks, both for good:
    they are taken off again after the test."""
    from django.contrib import admin
    from django.core.checks.registry import registry

    registered = dict(admin.site._registry)
    checks_before = set(registry.registered_checks), set(registry.deployment_checks)
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "oauth2_provider"]
    settings.DJANGO_MCP_OAUTH = SERVER
    yield settings
    admin.site._registry.clear()
    admin.site._registry.update(registered)
    registry.registered_checks, registry.deployment_checks = checks_before


def test_with_the_toolkit_installed_server_mode_passes_the_checks(toolkit_installed):
    assert errors(24) == errors(25) == errors(26) == []


@pytest.mark.parametrize(
    "name, value",
    [
        ("PKCE_REQUIRED", False),
        ("COMPLIANT_BCP_RFC9700_PKCE_METHOD", False),
        ("ROTATE_REFRESH_TOKEN", False),
        ("OAUTH2_VALIDATOR_CLASS", "x.Validator"),
    ],
)
def test_a_toolkit_setting_that_breaks_a_rule_is_a_check_error(toolkit_installed, name, value):
    toolkit_installed.OAUTH2_PROVIDER = {name: value, "ACCESS_TOKEN_EXPIRE_SECONDS": 60}  # the latter is fine
    [broken] = errors(25)
    assert broken.msg.startswith(f"OAUTH2_PROVIDER[{name!r}] must be")


def test_the_test_only_loopback_ca_is_a_check_error_outside_a_test_run(toolkit_installed, monkeypatch):
    toolkit_installed.DJANGO_MCP_OAUTH = {**SERVER, "cimd_loopback_ca_for_tests": "/tmp/ca.pem"}
    assert errors(26) == []  # under pytest
    monkeypatch.delitem(sys.modules, "pytest")
    monkeypatch.setattr(sys, "argv", ["manage.py", "runserver"])
    assert len(errors(26)) == 1


def test_nothing_imports_the_toolkit_unless_server_mode_is_on(tmp_path):
    """The demo without DJANGO_MCP_OAUTH["server"]: checks, a 401 and a bearer token that is no
    key, and django-oauth-toolkit (installed here) was never imported."""
    script = (
        "import json, sys; from django.core import checks; from django.test import Client; checks.run_checks(); "
        "Client().post('/mcp/', '{}', content_type='application/json', HTTP_AUTHORIZATION='Bearer not-a-key'); "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('oauth2_provider', 'django_mcp.oauth_')))))"
    )
    env = {**os.environ, "DEMO_DB": str(tmp_path / "db.sqlite3"), "DEMO_MEDIA": str(tmp_path / "media")}
    assert json.loads(manage(env, "shell", "-c", script).splitlines()[-1]) == []


@pytest.mark.parametrize("setting", ["DJANGO_MCP_RESOURCE_MODELS", "DJANGO_MCP_MODEL_SEARCH"])
def test_the_toolkits_models_cannot_be_served_as_resources_or_searches(toolkit_installed, setting):
    setattr(toolkit_installed, setting, ["oauth2_provider.AccessToken"])
    [refused] = errors(12 if setting == "DJANGO_MCP_RESOURCE_MODELS" else 19)
    assert "never served through MCP" in refused.msg, refused.msg


def test_either_registration_can_be_switched_off(toolkit_installed, client):
    from django_mcp import oauth_server

    oauth_server.install()  # as start-up does in server mode (apps.py); then it follows the settings
    toolkit_installed.ROOT_URLCONF = "fixtures.oauth_project.urls"
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["registration_endpoint"] == "http://testserver/oauth/register/"
    assert metadata["client_id_metadata_document_supported"] is True

    toolkit_installed.DJANGO_MCP_OAUTH = {
        **SERVER,
        "dynamic_client_registration": False,
        "client_id_metadata_documents": False,
    }
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert "registration_endpoint" not in metadata
    assert metadata["client_id_metadata_document_supported"] is False
    assert (
        client.post(
            "/oauth/register/", {"redirect_uris": ["https://a.example/cb"]}, content_type="application/json"
        ).status_code
        == 404
    )
