"""`manage.py mcp_server`: newline-delimited JSON-RPC; bad lines get errors, the server keeps
serving, and stdout carries nothing but protocol messages."""

import io
import json

import pytest

from django_mcp.models import MCPAPIKey
from django_mcp.transport import stdio


@pytest.fixture
def key(alice_key):
    return MCPAPIKey.objects.get(key_id=alice_key.split(".")[0])


def serve(key, *lines):
    out = io.StringIO()
    stdio.serve(key, stdin=io.StringIO("".join(line + "\n" for line in lines)), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_session_with_bad_lines_in_between(key):
    replies = serve(
        key,
        json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}),
        json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        "this is not json",
        "",
        json.dumps({"jsonrpc": "2.0", "id": None, "method": "ping"}),
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "list_library_tag", "arguments": {"page_size": 2}},
            }
        ),
    )
    assert [r.get("id") for r in replies] == [1, None, None, 2]  # no reply to the notification
    assert replies[0]["result"]["protocolVersion"] == "2025-11-25"
    assert replies[1]["error"]["code"] == -32700
    assert replies[2]["error"]["code"] == -32600
    assert replies[3]["result"]["structuredContent"]["count"] == 5


def test_stray_prints_go_to_stderr_not_the_protocol_stream(key, capsys):
    import sys

    class Noisy(io.StringIO):
        def __iter__(self):
            print("a stray print from project code")
            yield json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}) + "\n"

    out = io.StringIO()
    stdio.serve(key, stdin=Noisy(), stdout=out)
    assert out.getvalue() == '{"id":1,"jsonrpc":"2.0","result":{}}\n'
    assert "stray print" in capsys.readouterr().err
    assert sys.stdout is not sys.stderr


# The key and the user's permissions are read again for every message, as HTTP does.


class Between(io.StringIO):
    """stdin whose lines are read one at a time, running `change` before the second."""

    def __init__(self, first, second, change):
        super().__init__()
        self.messages, self.change = (first, second), change

    def __iter__(self):
        yield json.dumps(self.messages[0]) + "\n"
        self.change()
        yield json.dumps(self.messages[1]) + "\n"


def serve_changing(key, change, second):
    out = io.StringIO()
    stdio.serve(key, stdin=Between({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, second, change), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


LIST_AUTHORS = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "list_library_author", "arguments": {}},
}


@pytest.mark.parametrize(
    "change, code",
    [
        (lambda key: key.revoke(), -32001),
        (lambda key: MCPAPIKey.objects.filter(pk=key.pk).update(expires_at=key.created_at), -32001),
        (lambda key: type(key.user).objects.filter(pk=key.user_id).update(is_active=False), -32002),
    ],
)
def test_a_key_revoked_expired_or_deactivated_mid_session_is_refused_at_the_next_message(key, change, code):
    from conftest import db_dump

    def changed():
        change(MCPAPIKey.objects.get(pk=key.pk))
        state["before"] = db_dump("library", "auth")

    state = {}
    first, second = serve_changing(key, changed, LIST_AUTHORS)
    assert "tools" in first["result"]
    assert second["id"] == 2 and second["error"]["code"] == code and "result" not in second
    assert db_dump("library", "auth") == state["before"]


def test_a_permission_removed_mid_session_is_seen_by_the_next_message(bob_key):
    from django.contrib.auth.models import Permission

    key = MCPAPIKey.objects.get(key_id=bob_key.split(".")[0])
    assert key.user.has_perm("library.view_author")  # fills the user's permission cache

    def remove():
        key.user.user_permissions.remove(Permission.objects.get(codename="view_author"))

    first, second = serve_changing(key, remove, LIST_AUTHORS)
    assert "list_library_author" in {t["name"] for t in first["result"]["tools"]}
    assert second["error"]["code"] == -32002, second
