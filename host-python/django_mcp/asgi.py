"""Refuse an oversized MCP body before Django's ASGI handler reads it.

Django's ASGIHandler reads a request's whole body (spooled to disk past
FILE_UPLOAD_MAX_MEMORY_SIZE) before any view runs, so the endpoint's own size check comes
after the cost it is there to bound. In the project's asgi.py:

    application = django_mcp.asgi.guard(get_asgi_application())

A request for the MCP endpoint whose body is over its cap (DJANGO_MCP_ANONYMOUS_MAX_BODY_BYTES
without Authorization, DJANGO_MCP_MAX_BODY_BYTES with) is answered 413 as the view answers it:
on its Content-Length before any of it is read, or, without one (chunked), once what arrived
passes the cap. Everything else passes through untouched. The endpoint is found through
ROOT_URLCONF, and only for a body over a cap, so there is nothing to configure.
"""

import inspect
import logging

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import get_script_prefix
from django.urls import Resolver404, resolve

from django_mcp import conf
from django_mcp.seam import RefusalKind

logger = logging.getLogger("django_mcp.asgi")


def guard(application):
    """`application` (Django's ASGI handler) behind the MCP endpoint's body caps."""
    _ready_refusals()

    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await application(scope, receive, send)
        credential_sent, declared_length = _credential_and_length(scope["headers"])
        cap = int(conf.get("DJANGO_MCP_MAX_BODY_BYTES" if credential_sent else "DJANGO_MCP_ANONYMOUS_MAX_BODY_BYTES"))
        if declared_length is None:
            return await _within_cap_as_it_arrives(application, scope, receive, send, cap)
        # The server delivers no more than Content-Length, so a declared length within the cap
        # needs no counting.
        if declared_length > cap and _is_mcp_endpoint(scope):
            return await _refuse(send, cap)
        return await application(scope, receive, send)

    return guarded


def _ready_refusals():
    """The 413 is the engine's: its instance is readied as the application is built, so that a
    refusal never waits for the engine to compile (a cold process's first request would, with
    the client's body held back meanwhile). A failure is left for that refusal to report."""
    from django_mcp import server

    try:
        server.state.ready_refusals()
    except Exception:
        logger.exception("django_mcp.asgi.guard: the engine could not be readied")


def _credential_and_length(headers):
    """Whether Authorization was sent (even empty, as the view judges it), and Content-Length."""
    credential_sent, length = False, None
    for name, value in headers:
        if name == b"authorization":
            credential_sent = True
        elif name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
    return credential_sent, length


def _is_mcp_endpoint(scope):
    from django_mcp import routing
    from django_mcp.transport import mcp_endpoint

    routing.accept_slashless_endpoint()  # so that "/mcp" resolves before the first request did
    path_info = scope["path"].removeprefix(get_script_prefix(scope))
    try:
        view = resolve(path_info).func
    except Resolver404:
        return False
    return inspect.unwrap(view, stop=lambda function: function is mcp_endpoint) is mcp_endpoint


async def _within_cap_as_it_arrives(application, scope, receive, send, cap):
    """A body without Content-Length: once what arrived passes the cap on the MCP endpoint, the
    application is told the client left (Django's handler then returns without answering) and
    the 413 is sent in its place."""
    received, over_cap, endpoint, response_started = 0, False, None, False

    async def receive_within_cap():
        nonlocal received, over_cap, endpoint
        if over_cap:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > cap:
                if endpoint is None:
                    endpoint = _is_mcp_endpoint(scope)
                if endpoint:
                    over_cap = True
                    return {"type": "http.disconnect"}
        return message

    async def send_noting_start(message):
        nonlocal response_started
        response_started = response_started or message["type"] == "http.response.start"
        await send(message)

    await application(scope, receive_within_cap, send_noting_start)
    if over_cap and not response_started:
        await _refuse(send, cap)


async def _refuse(send, cap):
    from django_mcp import server

    # In a worker thread: the refusal is the engine's, whose first use compiles it.
    outcome = await sync_to_async(server.refuse, thread_sensitive=False)(
        {"kind": RefusalKind.BODY_TOO_LARGE, "limit": cap}, transport="http"
    )
    body = outcome.reply or b""
    await send(
        {
            "type": "http.response.start",
            "status": outcome.http_status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The server closes the connection instead of reading the unread rest to keep it alive.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
