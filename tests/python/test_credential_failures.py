"""Failed credential checks are limited per key id and per client address: once over the
budget, a credential is answered 429 with Retry-After before anything is looked up or hashed
(a legacy key's wrong secret would cost a full password hash each)."""

import json
import logging

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import db_dump, rpc_error
from django_mcp.models import MCPAPIKey

TOOLS_LIST = {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}


@pytest.fixture(autouse=True)
def _empty_counters():
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def hashed(monkeypatch):
    """How many secrets were verified."""
    calls = []
    original = MCPAPIKey.verify_secret

    def verify_secret(self, secret):
        calls.append(self.key_id)
        return original(self, secret)

    monkeypatch.setattr(MCPAPIKey, "verify_secret", verify_secret)
    return calls


def post_from(client, credential, address):
    return client.generic(
        "POST",
        "/mcp/",
        json.dumps(TOOLS_LIST),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {credential}",
        REMOTE_ADDR=address,
    )


def test_wrong_secrets_for_one_key_id_are_limited_before_hashing(client, settings, alice_key, hashed, caplog):
    settings.DJANGO_MCP_AUTH_FAILURE_LIMITS = {"key": "3/h", "address": "100/h"}
    key_id = alice_key.split(".")[0]
    before = db_dump("library", "auth", "django_mcp")
    for n in range(3):
        rpc_error(post_from(client, f"{key_id}.{'x' * 32}", f"10.0.0.{n}"), status=401, code=-32001)
    assert len(hashed) == 3
    caplog.clear()
    for credential in (f"{key_id}.{'x' * 32}", alice_key):  # the right secret waits too
        with CaptureQueriesContext(connection) as queries, caplog.at_level(logging.INFO, logger="django_mcp.audit"):
            response = post_from(client, credential, "10.0.1.1")
        error = rpc_error(response, status=429, code=-32005)
        assert 1 <= int(response["Retry-After"]) <= 3600 and error["data"]["retryAfter"] == int(response["Retry-After"])
        assert not [q for q in queries if "mcpapikey" in q["sql"].lower()], "the key was looked up"
        [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "django_mcp.audit"]
        assert (line["method"], line["wire_status"], line["key_id"]) == ("<pre-dispatch>", 429, None), line
        caplog.clear()
    assert len(hashed) == 3, "a limited key id's secret was still verified"
    assert db_dump("library", "auth", "django_mcp") == before
    # Another key is not held by this one's failures.
    assert post_from(client, _another_key(), "10.0.1.1").status_code == 200


def _another_key():
    from django.contrib.auth.models import User

    key, secret = MCPAPIKey.objects.create_key(User.objects.get(username="alice"), name="other")
    return f"{key.key_id}.{secret}"


def test_failures_from_one_address_are_limited_whatever_the_key_id(client, settings, alice_key, hashed):
    settings.DJANGO_MCP_AUTH_FAILURE_LIMITS = {"key": "100/h", "address": "3/h"}
    before = db_dump("library", "auth", "django_mcp")
    for n in range(3):
        rpc_error(post_from(client, f"{chr(65 + n) * 24}.{'y' * 32}", "10.0.0.7"), status=401, code=-32001)
    rpc_error(post_from(client, "not-a-key-at-all", "10.0.0.7"), status=429, code=-32005)
    response = post_from(client, alice_key, "10.0.0.7")
    rpc_error(response, status=429, code=-32005)
    assert "Retry-After" in response and hashed == []
    assert db_dump("library", "auth", "django_mcp") == before
    # Another address still gets its own answer.
    assert post_from(client, alice_key, "10.0.0.8").status_code == 200


def test_failure_limits_have_sane_defaults_and_are_checked(settings):
    from django.core import checks

    from django_mcp import conf

    assert conf.get("DJANGO_MCP_AUTH_FAILURE_LIMITS") == {"key": "10/m", "address": "60/m"}
    settings.DJANGO_MCP_AUTH_FAILURE_LIMITS = {"key": "ten a minute"}
    assert "django_mcp.E010" in [e.id for e in checks.run_checks()]
