"""Custom items (django_mcp.custom): listed, gated, validated and run like derived ones,
with progress and log notifications, resources, prompts, completion and multi round-trip
requests whose state is signed — over HTTP (in-process) and STDIO."""

import io
import json

import pytest

from conftest import InProcessMCP
from django_mcp.models import MCPAPIKey
from django_mcp.transport import stdio

pytestmark = pytest.mark.usefixtures("custom_items")

STATELESS = {"MCP-Protocol-Version": "2026-07-28"}


def meta(**extra):
    return {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        **extra,
    }


def stateless(mcp, method, params, name=None, **meta_extra):
    headers = {**STATELESS, "Mcp-Method": method}
    if name is not None:
        headers["Mcp-Name"] = name
    return mcp.rpc(method, {**params, "_meta": meta(**meta_extra)}, headers=headers)


def test_capabilities_now_include_resources_prompts_completion_and_logging(mcp):
    caps = mcp.rpc("initialize", {"protocolVersion": "2025-11-25"})["result"]["capabilities"]
    assert set(caps) == {"tools", "resources", "prompts", "completions", "logging"}


def test_a_custom_tool_is_listed_validated_and_run(mcp):
    tools = {t["name"]: t for t in mcp.all_tools()}
    assert tools["count_books"]["annotations"]["readOnlyHint"] is True
    assert tools["count_books"]["outputSchema"]["required"] == ["count"]
    assert mcp.call("count_books", {"contains": "the"})["structuredContent"]["count"] >= 1
    refused = mcp.call("count_books", {"contains": "x" * 21})
    assert refused["isError"] is True and "contains" in refused["content"][0]["text"]


def test_permission_gated_items_are_hidden_and_refused(client, bob_key):
    bob = InProcessMCP(client, bob_key)
    assert "staff_only_tool" not in {t["name"] for t in bob.all_tools()}
    assert bob.rpc("tools/call", {"name": "staff_only_tool", "arguments": {}})["error"]["code"] == -32002
    uris = [r["uri"] for r in bob.rpc("resources/list")["result"]["resources"]]
    assert uris == ["library://motto"]
    assert bob.rpc("resources/read", {"uri": "library://secret"})["error"]["code"] == -32002


def test_progress_and_logs_arrive_on_an_event_stream_ahead_of_the_result(mcp):
    message = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "count_books", "arguments": {}, "_meta": {"progressToken": "p1"}},
    }
    response = mcp.post(message, headers={"Accept": "application/json, text/event-stream"})
    assert response["Content-Type"] == "text/event-stream"
    events = [
        json.loads(line[len("data: ") :])
        for line in response.content.decode().splitlines()
        if line.startswith("data: ")
    ]
    methods = [e.get("method") for e in events]
    # Handshake clients get logs from info up (their setLevel is not remembered): no debug.
    assert methods == ["notifications/progress", "notifications/message", "notifications/progress", None]
    assert [e["params"]["progress"] for e in events if e.get("method") == "notifications/progress"] == [0, 2]
    assert events[1]["params"] == {
        "level": "info",
        "data": {"counted": events[3]["result"]["structuredContent"]["count"]},
        "logger": "library",
    }
    assert events[-1]["id"] == 7
    # A client that takes only JSON gets the result alone.
    plain = mcp.post(message, headers={"Accept": "application/json"})
    assert plain["Content-Type"] == "application/json" and plain.json()["id"] == 7


def test_stateless_requests_get_logs_only_at_the_level_they_ask(mcp):
    def methods(**meta_extra):
        message = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "count_books", "arguments": {}, "_meta": meta(**meta_extra)},
        }
        response = mcp.post(
            message,
            headers={
                **STATELESS,
                "Mcp-Method": "tools/call",
                "Mcp-Name": "count_books",
                "Accept": "application/json, text/event-stream",
            },
        )
        if response["Content-Type"] == "application/json":
            return [None]
        return [
            json.loads(line[6:]).get("method")
            for line in response.content.decode().splitlines()
            if line.startswith("data: ")
        ]

    assert methods() == [None]
    assert methods(**{"io.modelcontextprotocol/logLevel": "debug"}) == ["notifications/message"] * 2 + [None]


def test_resources_templates_prompts_and_completion(mcp):
    assert mcp.rpc("resources/read", {"uri": "library://motto"})["result"]["contents"] == [
        {"uri": "library://motto", "mimeType": "text/plain", "text": "Read more."}
    ]
    templates = mcp.rpc("resources/templates/list")["result"]["resourceTemplates"]
    assert {"uriTemplate": "library://shelf/{name}", "name": "Shelf"} in templates
    assert (
        mcp.rpc("resources/read", {"uri": "library://shelf/fiction"})["result"]["contents"][0]["text"]
        == "shelf fiction"
    )
    for uri in ("library://shelf/missing", "library://shelf/a/b", "library://nothing"):
        error = mcp.rpc("resources/read", {"uri": uri})["error"]
        assert error["code"] == -32602 and error["data"] == {"uri": uri}
    prompt = mcp.rpc("prompts/get", {"name": "greeting", "arguments": {"language": "French"}})["result"]
    assert prompt["messages"][0]["content"]["text"] == "Say hello in French."
    assert mcp.rpc("prompts/get", {"name": "greeting"})["error"]["code"] == -32602
    assert (
        mcp.rpc("prompts/get", {"name": "greeting", "arguments": {"language": "x", "tone": "y"}})["error"]["code"]
        == -32602
    )
    completion = mcp.rpc(
        "completion/complete",
        {"ref": {"type": "ref/prompt", "name": "greeting"}, "argument": {"name": "language", "value": "E"}},
    )["result"]["completion"]
    assert completion == {"values": ["English", "Esperanto"], "total": 2, "hasMore": False}
    shelves = mcp.rpc(
        "completion/complete",
        {"ref": {"type": "ref/resource", "uri": "library://shelf/{name}"}, "argument": {"name": "name", "value": "f"}},
    )["result"]["completion"]
    assert shelves["values"] == ["fiction", "fantasy"]


def test_a_multi_round_request_carries_signed_state_bound_to_its_user(mcp, client, bob_key):
    first = stateless(mcp, "tools/call", {"name": "confirm_then_answer", "arguments": {}}, name="confirm_then_answer")[
        "result"
    ]
    assert first["resultType"] == "input_required" and set(first["inputRequests"]) == {"confirm"}
    answer = {"confirm": {"action": "accept", "content": {"ok": True}}}
    second = stateless(
        mcp,
        "tools/call",
        {
            "name": "confirm_then_answer",
            "arguments": {},
            "inputResponses": answer,
            "requestState": first["requestState"],
        },
        name="confirm_then_answer",
    )["result"]
    assert second["resultType"] == "complete"
    assert second["content"][0]["text"] == "question 1 answered True by alice"
    # A tampered state, or alice's state in bob's hands, is refused.
    for who, state in ((mcp, first["requestState"] + "x"), (InProcessMCP(client, bob_key), first["requestState"])):
        reply = stateless(
            who,
            "tools/call",
            {"name": "confirm_then_answer", "arguments": {}, "inputResponses": answer, "requestState": state},
            name="confirm_then_answer",
        )
        assert reply["error"]["code"] == -32602, reply
    # Answers that are not objects are a protocol error.
    assert (
        stateless(
            mcp,
            "tools/call",
            {"name": "confirm_then_answer", "arguments": {}, "inputResponses": {"confirm": 1}},
            name="confirm_then_answer",
        )["error"]["code"]
        == -32602
    )
    # A handshake client cannot be asked: a tool error says why.
    legacy = mcp.call("confirm_then_answer")
    assert legacy["isError"] is True and "2026-07-28" in legacy["content"][0]["text"]


def test_stdio_writes_notifications_before_the_reply(alice_key):
    key = MCPAPIKey.objects.get(key_id=alice_key.split(".")[0])
    out = io.StringIO()
    line = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "count_books", "arguments": {}, "_meta": {"progressToken": 9}},
        }
    )
    stdio.serve(key, stdin=io.StringIO(line + "\n"), stdout=out)
    messages = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [m.get("method") for m in messages] == [
        "notifications/progress",
        "notifications/message",
        "notifications/progress",
        None,
    ]
    assert messages[-1]["id"] == 3


def test_a_custom_prompts_refusal_is_worded_as_a_prompts(mcp):
    from django.test import override_settings

    from django_mcp import server

    with override_settings(DJANGO_MCP_CUSTOM=["fixtures.custom_items_failing"]):
        server.reset()
        try:
            retired = mcp.rpc("prompts/get", {"name": "retired"})["error"]
            locked = mcp.rpc("prompts/get", {"name": "locked"})["error"]
        finally:
            server.reset()
    assert retired == {
        "code": -32602,
        "message": "Invalid params: unknown prompt 'retired'",
        "data": {"name": "retired"},
    }
    assert locked["code"] == -32002 and locked["data"] == {"target": "locked"}, locked
    assert locked["message"] == "forbidden: your Django permissions do not allow this"
