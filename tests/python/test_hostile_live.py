"""Hostile HTTP against the real server (uvicorn serving the demo, `live_demo`), written on a
raw socket so that headers can repeat, bodies can be chunked past the limit and bytes can be
anything: what Django's test client cannot send.

Each case asserts the answer, the live database unchanged (read directly, `live_dump`; the keys'
`last_used_at`, written on use, left out) and an ordinary request answered afterwards.
"""

import json
import socket
from urllib.parse import urlsplit

import pytest

from conftest import live_dump

LIMIT = 4 * 1024 * 1024
PING = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'


def database_dump(live_demo):
    """The live database's rows, sorted; the MCP keys' last_used_at aside."""
    return live_dump(live_demo["env"], leave_out={"django_mcp_mcpapikey.last_used_at"})


class Raw:
    """HTTP/1.1 requests written byte by byte to the live server."""

    def __init__(self, live_demo):
        parts = urlsplit(live_demo["url"])
        self.address = (parts.hostname, parts.port)
        self.path = parts.path
        self.alice = live_demo["keys"]["alice"]

    def send(self, headers, body=PING, chunks=None, content_length=True):
        """(status, headers dict with lower-case names, body bytes). `headers`: (name, value)
        pairs, repeats allowed; `chunks`: send the body chunked instead."""
        head = [
            f"POST {self.path} HTTP/1.1".encode(),
            f"Host: {self.address[0]}:{self.address[1]}".encode(),
            b"Content-Type: application/json",
            b"Connection: close",
        ]
        for name, value in headers:
            head.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode("latin-1")))
        if chunks is not None:
            head.append(b"Transfer-Encoding: chunked")
            payload = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"
        else:
            if content_length:
                head.append(b"Content-Length: %d" % len(body))
            payload = body
        with socket.create_connection(self.address, timeout=60) as connection:
            try:
                connection.sendall(b"\r\n".join(head) + b"\r\n\r\n" + payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server may answer and close before it has read everything
            received = b""
            try:
                while chunk := connection.recv(65536):
                    received += chunk
            except ConnectionResetError:
                pass
        status_line, _, rest = received.partition(b"\r\n")
        raw_headers, _, content = rest.partition(b"\r\n\r\n")
        fields = {}
        for line in raw_headers.split(b"\r\n"):
            name, _, value = line.partition(b":")
            fields[name.strip().lower().decode()] = value.strip().decode("latin-1")
        if fields.get("transfer-encoding") == "chunked":
            content = _dechunk(content)
        return int(status_line.split()[1]), fields, content

    def rpc_error(self, answer, *, status, code):
        got_status, fields, content = answer
        assert got_status == status, (got_status, content[:300])
        assert fields["content-type"].startswith("application/json"), fields
        body = json.loads(content)
        assert body["jsonrpc"] == "2.0" and body["error"]["code"] == code, body
        return body["error"]

    def bearer(self, credential=None):
        return ("Authorization", f"Bearer {credential or self.alice}")

    def assert_serving(self):
        status, _fields, content = self.send(
            [self.bearer()],
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 9,
                    "method": "tools/call",
                    "params": {"name": "list_library_tag", "arguments": {"page_size": 1}},
                }
            ).encode(),
        )
        assert status == 200, content[:300]
        assert json.loads(content)["result"]["structuredContent"]["count"] == 5


def _dechunk(data):
    out = b""
    while data:
        size, _, data = data.partition(b"\r\n")
        size = int(size, 16)
        if size == 0:
            break
        out, data = out + data[:size], data[size + 2 :]
    return out


@pytest.fixture
def raw(live_demo):
    raw = Raw(live_demo)
    raw.assert_serving()  # writes alice's last_used_at now, if it is due
    before = database_dump(live_demo)
    yield raw
    raw.assert_serving()
    assert database_dump(live_demo) == before


def test_repeated_authorization_headers_are_401(raw, live_demo):
    for pair in (
        [raw.bearer(), raw.bearer()],
        [raw.bearer(), raw.bearer("A" * 24 + "." + "b" * 32)],
        [raw.bearer("A" * 24 + "." + "b" * 32), raw.bearer()],
        [raw.bearer(), ("Authorization", "Basic x")],
    ):
        answer = raw.send(pair)
        raw.rpc_error(answer, status=401, code=-32001)
        assert answer[1]["www-authenticate"].startswith("Bearer ")
    raw.assert_serving()


def test_repeated_origin_headers_are_403(raw):
    for origins in (
        ["http://localhost", "http://evil.example"],
        ["http://evil.example", "http://localhost"],
        ["http://localhost", "http://localhost"],
        ["http://127.0.0.1", "null"],
    ):
        answer = raw.send([raw.bearer(), *(("Origin", origin) for origin in origins)])
        assert "Origin" in raw.rpc_error(answer, status=403, code=-32600)["message"]


def test_repeated_session_and_version_headers_are_refused(raw):
    status, fields, _content = raw.send(
        [raw.bearer()], b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}'
    )
    session = fields["mcp-session-id"]
    assert status == 200 and raw.send([raw.bearer(), ("Mcp-Session-Id", session)])[0] == 200
    raw.rpc_error(
        raw.send([raw.bearer(), ("Mcp-Session-Id", session), ("Mcp-Session-Id", session)]), status=404, code=-32600
    )
    raw.rpc_error(raw.send([raw.bearer(), ("Mcp-Session-Id", session + "x")]), status=404, code=-32600)
    raw.rpc_error(
        raw.send(
            [raw.bearer(), ("MCP-Protocol-Version", "2025-11-25"), ("MCP-Protocol-Version", "2025-11-25")],
            b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
        ),
        status=400,
        code=-32600,
    )


def test_oversized_headers_are_refused(raw):
    # Up to uvicorn's (h11's) 16 KiB of head, a request reaches Django and is judged there.
    raw.rpc_error(raw.send([raw.bearer("a" * 12_000)]), status=401, code=-32001)
    raw.rpc_error(raw.send([raw.bearer(), ("Mcp-Session-Id", "s" * 12_000)]), status=404, code=-32600)
    raw.rpc_error(raw.send([raw.bearer(), ("Origin", "http://" + "e" * 12_000)]), status=403, code=-32600)
    # Past it the request never reaches Django.
    status, _fields, _content = raw.send([raw.bearer("a" * 200_000)])
    assert status in (400, 431)
    # Many headers are nobody's business but the server's: the request is served.
    status, _fields, content = raw.send([raw.bearer(), *((f"X-{i}", "v") for i in range(1000))])
    assert status == 200 and json.loads(content)["result"] == {}
    # Bytes outside ASCII in a credential: malformed, not a crash.
    raw.rpc_error(raw.send([("Authorization", b"Bearer \xff\xfe")]), status=401, code=-32001)
    assert raw.send([("Authorization", b"Bearer \x00")])[0] == 400  # not even HTTP


def test_a_chunked_body_past_the_limit_is_413_and_one_at_the_limit_is_served(raw):
    head, tail = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"', b'"}}'
    at_limit = head + b"x" * (LIMIT - len(head) - len(tail)) + tail
    pieces = [at_limit[i : i + 1_000_000] for i in range(0, LIMIT, 1_000_000)]
    status, _fields, content = raw.send([raw.bearer()], chunks=pieces)
    assert status == 200 and json.loads(content) == {"jsonrpc": "2.0", "id": 1, "result": {}}
    over = raw.send([raw.bearer()], chunks=[*pieces, b" "])
    assert str(LIMIT) in raw.rpc_error(over, status=413, code=-32600)["message"]
    # Declared too large: refused before the engine, whatever follows.
    raw.rpc_error(raw.send([raw.bearer()], b"x" * (LIMIT + 1)), status=413, code=-32600)


def test_bodies_that_are_not_utf8_or_too_deep_are_parse_errors(raw):
    for body, says in (
        (PING.replace(b"ping", b"p\xffng"), "UTF-8"),
        (PING.replace(b"ping", b"p\xed\xa0\x80ng"), "UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON"),
        (b"\xef\xbb\xbf" + PING, "JSON"),
    ):
        assert says in raw.rpc_error(raw.send([raw.bearer()], body), status=400, code=-32700)["message"]


def test_a_lying_content_length_is_refused_by_the_server(raw):
    status, _fields, _content = raw.send([raw.bearer(), ("Content-Length", "-1")], content_length=False)
    assert status == 400
    status, _fields, _content = raw.send(
        [raw.bearer(), ("Content-Length", "5"), ("Content-Length", "7")], content_length=False
    )
    assert status == 400
