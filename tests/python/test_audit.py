"""One JSON audit line per request on logger `django_mcp.audit`, with the original's fields,
and outcomes that say what really happened."""

import io
import json
import logging

import pytest
from django.db import connection
from django.utils import timezone
from django.test.utils import CaptureQueriesContext

from django_mcp.audit import FIELDS
from django_mcp.models import MCPAPIKey
from django_mcp.transport import stdio


@pytest.fixture
def audit(caplog):
    caplog.set_level(logging.INFO, logger="django_mcp.audit")

    def lines():
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "django_mcp.audit"]

    return lines


def test_every_request_gets_exactly_one_line_with_every_field(mcp, audit, alice_key):
    mcp.rpc("tools/call", {"name": "get_library_book", "arguments": {"pk": 1}})
    [line] = audit()
    assert set(line) == set(FIELDS)
    assert line["method"] == "tools/call"
    assert line["target"] == "get_library_book"
    assert line["outcome"] == "allow"
    assert line["transport"] == "streamable-http"
    assert line["key_id"] == alice_key.split(".")[0]
    assert line["wire_status"] == 200
    assert len(line["correlation_id"]) == 32
    assert line["duration_ms"] >= 0


@pytest.mark.parametrize(
    "arguments, error_message",
    [
        ({"pk": 99999}, "not_found"),
        ({"pk": "nope"}, "invalid_arguments: pk"),
    ],
)
def test_a_failed_tool_call_is_not_audited_as_allow(mcp, audit, arguments, error_message):
    """The audit line says the failure's kind and the arguments it names, not the client's
    message ("No book with pk 99999 exists…"), which may quote the values sent."""
    result = mcp.call("get_library_book", arguments)
    assert result["isError"] is True
    [line] = audit()
    assert (line["outcome"], line["error_message"]) == ("handler_error", error_message)


SECRET_LOOKING = "hunter2-SECRET"


def test_an_error_quoting_an_argument_reaches_the_client_but_not_the_audit_line(mcp, audit, settings):
    """DRF's SlugRelatedField says "Object with slug=<the value> does not exist."."""
    settings.DJANGO_MCP_URLCONFS = ["fixtures.drf_views"]
    settings.DJANGO_MCP_VIEW_INCLUDE = ["fields:*", "fields/*"]
    body = {
        "flag": False,
        "name": "Ok",
        "email": "b@example.com",
        "token": "12345678-1234-5678-1234-567812345678",
        "slug": "ok",
        "code": "XYZ-99",
        "count": 1,
        "ratio": 1,
        "price": "1.00",
        "when": "2026-01-02T03:04:05Z",
        "day": "2026-01-02",
        "colour": "g",
        "numbers": [1],
        "author": 1,
        "tag_slug": SECRET_LOOKING,
    }
    result = mcp.call("create_fields_everything", {"body": body})
    assert result["isError"] is True
    assert SECRET_LOOKING in result["content"][0]["text"] and "tag_slug" in result["content"][0]["text"]
    [line] = audit()
    assert SECRET_LOOKING not in json.dumps(line)
    assert (line["outcome"], line["error_message"]) == ("handler_error", "validation: body.tag_slug")


def test_denials_and_refusals_say_so(mcp_as, bob_key, audit, client):
    mcp_as(bob_key).rpc("tools/call", {"name": "list_library_book", "arguments": {}})
    assert audit()[-1]["outcome"] == "deny"
    assert audit()[-1]["error_code"] == -32002
    response = client.post("/mcp/", "{}", content_type="application/json", HTTP_AUTHORIZATION="Bearer nope")
    assert response.status_code == 401
    line = audit()[-1]
    assert (line["method"], line["outcome"], line["wire_status"]) == ("<pre-dispatch>", "unauthenticated", 401)


def test_no_secret_reaches_the_audit_line(mcp, audit, alice_key):
    mcp.rpc("tools/list")
    secret = alice_key.split(".")[1]
    assert all(secret not in json.dumps(line) for line in audit())


def test_no_key_at_all_is_audited_as_unauthenticated(mcp_as, library, audit):
    response = mcp_as(None).post(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "list_library_book", "arguments": {}}}
    )
    assert response.status_code == 401
    [line] = audit()
    assert (line["method"], line["target"], line["outcome"]) == ("tools/call", "list_library_book", "unauthenticated")
    assert (line["key_id"], line["user_id"], line["wire_status"], line["error_code"]) == (None, None, 401, -32001)


def test_a_tool_outside_the_keys_allowlist_is_audited_as_out_of_scope(mcp_as, make_key, audit):
    scoped = mcp_as(make_key("alice", allowed_tools=["list_library_tag"]))
    scoped.rpc("tools/call", {"name": "list_library_tag", "arguments": {}})
    scoped.rpc("tools/call", {"name": "get_library_book", "arguments": {"pk": 1}})
    allowed, refused = audit()
    assert allowed["outcome"] == "allow"
    assert (refused["target"], refused["outcome"]) == ("get_library_book", "out_of_scope")
    assert refused["error_code"] == -32003


def test_arguments_the_schema_refuses_are_not_audited_as_allow(mcp, audit):
    result = mcp.call("create_library_tag", {"name": 7})
    assert result["isError"] is True
    [line] = audit()
    assert (line["target"], line["outcome"]) == ("create_library_tag", "handler_error")


def test_a_request_over_the_credentials_rate_limit_is_audited_as_rate_limited(mcp, settings, audit, alice_key):
    settings.DJANGO_MCP_RATE_LIMITS = {"key": "1/h"}
    mcp.rpc("tools/call", {"name": "list_library_tag", "arguments": {}})
    mcp.rpc("tools/call", {"name": "list_library_tag", "arguments": {}})
    served, limited = audit()
    assert served["outcome"] == "allow"
    assert (limited["target"], limited["outcome"], limited["error_code"], limited["wire_status"]) == (
        "list_library_tag",
        "rate_limited",
        -32005,
        429,
    )
    assert limited["key_id"] == alice_key.split(".")[0]
    assert limited["error_message"] == "rate_limited"


# Correlation: every log record emitted while a request is handled carries its correlation id.


@pytest.fixture
def queries(caplog):
    """Django's own SQL log (`django.db.backends`), which it emits when queries are captured."""
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    with CaptureQueriesContext(connection):
        yield lambda: [r for r in caplog.records if r.name == "django.db.backends"]


def test_djangos_query_log_inside_a_request_carries_the_audit_lines_correlation_id(mcp, audit, queries):
    mcp.rpc("tools/call", {"name": "get_library_book", "arguments": {"pk": 1}})
    [line] = audit()
    in_effects = [r for r in queries() if "library_book" in r.sql]
    assert in_effects and all(r.correlation_id == line["correlation_id"] for r in in_effects)
    # The key was checked before the request reached the engine, within the same correlation.
    key_lookup = [r for r in queries() if "django_mcp_mcpapikey" in r.sql]
    assert key_lookup and all(r.correlation_id == line["correlation_id"] for r in key_lookup)


def test_a_refused_credentials_audit_line_shares_its_id_with_the_key_lookup(mcp_as, alice_key, audit, queries, caplog):
    key_id = alice_key.split(".")[0]
    response = mcp_as(f"{key_id}.wrong-secret").post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 401
    [line] = audit()
    assert (line["outcome"], line["error_message"]) == ("unauthenticated", "credential wrong_secret")
    key_lookup = [r for r in queries() if "django_mcp_mcpapikey" in r.sql]
    assert key_lookup and all(r.correlation_id == line["correlation_id"] for r in key_lookup)
    # Django's own "Unauthorized: /mcp/", logged once.
    [unauthorized] = [r for r in caplog.records if r.name == "django.request"]
    assert unauthorized.correlation_id == line["correlation_id"]


def test_a_stdio_refusals_audit_line_shares_its_id_with_the_key_recheck(alice_key, audit, queries):
    key = MCPAPIKey.objects.get(key_id=alice_key.split(".")[0])
    MCPAPIKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    before = len(queries())
    stdio.serve(key, stdin=io.StringIO(line + "\n"), stdout=io.StringIO())
    [refused] = audit()
    assert (refused["outcome"], refused["error_message"]) == ("unauthenticated", "credential revoked")
    recheck = [r for r in queries()[before:] if "django_mcp_mcpapikey" in r.sql]
    assert recheck and all(r.correlation_id == refused["correlation_id"] for r in recheck)


def test_stdio_requests_each_have_their_own_correlation_id_on_their_records(alice_key, audit, queries):
    key = MCPAPIKey.objects.get(key_id=alice_key.split(".")[0])
    lines = [
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": n,
                "method": "tools/call",
                "params": {"name": "get_library_book", "arguments": {"pk": n}},
            }
        )
        for n in (1, 2)
    ]
    stdio.serve(key, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=io.StringIO())
    first, second = audit()
    assert first["correlation_id"] != second["correlation_id"]
    ids = [r.correlation_id for r in queries() if "library_book" in r.sql]
    assert set(ids) == {first["correlation_id"], second["correlation_id"]}


def test_a_log_record_outside_a_request_can_still_be_formatted(caplog):
    caplog.set_level(logging.INFO, logger="project")
    logging.getLogger("project").info("no request here")
    [record] = [r for r in caplog.records if r.name == "project"]
    assert logging.Formatter("%(correlation_id)s %(message)s").format(record) == "- no request here"


# Refusals of bodies the host cannot read: every one audited.

DEEPLY_NESTED = "[" * 200_000 + "]" * 200_000


def test_a_deeply_nested_body_over_the_rate_limit_is_refused_429_and_audited(mcp, settings, audit):
    settings.DJANGO_MCP_RATE_LIMITS = {"key": "1/h"}
    from django.core.cache import caches

    caches["default"].clear()
    assert mcp.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}).status_code == 200
    response = mcp.post(DEEPLY_NESTED)
    assert response.status_code == 429 and response.json()["error"]["code"] == -32005
    served, limited = audit()
    assert (limited["method"], limited["outcome"], limited["wire_status"]) == ("<unknown>", "rate_limited", 429)


def test_a_deeply_nested_body_when_the_engine_fails_is_refused_and_audited(mcp, monkeypatch, audit):
    from django_mcp.engine import EngineRuntime, EngineTrap

    def trap(*args):
        raise EngineTrap("all fuel consumed by WebAssembly")

    monkeypatch.setattr(EngineRuntime, "run", trap)
    response = mcp.post(DEEPLY_NESTED)
    assert response.status_code == 200 and response.json()["error"]["code"] == -32603
    [line] = audit()
    assert (line["method"], line["outcome"], line["error_message"]) == ("<unknown>", "handler_error", "engine failure")
