"""One JSON audit line per request on logger `django_mcp.audit`, with the original's fields,
and outcomes that say what really happened."""

import json
import logging

import pytest

from django_mcp.audit import FIELDS


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


@pytest.mark.parametrize("arguments, outcome", [
    ({"pk": 99999}, "handler_error"),
    ({"pk": "nope"}, "handler_error"),
])
def test_a_failed_tool_call_is_not_audited_as_allow(mcp, audit, arguments, outcome):
    result = mcp.call("get_library_book", arguments)
    assert result["isError"] is True
    [line] = audit()
    assert line["outcome"] == outcome
    assert line["error_message"] == result["content"][0]["text"]


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
