"""`django_mcp.asgi.guard` against the real server (uvicorn serving the demo, `live_demo`): a
body over its cap on the MCP endpoint is answered 413 before the client has sent it, so
Django's handler never read it; everything else is served as before.

Each request is written on a raw socket and sends only the first part of its body, then waits:
an answer can arrive only if nothing waited for the rest.
"""

import asyncio
import json
import socket
from urllib.parse import urlsplit

import pytest

ANONYMOUS_CAP = 64 * 1024
CAP = 4 * 1024 * 1024
HEAD_START = b"x" * 1024
PATIENCE = 5


class Partial:
    """A request whose body is sent only in part; the rest on demand."""

    def __init__(self, live_demo, path, headers, *, declared=None, chunked=None):
        parts = urlsplit(live_demo["url"])
        self.connection = socket.create_connection((parts.hostname, parts.port), timeout=PATIENCE)
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: {parts.hostname}:{parts.port}",
            "Content-Type: application/json",
            "Connection: close",
            *(f"{name}: {value}" for name, value in headers),
        ]
        if chunked is not None:
            head.append("Transfer-Encoding: chunked")
            first = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunked)
        else:
            head.append(f"Content-Length: {declared}")
            first = HEAD_START
        self.connection.sendall("\r\n".join(head).encode() + b"\r\n\r\n" + first)

    def answer(self):
        """(status, body) of the whole answer, read to the end of the connection."""
        received = b""
        try:
            while chunk := self.connection.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # the server closed with the rest of our body unread: its answer came first
        except TimeoutError:
            pytest.fail(f"no answer within {PATIENCE} s: the server is waiting for the rest of the body")
        head, _, body = received.partition(b"\r\n\r\n")
        return int(head.split()[1]), body

    def nothing_yet(self, seconds):
        self.connection.settimeout(seconds)
        try:
            self.connection.recv(1)
        except TimeoutError:
            return True
        finally:
            self.connection.settimeout(PATIENCE)
        return False

    def close(self):
        self.connection.close()


@pytest.fixture
def partial(live_demo):
    opened = []

    def open_request(path="/mcp/", headers=(), **body):
        request = Partial(live_demo, path, headers, **body)
        opened.append(request)
        return request

    yield open_request
    for request in opened:
        request.close()


def too_large(answer, cap):
    status, body = answer
    assert status == 413, body[:300]
    assert json.loads(body) == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32600, "message": f"Request body exceeds {cap} bytes"},
    }


@pytest.mark.parametrize("path", ["/mcp/", "/mcp"])
def test_an_anonymous_4_mib_body_is_413_before_it_is_sent(partial, path):
    too_large(partial(path, declared=CAP).answer(), ANONYMOUS_CAP)


def test_a_body_over_the_cap_with_a_credential_is_413_before_it_is_sent(partial, live_demo):
    bearer = ("Authorization", f"Bearer {live_demo['keys']['alice']}")
    too_large(partial(headers=[bearer], declared=CAP + 1).answer(), CAP)


def test_an_anonymous_chunked_body_is_413_once_past_the_cap(partial):
    too_large(partial(chunked=[b"x" * 60_000, b"x" * 60_000]).answer(), ANONYMOUS_CAP)


def test_a_large_body_within_the_cap_with_a_credential_is_served(live_demo):
    head, tail = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"', b'"}}'
    body = head + b"x" * (4 * ANONYMOUS_CAP) + tail
    parts = urlsplit(live_demo["url"])
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as connection:
        connection.sendall(
            f"POST /mcp/ HTTP/1.1\r\nHost: {parts.hostname}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {live_demo['keys']['alice']}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + body
        )
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, content = received.partition(b"\r\n\r\n")
    assert head.split()[1] == b"200", received[:300]
    assert json.loads(content) == {"jsonrpc": "2.0", "id": 1, "result": {}}


def test_a_large_anonymous_body_for_another_path_is_read_by_django(partial):
    request = partial("/admin/login/", declared=len(HEAD_START) + ANONYMOUS_CAP)
    assert request.nothing_yet(1.0), "answered before the body was sent: not passed through"
    request.connection.sendall(b"x" * ANONYMOUS_CAP)
    status, _body = request.answer()
    assert status == 403  # Django's CSRF check, after it read the body


def test_the_guard_finds_the_endpoint_under_a_script_prefix_and_audits_its_refusal(settings, caplog):
    from django_mcp.asgi import guard

    reached, statuses = [], []

    async def application(scope, receive, send):
        reached.append(scope["path"])

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    def post(path, root_path=""):
        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "root_path": root_path,
            "headers": [(b"content-length", str(CAP).encode())],
        }
        asyncio.run(guard(application)(scope, None, send))

    with caplog.at_level("INFO", logger="django_mcp.audit"):
        post("/prefix/mcp/", root_path="/prefix")
    assert statuses == [413] and not reached
    line = json.loads(caplog.records[-1].getMessage())
    assert (line["method"], line["wire_status"], line["error_message"]) == ("<pre-dispatch>", 413, "body too large")
    post("/prefix/mcp/")
    post("/prefix/admin/", root_path="/prefix")
    settings.FORCE_SCRIPT_NAME = "/forced"
    post("/forced/mcp/")
    assert statuses == [413, 413] and reached == ["/prefix/mcp/", "/prefix/admin/"]
