"""Forged continuation state: the `requestState` of a multi round-trip request (2026-07-28) is
signed by the host, bound to the item and the user, and valid for an hour
(`django_mcp/effects/custom.py`). Tampered, truncated, foreign (another user, another item,
another salt, another deployment), expired, mistyped or huge states are all −32602 with HTTP
400; nothing changes in the database and the server still answers, the genuine state
included."""

import time

import pytest
from conftest import InProcessMCP, db_dump, rpc_error
from django.core import signing
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from django_mcp import sessions
from django_mcp.effects.custom import STATE_MAX_AGE, STATE_SALT

HOSTILE = hypothesis_settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
ANSWER = {"confirm": {"action": "accept", "content": {"ok": True}}}
TOOL = "confirm_then_answer"

pytestmark = pytest.mark.usefixtures("custom_items")


def stateless(mcp, method, params, name):
    headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method, "Mcp-Name": name}
    return mcp.post({"jsonrpc": "2.0", "id": 5, "method": method, "params": {**params, "_meta": META}}, headers=headers)


def answer(mcp, state, tool=TOOL, responses=ANSWER):
    params = {"name": tool, "arguments": {}, "inputResponses": responses}
    if state is not ...:
        params["requestState"] = state
    return stateless(mcp, "tools/call", params, tool)


def first_round(mcp):
    result = stateless(mcp, "tools/call", {"name": TOOL, "arguments": {}}, TOOL).json()["result"]
    assert result["resultType"] == "input_required"
    return result["requestState"]


class Guarded:
    def __init__(self, mcp):
        self.mcp = mcp
        assert mcp.rpc("ping")["result"] == {}  # the key's first use writes last_used_at
        self.state = first_round(mcp)
        self.before = db_dump()

    def refused(self, response, says):
        error = rpc_error(response, status=400, code=-32602)
        assert says in error["message"], error
        assert self.state not in response.content.decode()

    def check(self):
        assert db_dump() == self.before
        done = answer(self.mcp, self.state).json()["result"]  # the genuine state still works
        assert done["resultType"] == "complete" and done["content"][0]["text"] == "question 1 answered True by alice"


@pytest.fixture
def guarded(mcp):
    return Guarded(mcp)


INTEGRITY = "requestState failed its integrity check"
FOREIGN = "requestState belongs to another request"


@HOSTILE
@given(at=st.integers(min_value=0, max_value=400), replacement=st.sampled_from("AZaz09-_:.=x"))
def test_any_one_character_changed_fails_the_integrity_check(guarded, at, replacement):
    state = guarded.state
    at %= len(state)
    if state[at] == replacement:
        replacement = "Q" if replacement != "Q" else "R"
    guarded.refused(answer(guarded.mcp, state[:at] + replacement + state[at + 1 :]), INTEGRITY)
    guarded.check()


@HOSTILE
@given(cut=st.integers(min_value=1, max_value=400), tail=st.text(max_size=20))
def test_a_truncated_or_extended_state_fails_the_integrity_check(guarded, cut, tail):
    state = guarded.state[: -(cut % len(guarded.state)) or None] + tail
    if state == guarded.state:
        return
    guarded.refused(answer(guarded.mcp, state), INTEGRITY)
    guarded.check()


def test_states_signed_for_something_else_fail_the_integrity_check(guarded, settings):
    payload = {"for": [f"tool:{TOOL}", 1], "state": {"question": 1}}
    deployment_key = settings.SECRET_KEY
    settings.SECRET_KEY = "another-deployment-" + "k" * 40
    other_deployment = signing.dumps(payload, salt=STATE_SALT, compress=True)
    settings.SECRET_KEY = deployment_key
    for state in (
        other_deployment,
        signing.dumps(payload, salt="django_mcp.session", compress=True),  # this deployment, another salt
        signing.dumps(payload, compress=True),  # no salt
        sessions.issue(),  # a session id for a state
        "",
        "x",
        ":",
        "::",
        "a" * 3_000_000,
    ):
        guarded.refused(answer(guarded.mcp, state), INTEGRITY)
    guarded.check()


#: Values signed with this deployment's key and the state's salt, but not by `Call._sign`:
#: only someone holding SECRET_KEY can make them.
MISSHAPEN = {
    "no timestamp": lambda payload: signing.Signer(salt=STATE_SALT).sign_object(payload, compress=True),
    "timestamped text": lambda payload: signing.TimestampSigner(salt=STATE_SALT).sign("abc"),
    "timestamped base64 of text": lambda payload: signing.TimestampSigner(salt=STATE_SALT).sign("YWJj"),
    "a list": lambda payload: signing.dumps([payload], salt=STATE_SALT),
    "a string": lambda payload: signing.dumps("state", salt=STATE_SALT),
}


def test_misshapen_states_signed_with_the_deployments_key_run_nothing_and_leak_nothing(guarded):
    payload = {"for": [f"tool:{TOOL}", 1], "state": {"question": 1}}
    for case, make in MISSHAPEN.items():
        response = answer(guarded.mcp, make(payload))
        if response.status_code == 400:
            guarded.refused(response, INTEGRITY)
        else:  # today: an internal error, as a tool error with a correlation id only
            result = response.json()["result"]
            assert result["isError"] is True, (case, result)
            assert result["content"][0]["text"].startswith("internal error (correlation id "), (case, result)
    guarded.check()


def test_misshapen_states_signed_with_the_deployments_key_fail_the_integrity_check(guarded):
    payload = {"for": [f"tool:{TOOL}", 1], "state": {"question": 1}}
    for make in MISSHAPEN.values():
        guarded.refused(answer(guarded.mcp, make(payload)), "requestState")


def test_an_expired_state_fails_the_integrity_check(guarded, monkeypatch):
    # A genuine first round signed just over an hour ago (only the signer's clock is moved).
    stale = signing.b62_encode(int(time.time()) - STATE_MAX_AGE - 5)
    with monkeypatch.context() as patched:
        patched.setattr(signing.TimestampSigner, "timestamp", lambda self: stale)
        expired = first_round(guarded.mcp)
    guarded.refused(answer(guarded.mcp, expired), INTEGRITY)
    guarded.check()


def test_a_state_whose_timestamp_is_moved_fails_the_integrity_check(guarded):
    """Timestamps are signed too: a client cannot make its state younger."""
    state = guarded.state
    value, timestamp, signature = state.rsplit(":", 2)
    younger = signing.b62_encode(signing.b62_decode(timestamp) + 10 * STATE_MAX_AGE)
    guarded.refused(answer(guarded.mcp, f"{value}:{younger}:{signature}"), INTEGRITY)
    guarded.check()


def test_another_users_state_belongs_to_another_request(guarded, client, bob_key):
    bob = InProcessMCP(client, bob_key)
    bob.rpc("ping")
    before = db_dump()
    guarded.refused(answer(bob, guarded.state), FOREIGN)
    assert db_dump() == before
    guarded.before = before
    guarded.check()


def test_a_state_validly_signed_for_another_user_or_item_belongs_to_another_request(guarded):
    for subject in (
        [f"tool:{TOOL}", 2],
        [f"tool:{TOOL}", None],
        ["tool:count_books", 1],
        [f"prompt:{TOOL}", 1],
        [f"tool:{TOOL}", "1"],
        [f"tool:{TOOL}"],
        None,
        "tool:confirm_then_answer",
    ):
        forged = signing.dumps({"for": subject, "state": {"question": 99}}, salt=STATE_SALT, compress=True)
        guarded.refused(answer(guarded.mcp, forged), FOREIGN)
    # Alice's genuine state on another of her items, a custom tool or a resource.
    guarded.refused(answer(guarded.mcp, guarded.state, tool="count_books"), FOREIGN)
    guarded.refused(
        stateless(
            guarded.mcp,
            "resources/read",
            {"uri": "library://motto", "inputResponses": ANSWER, "requestState": guarded.state},
            "library://motto",
        ),
        FOREIGN,
    )
    guarded.check()


def test_a_state_that_is_not_a_string_is_refused(guarded):
    for state in (5, 1.5, True, {"a": 1}, ["x"], None):
        guarded.refused(answer(guarded.mcp, state), "requestState must be the string the server sent")
    guarded.check()


def test_input_responses_of_the_wrong_shape_are_refused(guarded):
    for responses in ("x", [ANSWER], {"confirm": 1}, {"confirm": [1]}, 5):
        guarded.refused(answer(guarded.mcp, guarded.state, responses=responses), "inputResponses")
    guarded.check()


def test_a_handshake_client_cannot_smuggle_a_state_in(guarded):
    """Without 2026-07-28, a custom tool that asks is a tool error; a forged state changes nothing."""
    forged = signing.dumps({"for": [f"tool:{TOOL}", 1], "state": {"question": 99}}, salt="x")
    reply = guarded.mcp.rpc(
        "tools/call", {"name": TOOL, "arguments": {}, "inputResponses": ANSWER, "requestState": forged}
    )
    result = reply.get("result")
    if result is not None:
        assert result["isError"] is True and "99" not in result["content"][0]["text"], reply
    else:
        assert reply["error"]["code"] == -32602, reply
    guarded.check()
