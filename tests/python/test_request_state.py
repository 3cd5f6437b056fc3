"""The `requestState` of a multi round-trip request (2026-07-28) resumes only the call it was
issued for: the same item, the same user and the same arguments (`effects/custom.py`). A user's
"yes" to one question cannot be carried over to other arguments or another tool; every refusal
is −32602 with HTTP 400 and leaves the database as it was."""

import pytest
from conftest import db_dump, rpc_error
from django.test import override_settings
from library.models import Book

from django_mcp import server

META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
YES = {"confirm": {"action": "accept", "content": {"ok": True}}}


@pytest.fixture(autouse=True)
def rounds():
    with override_settings(DJANGO_MCP_CUSTOM=["fixtures.custom_items_rounds"]):
        server.reset()
        yield
    server.reset()


def stateless(mcp, method, name, params):
    headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method, "Mcp-Name": name}
    return mcp.post({"jsonrpc": "2.0", "id": 9, "method": method, "params": {**params, "_meta": META}}, headers=headers)


def call(mcp, tool, arguments, **rounds):
    return stateless(mcp, "tools/call", tool, {"name": tool, "arguments": arguments, **rounds})


def first_round(mcp, tool, arguments):
    result = call(mcp, tool, arguments).json()["result"]
    assert result["resultType"] == "input_required" and set(result["inputRequests"]) == {"confirm"}, result
    return result["requestState"]


def refused(response, says):
    error = rpc_error(response, status=400, code=-32602)
    assert says in error["message"], error


@pytest.fixture
def asked(mcp):
    """Alice was asked to confirm retitling book 1, and said yes; nothing has run yet."""
    mcp.rpc("ping")  # the key's first use writes last_used_at
    state = first_round(mcp, "retitle_book", {"pk": 1, "title": "Confirmed"})
    return state, db_dump()


def test_the_round_trip_runs_the_call_that_was_confirmed(mcp, asked):
    state, _before = asked
    done = call(mcp, "retitle_book", {"pk": 1, "title": "Confirmed"}, inputResponses=YES, requestState=state)
    assert done.json()["result"]["content"][0]["text"] == "book 1 retitled"
    assert Book.objects.get(pk=1).title == "Confirmed"


def test_a_state_replayed_with_other_arguments_is_refused(mcp, asked):
    state, before = asked
    for arguments in ({"pk": 2, "title": "Confirmed"}, {"pk": 1, "title": "Not what was confirmed"}, {"pk": 1}):
        refused(
            call(mcp, "retitle_book", arguments, inputResponses=YES, requestState=state), "issued for other arguments"
        )
    assert db_dump() == before


def test_a_state_sent_to_another_tool_is_refused(mcp, asked):
    state, before = asked
    refused(
        call(mcp, "delete_book", {"pk": 1, "title": "Confirmed"}, inputResponses=YES, requestState=state),
        "issued for another item or user",
    )
    assert db_dump() == before


def test_a_tampered_state_is_refused(mcp, asked):
    state, before = asked
    middle = len(state) // 2
    tampered = state[:middle] + ("A" if state[middle] != "A" else "B") + state[middle + 1 :]
    refused(
        call(mcp, "retitle_book", {"pk": 1, "title": "Confirmed"}, inputResponses=YES, requestState=tampered),
        "requestState failed its integrity check",
    )
    assert db_dump() == before


def test_a_prompt_state_replayed_with_other_arguments_is_refused(mcp):
    def get(topic, **rounds):
        return stateless(
            mcp, "prompts/get", "announcement", {"name": "announcement", "arguments": {"topic": topic}, **rounds}
        )

    state = get("the reading club").json()["result"]["requestState"]
    refused(get("the closing of the library", inputResponses=YES, requestState=state), "issued for other arguments")
    done = get("the reading club", inputResponses=YES, requestState=state).json()["result"]
    assert done["messages"][0]["content"]["text"] == "Announce the reading club."


def test_every_state_is_unique(mcp):
    """A nonce: two first rounds of the very same call, in the same second, get two states."""
    arguments = {"pk": 1, "title": "Confirmed"}
    assert first_round(mcp, "retitle_book", arguments) != first_round(mcp, "retitle_book", arguments)
