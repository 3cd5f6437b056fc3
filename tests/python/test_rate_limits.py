"""Rate limits per credential (every request) and per credential and tool (tools/call), counted
in Django's cache. Windows are an hour long here so no window ends in the middle of a test."""

import io
import json

import pytest
from django.contrib.auth.models import Permission, User
from django.core import checks
from django.core.cache import caches
from library.models import Book

from conftest import rpc_error
from django_mcp.effects import EffectRunner
from django_mcp.facts.admin import collect_admins
from django_mcp.models import MCPAPIKey
from django_mcp.requests import CallerContext
from django_mcp.transport import stdio

PING = {"jsonrpc": "2.0", "id": 7, "method": "ping"}


@pytest.fixture(autouse=True)
def _empty_counters():
    caches["default"].clear()


def test_a_credential_over_its_limit_gets_429_and_error_32005(mcp_as, settings, alice_key, make_key):
    settings.DJANGO_MCP_RATE_LIMITS = {"key": "3/h"}
    alice = mcp_as(alice_key)
    for _ in range(3):
        assert alice.post(PING).status_code == 200
    response = alice.post(
        {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "list_library_tag", "arguments": {}}}
    )
    error = rpc_error(response, status=429, code=-32005)
    retry_after = error["data"]["retryAfter"]
    assert isinstance(retry_after, int) and 1 <= retry_after <= 3600
    assert error["message"] == f"Rate limit exceeded: retry after {retry_after} s"
    assert response.json()["id"] == 8
    # The budget is the credential's: another key of the same user has its own.
    assert mcp_as(make_key("alice")).post(PING).status_code == 200


def test_the_429_says_when_to_retry_in_its_header(mcp, settings):
    settings.DJANGO_MCP_RATE_LIMITS = {"key": "1/h"}
    mcp.post(PING)
    response = mcp.post(PING)
    assert response.status_code == 429
    assert response["Retry-After"] == str(response.json()["error"]["data"]["retryAfter"])


def test_stdio_requests_count_against_the_key_too(settings, alice_key):
    settings.DJANGO_MCP_RATE_LIMITS = {"key": "2/h"}
    key = MCPAPIKey.objects.get(key_id=alice_key.split(".")[0])
    out = io.StringIO()
    stdio.serve(key, stdin=io.StringIO("".join(json.dumps({**PING, "id": n}) + "\n" for n in range(3))), stdout=out)
    replies = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r.get("result") for r in replies[:2]] == [{}, {}]
    assert replies[2]["id"] == 2
    assert replies[2]["error"]["code"] == -32005


def test_counters_live_in_the_configured_cache(mcp_as, settings, alice_key):
    settings.CACHES = {
        **settings.CACHES,
        "limits": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "django-mcp-limits"},
    }
    settings.DJANGO_MCP_RATE_LIMITS = {"key": "1/h"}
    settings.DJANGO_MCP_RATE_LIMIT_CACHE = "limits"
    alice = mcp_as(alice_key)
    assert alice.post(PING).status_code == 200
    assert alice.post(PING).status_code == 429
    caches["default"].clear()
    assert alice.post(PING).status_code == 429
    caches["limits"].clear()
    assert alice.post(PING).status_code == 200


def test_no_limits_by_default(mcp):
    assert all(mcp.post(PING).status_code == 200 for _ in range(50))


# Per tool: the engine asks the host to authorize every tools/call; the limit is applied there.


def call(mcp, name, arguments):
    return mcp.rpc("tools/call", {"name": name, "arguments": arguments})


def test_the_authorize_effect_answers_rate_limited_with_retry_after(settings, library):
    settings.DJANGO_MCP_RATE_LIMITS = {"tool": {"get_library_book": "1/h"}}
    registry, _admins = collect_admins()
    caller = CallerContext(User.objects.get(username="alice"), subject="key:effect-test")
    effect = {
        "kind": "authorize",
        "checks": [{"gate": "admin.view", "admin": "admin/library.book"}],
        "tool": "get_library_book",
    }
    assert EffectRunner(caller, registry)([effect]) == [{"ok": True}]
    [refused] = EffectRunner(caller, registry)([effect])
    error = refused["error"]
    assert error["kind"] == "rate_limited"
    assert 1 <= error["retry_after"] <= 3600
    assert error["message"] == f"Rate limit exceeded: retry after {error['retry_after']} s"


def test_a_tool_over_its_limit_is_refused_before_it_runs(mcp, settings):
    settings.DJANGO_MCP_RATE_LIMITS = {"tool": {"*": "5/h", "delete_library_book": "1/h"}}
    first, second = Book.objects.order_by("pk")[:2]
    assert call(mcp, "delete_library_book", {"pk": first.pk})["result"]["structuredContent"]["deleted"] is True
    reply = call(mcp, "delete_library_book", {"pk": second.pk})
    assert reply["error"]["code"] == -32005, reply
    assert 1 <= reply["error"]["data"]["retryAfter"] <= 3600
    assert Book.objects.filter(pk=second.pk).exists()
    # Other tools have their own budget, from "*".
    assert "result" in call(mcp, "get_library_book", {"pk": second.pk})


def test_the_wildcard_limit_counts_each_tool_separately(mcp, settings):
    settings.DJANGO_MCP_RATE_LIMITS = {"tool": {"*": "2/h"}}
    for _ in range(2):
        assert "result" in call(mcp, "list_library_tag", {})
        assert "result" in call(mcp, "list_library_author", {})
    assert call(mcp, "list_library_tag", {})["error"]["code"] == -32005
    assert call(mcp, "list_library_author", {})["error"]["code"] == -32005


def test_a_call_the_caller_may_not_make_spends_no_budget(mcp_as, settings, bob_key):
    settings.DJANGO_MCP_RATE_LIMITS = {"tool": {"*": "1/h"}}
    bob = mcp_as(bob_key)
    for _ in range(2):
        assert call(bob, "list_library_book", {})["error"]["code"] == -32002
    User.objects.get(username="bob").user_permissions.add(Permission.objects.get(codename="view_book"))
    assert "result" in call(bob, "list_library_book", {})
    assert call(bob, "list_library_book", {})["error"]["code"] == -32005


# System checks


def errors(*numbers):
    return [e.id for e in checks.run_checks() if e.id in {f"django_mcp.E{n:03d}" for n in numbers}]


@pytest.mark.parametrize(
    "limits, error",
    [
        ("120/m", 9),
        ({"keys": "120/m"}, 9),
        ({"tool": ["60/m"]}, 9),
        ({"key": "120/min"}, 10),
        ({"key": "0/m"}, 10),
        ({"key": 120}, 10),
        ({"tool": {"*": "60 per minute"}}, 10),
    ],
)
def test_a_malformed_rate_limit_setting_is_a_check_error(settings, limits, error):
    settings.DJANGO_MCP_RATE_LIMITS = limits
    assert errors(9, 10, 11) == [f"django_mcp.E{error:03d}"]


def test_the_rate_limit_cache_must_exist(settings):
    settings.DJANGO_MCP_RATE_LIMITS = {"key": "120/m"}
    settings.DJANGO_MCP_RATE_LIMIT_CACHE = "nowhere"
    assert errors(9, 10, 11) == ["django_mcp.E011"]


def test_well_formed_rate_limits_pass_the_checks(settings):
    settings.DJANGO_MCP_RATE_LIMITS = {"key": "120/m", "tool": {"*": "60/m", "delete_library_book": "5/s"}}
    assert errors(9, 10, 11) == []
