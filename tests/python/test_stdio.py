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
        json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                    "params": {"name": "list_library_tag", "arguments": {"page_size": 2}}}),
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
