"""What a caller without a credential can cost: only the methods that need none reach the
engine, an anonymous body is small, and a message reaches the engine unescaped (its step
input stays the body's size, so the fuel it may burn is bounded by the body)."""

import json

import pytest

from conftest import db_dump, rpc_error
from django_mcp import server

CONTROL_CHARACTERS = b"\x01" * (4 * 1024 * 1024 - 1)


class StepRecorder:
    """Receives every load and step of the process's engine (the transcript recorder's hook)."""

    def __init__(self):
        self.inputs = []

    def loaded(self, facts_json, ok, text):
        pass

    def stepped(self, message, output):
        self.inputs.append(message)


@pytest.fixture
def steps(library):
    runtime = server.state.get_runtime()
    recorder = runtime.recorder = StepRecorder()
    yield recorder.inputs
    runtime.recorder = None


NEEDS_A_CREDENTIAL = [
    ("tools/list", {}),
    ("tools/call", {"name": "list_library_book", "arguments": {}}),
    ("resources/list", {}),
    ("resources/templates/list", {}),
    ("resources/read", {"uri": "django-mcp://model/auth.User/1"}),
    ("prompts/list", {}),
    ("prompts/get", {"name": "mark_published_library_book", "arguments": {"pks": "1"}}),
    (
        "completion/complete",
        {
            "ref": {"type": "ref/resource", "uri": "django-mcp://model/auth.User/{pk}"},
            "argument": {"name": "pk", "value": ""},
        },
    ),
    ("debug/spin", {}),
    ("no/such-method", {}),
]


@pytest.mark.parametrize("method, params", NEEDS_A_CREDENTIAL)
def test_without_a_credential_only_the_open_methods_reach_the_engine(mcp_as, steps, caplog, method, params):
    before = db_dump("library", "auth", "django_mcp")
    with caplog.at_level("INFO", logger="django_mcp.audit"):
        response = mcp_as(None).post({"jsonrpc": "2.0", "id": 9, "method": method, "params": params})
    error = rpc_error(response, status=401, code=-32001)
    assert response.json()["id"] == 9 and "Bearer" in error["message"]
    assert response["WWW-Authenticate"].startswith("Bearer ") and "error=" not in response["WWW-Authenticate"]
    assert steps == [], "the engine stepped a request that needs a credential"
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "django_mcp.audit"]
    assert (line["method"], line["outcome"], line["wire_status"], line["error_code"]) == (
        method,
        "unauthenticated",
        401,
        -32001,
    )
    assert db_dump("library", "auth", "django_mcp") == before


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}},
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ],
)
def test_the_open_methods_still_reach_the_engine_without_a_credential(mcp_as, steps, message):
    response = mcp_as(None).post(message)
    assert response.status_code in (200, 202)
    assert len(steps) == 1


def test_an_anonymous_body_over_the_anonymous_cap_is_413_before_the_engine(mcp_as, steps):
    before = db_dump("library", "auth", "django_mcp")
    error = rpc_error(mcp_as(None).post(CONTROL_CHARACTERS), status=413, code=-32600)
    assert error["message"] == f"Request body exceeds {64 * 1024} bytes"
    assert steps == []
    assert db_dump("library", "auth", "django_mcp") == before


def test_a_messages_text_reaches_the_engine_unescaped(mcp, steps):
    # JSON would escape each control character in six bytes: a 4 MiB body, 24 MiB of input
    # and six times the fuel. Passed beside its context, the input is the body's size.
    before = db_dump("library", "auth")
    rpc_error(mcp.post(CONTROL_CHARACTERS), status=400, code=-32700)
    [step] = steps
    assert len(step.encode()) <= len(CONTROL_CHARACTERS) + 4096
    assert db_dump("library", "auth") == before
