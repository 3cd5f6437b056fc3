"""Hostile input over STDIO: `stdio.serve` in process, and `manage.py mcp_server` as a real
subprocess with a strict UTF-8 stdin.

Every bad line gets its JSON-RPC error on its own line (a line that is not UTF-8 gets
−32700, as an HTTP body does), the server keeps reading, stdout carries nothing but protocol
messages, the database is unchanged, and a normal request is answered at the end.
"""

import io
import json
import logging
import subprocess
import sys

import pytest
from conftest import db_dump
from servers import DEMO
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from test_hostile_live import database_dump

from django_mcp.models import MCPAPIKey
from django_mcp.transport import stdio

HOSTILE = hypothesis_settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LAST = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": "last",
        "method": "tools/call",
        "params": {"name": "list_library_tag", "arguments": {"page_size": 1}},
    }
)
KNOWN_CODES = {-32700, -32600, -32601, -32602}


@pytest.fixture
def key(alice_key):
    return MCPAPIKey.objects.get(key_id=alice_key.split(".")[0])


def serve_text(key, text):
    out = io.StringIO()
    stdio.serve(key, stdin=io.StringIO(text), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def serve_bytes(key, data):
    """Serve a byte stream, as `sys.stdin` is one: a text layer over bytes."""
    out = io.StringIO()
    stdio.serve(key, stdin=io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"), stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def assert_served_last(replies):
    """Every reply is a JSON-RPC message with a known error or a result; the last request,
    sent after all the hostile lines, is answered in full."""
    for reply in replies:
        assert reply["jsonrpc"] == "2.0" and ("result" in reply) != ("error" in reply), reply
        if "error" in reply:
            assert reply["error"]["code"] in KNOWN_CODES, reply
    assert replies[-1]["id"] == "last" and replies[-1]["result"]["structuredContent"]["count"] == 5, replies[-1]


HOSTILE_LINES = {
    "not json": ("this is not json", -32700),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, -32700),
    "escaped lone surrogate": ('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\\ud800"}}', -32700),
    "raw NUL": ('{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\x00"}}', -32700),
    "batch": (
        json.dumps(
            [
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "tools/call",
                    "params": {"name": "delete_library_tag", "arguments": {"pk": 1}},
                }
            ]
        ),
        -32600,
    ),
    "not an object": ("42", -32600),
    "float id": ('{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600),
    "params not an object": ('{"jsonrpc":"2.0","id":2,"method":"tools/list","params":[1]}', -32602),
    "unknown tool": ('{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"drop_library_book"}}', -32602),
    "traversal": (
        '{"jsonrpc":"2.0","id":4,"method":"resources/read",'
        '"params":{"uri":"django-mcp://field/library.Book/1/../../../etc/passwd"}}',
        -32602,
    ),
    "unknown method": ('{"jsonrpc":"2.0","id":5,"method":"debug/panic"}', -32601),
}


def test_each_hostile_line_gets_its_error_and_the_server_goes_on(key):
    key.touch_last_used()
    before = db_dump()
    lines = [line for line, _code in HOSTILE_LINES.values()]
    replies = serve_text(key, "\n".join([*lines, "", "   ", LAST]) + "\n")
    assert [r["error"]["code"] for r in replies[:-1]] == [code for _line, code in HOSTILE_LINES.values()]
    assert_served_last(replies)
    assert db_dump() == before


def test_tool_errors_and_notifications_over_stdio(key):
    key.touch_last_used()
    before = db_dump()
    lines = [
        json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "tools/call",  # a notification: nothing runs
                "params": {"name": "delete_library_tag", "arguments": {"pk": 1}},
            }
        ),
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "delete_library_book", "arguments": {"pk": "1 OR 1=1"}},
            }
        ),
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "list_auth_user", "arguments": {"filters": {"password__startswith": "md5"}}},
            }
        ),
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 3,
                "method": "tools/call",
                "params": {"name": "list_library_book", "arguments": {"q": "q" * 5_000_000}},
            }
        ),  # no size limit here
        LAST,
    ]
    replies = serve_text(key, "\n".join(lines) + "\n")
    assert [r["id"] for r in replies] == [1, 2, 3, "last"]
    texts = [r["result"]["content"][0]["text"] for r in replies[:3]]
    assert all(r["result"]["isError"] for r in replies[:3])
    assert texts[0].startswith("Invalid arguments: pk: ")
    assert texts[1].startswith("Invalid arguments: filters.password__startswith: ")
    assert texts[2].startswith("Invalid arguments: q: ")
    assert_served_last(replies)
    assert db_dump() == before


INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\x80", b"\xf4\x90\x80\x80"]
NOT_UTF8 = {
    "jsonrpc": "2.0",
    "id": None,
    "error": {"code": -32700, "message": "Parse error: the line is not valid UTF-8"},
}


def test_a_line_that_is_not_utf8_is_a_parse_error_and_the_server_goes_on(key, caplog):
    caplog.set_level(logging.INFO, logger="django_mcp.audit")
    key.touch_last_used()
    before = db_dump()
    ping = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"?"}}'
    data = b"".join(ping.replace(b"?", bad) + b"\n" for bad in INVALID_UTF8) + LAST.encode() + b"\r\n"
    replies = serve_bytes(key, data)
    assert replies[:-1] == [NOT_UTF8] * len(INVALID_UTF8)
    assert_served_last(replies)
    audited = [json.loads(r.getMessage()) for r in caplog.records if r.name == "django_mcp.audit"]
    refusals = [line for line in audited if line["method"] == "<pre-dispatch>"]
    assert len(refusals) == len(INVALID_UTF8)
    assert {(r["transport"], r["outcome"], r["key_id"], r["error_message"]) for r in refusals} == {
        ("stdio", "transport_error", key.key_id, "invalid utf-8")
    }
    assert db_dump() == before


def test_a_text_stream_with_lone_surrogates_is_a_parse_error(key):
    # What a text layer decoding with surrogateescape (the C locale's stdin) makes of bad bytes.
    key.touch_last_used()
    before = db_dump()
    replies = serve_text(
        key, '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\udcff"}}\n\ud800\n' + LAST + "\n"
    )
    assert replies[:-1] == [NOT_UTF8, NOT_UTF8]
    assert_served_last(replies)
    assert db_dump() == before


@HOSTILE
@given(lines=st.lists(st.binary(max_size=60).filter(lambda b: b"\n" not in b), min_size=1, max_size=6))
def test_random_byte_lines_never_stop_the_server(key, lines):
    key.touch_last_used()
    before = db_dump()
    replies = serve_bytes(key, b"\n".join(lines) + b"\n" + LAST.encode() + b"\n")
    assert len(replies) <= len(lines) + 1
    assert_served_last(replies)
    assert db_dump() == before


@HOSTILE
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
        lambda children: st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["jsonrpc", "id", "method", "params", "name", "arguments", "result", "error", "x"]),
            children,
            max_size=4,
        ),
        max_leaves=10,
    )
)
def test_random_json_lines_never_stop_the_server(key, value):
    key.touch_last_used()
    before = db_dump()
    replies = serve_text(key, json.dumps(value) + "\n" + LAST + "\n")
    assert len(replies) <= 2
    assert_served_last(replies)
    assert db_dump() == before


# --- the real command ---------------------------------------------------------------------


def test_the_mcp_server_command_survives_hostile_stdin_under_a_strict_locale(live_demo):
    """`manage.py mcp_server` with stdin decoded strictly (as under en_US.UTF-8): a line that
    is not UTF-8 used to end the server with a UnicodeDecodeError."""
    before = database_dump(live_demo)
    lines = [
        b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\xff"}}',
        b"\xc3\x28",
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "delete_library_book", "arguments": {"pk": "1 OR 1=1"}},
            }
        ).encode(),
        b'{"jsonrpc":"2.0","id":"last","method":"ping"}',
    ]
    env = {**live_demo["env"], "DJANGO_MCP_KEY": live_demo["keys"]["alice"], "PYTHONIOENCODING": "utf-8:strict"}
    done = subprocess.run(
        [sys.executable, "manage.py", "mcp_server"],
        cwd=DEMO,
        env=env,
        input=b"\n".join(lines) + b"\n",
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")[-2000:]
    replies = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert replies[:2] == [NOT_UTF8, NOT_UTF8]
    assert replies[2]["error"]["code"] == -32700
    assert replies[3]["id"] == 2 and replies[3]["result"]["isError"] is True
    assert replies[4] == {"jsonrpc": "2.0", "id": "last", "result": {}}
    assert database_dump(live_demo) == before
