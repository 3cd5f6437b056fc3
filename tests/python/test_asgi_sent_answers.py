"""What an answer keeps once it is sent. Django's ASGI handler leaves each response it served in
a reference cycle when the server reports the client gone after the answer (uvicorn does, for
every request): the cycle waits for the cyclic collector, which under load can be hundreds of
requests later. An answer's body is let go as soon as the handler has sent it, so pages do not
wait with it; the test clients, which close a response before a test reads it, still read it.

The ASGI application is called in process with a real scope, receive and send, as uvicorn calls
it, with the cyclic collector off."""

import asyncio
import gc
import json

import pytest
from django.contrib.auth.models import User
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse
from django.test import AsyncClient

from django_mcp.models import MCPAPIKey

TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


@pytest.fixture
def credential(transactional_db):
    user = User.objects.create_superuser("asgi", "asgi@example.com", "x")
    key, secret = MCPAPIKey.objects.create_key(user, name="asgi")
    return f"{key.key_id}.{secret}"


def _scope(credential):
    headers = {
        "host": "testserver",
        "content-type": "application/json",
        "authorization": f"Bearer {credential}",
        "mcp-protocol-version": "2025-11-25",
    }
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/mcp/",
        "raw_path": b"/mcp/",
        "query_string": b"",
        "root_path": "",
        "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _post_as_uvicorn(application, credential, message):
    """The answer's (status, body). As uvicorn: once the answer is complete, a receive still
    waiting is told the client disconnected."""
    body = json.dumps(message).encode()
    delivered, complete = [], asyncio.Event()

    async def receive():
        if not delivered:
            delivered.append(True)
            return {"type": "http.request", "body": body, "more_body": False}
        await complete.wait()
        return {"type": "http.disconnect"}

    answer = {"body": b""}

    async def send(event):
        if event["type"] == "http.response.start":
            answer["status"] = event["status"]
        elif event["type"] == "http.response.body":
            answer["body"] += event.get("body", b"")
            if not event.get("more_body"):
                complete.set()

    await application(_scope(credential), receive, send)
    return answer["status"], answer["body"]


@pytest.fixture
def collector_off():
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_a_page_sent_through_the_asgi_handler_is_not_kept(credential, collector_off):
    async def serve():
        application = ASGIHandler()
        return [await _post_as_uvicorn(application, credential, TOOLS_LIST) for _ in range(3)]

    answers = asyncio.run(serve())
    assert [status for status, _ in answers] == [200] * 3
    pages = {body for _, body in answers}
    assert all(json.loads(page)["result"]["tools"] for page in pages)
    # gc.get_objects() holds what the cyclic collector would look at, collected or not.
    kept = [
        response for response in gc.get_objects() if isinstance(response, HttpResponse) and response.content in pages
    ]
    assert kept == []


def test_the_async_test_client_still_reads_a_page(credential):
    headers = {"authorization": f"Bearer {credential}", "mcp-protocol-version": "2025-11-25"}
    response = asyncio.run(AsyncClient().post("/mcp/", TOOLS_LIST, content_type="application/json", headers=headers))
    assert response.status_code == 200
    assert response.json()["result"]["tools"]
