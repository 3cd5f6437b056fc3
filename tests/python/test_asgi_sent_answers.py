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
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse
from django.test import AsyncClient

from conftest import post_asgi

TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


@pytest.fixture
def collector_off():
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def test_a_page_sent_through_the_asgi_handler_is_not_kept(credential, collector_off):
    async def serve():
        application = ASGIHandler()
        return [await post_asgi(application, credential, TOOLS_LIST) for _ in range(3)]

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
