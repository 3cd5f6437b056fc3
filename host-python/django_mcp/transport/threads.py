"""Long-lived threads for the endpoint's work under ASGI, when DJANGO_MCP_THREADS asks for them.

Django's ASGI handler runs each request's sync view on a thread of its own, and database
connections belong to threads: every MCP request under ASGI opens a connection for its key
check, and on SQLite a new connection reads the whole schema again, so a `ping` costs more the
more models the project has. With DJANGO_MCP_THREADS the endpoint's work runs instead on that
many threads that live as long as the process; each keeps its connections as CONN_MAX_AGE and
CONN_HEALTH_CHECKS allow, closed or checked before and after each request as Django does for
its own request threads (docs/deployment.md says what to set).

Off by default: middleware that watches the request thread's connection
(`connection.execute_wrapper`, query counters, thread-locals) would no longer see the
endpoint's queries. The work also stays on the request's own thread when that thread is in a
transaction already (a test's `TestCase`, `ATOMIC_REQUESTS`): a long-lived thread has a
connection of its own, which would not see that transaction's rows. Under WSGI the request's
thread is long-lived already.
"""

from __future__ import annotations

import contextvars
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections, connections
from django.http import HttpRequest, HttpResponse

from django_mcp import conf

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()

View = Callable[..., HttpResponse]


def on_long_lived_threads(view: View) -> View:
    """`view`, run on one of the long-lived threads when an ASGI server called it."""

    @functools.wraps(view)
    def run(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        threads = int(conf.get("DJANGO_MCP_THREADS"))
        if not threads or not isinstance(request, ASGIRequest) or _in_transaction():
            return view(request, *args, **kwargs)
        # The caller's context variables (correlation id, telemetry span) go along.
        context = contextvars.copy_context()
        return _threads(threads).submit(context.run, _as_a_request, view, request, args, kwargs).result()

    return run


def _as_a_request(view: View, request: HttpRequest, args: tuple, kwargs: dict) -> HttpResponse:
    close_old_connections()
    try:
        return view(request, *args, **kwargs)
    finally:
        close_old_connections()


def _in_transaction() -> bool:
    return any(connection.in_atomic_block for connection in connections.all(initialized_only=True))


def _threads(count: int) -> ThreadPoolExecutor:
    """The process's threads, made on first use (a changed count applies from a restart)."""
    global _pool
    if _pool is None:
        with _pool_lock:
            if _pool is None:
                _pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="django-mcp")
    return _pool
