"""Under ASGI, Django runs each request's sync view on a new thread, and a database connection
belongs to its thread: with DJANGO_MCP_THREADS the endpoint's work runs on long-lived threads
instead, so requests reuse a connection as CONN_MAX_AGE allows — on SQLite a new connection
reads the whole schema again, a cost that grows with the project. The ASGI application is
called in process, one request at a time, as a server would: a new thread per request."""

import asyncio
import json

import pytest
from django.core import checks
from django.core.handlers.asgi import ASGIHandler
from django.db import connections
from django.db.backends.signals import connection_created

from conftest import on_postgres_only, post_asgi
from django_mcp.transport import threads

REQUESTS = 12


def _serve(credential, methods):
    """(answers, connections opened) for `methods` posted one after another."""
    opened = []

    def count(sender, connection, **kwargs):
        opened.append(connection.alias)

    async def run_all():
        application = ASGIHandler()
        answers = [
            await post_asgi(application, credential, {"jsonrpc": "2.0", "id": 1, "method": method})
            for method in methods
        ]
        return [(status, json.loads(body)) for status, body in answers]

    connection_created.connect(count)
    try:
        answers = asyncio.run(run_all())
    finally:
        connection_created.disconnect(count)
    return answers, opened


@pytest.fixture
def conn_max_age(monkeypatch):
    def set_to(seconds):
        # A thread's connection wrapper reads this when it connects.
        monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", seconds)

    yield set_to
    # A persistent connection outlives the test on its long-lived thread: closed here, or the
    # next test would find it open (and PostgreSQL would refuse to drop the test database).
    if threads._pool is not None:
        threads._pool.submit(connections.close_all).result()


@pytest.fixture
def long_lived_threads(settings):
    settings.DJANGO_MCP_THREADS = 4


def test_by_default_each_asgi_request_has_its_own_connection_as_django_gives_it(credential, conn_max_age):
    # Not persistent: a request thread's persistent connection would outlive its thread.
    conn_max_age(0)
    answers, opened = _serve(credential, ["ping"] * REQUESTS)
    assert [status for status, _ in answers] == [200] * REQUESTS
    # The request's own thread, as Django's ASGI handler runs any view: middleware that
    # watches that thread's connection sees the endpoint's queries.
    assert opened.count("default") == REQUESTS


def test_persistent_connections_are_reused_across_asgi_requests(credential, conn_max_age, long_lived_threads):
    conn_max_age(None)
    answers, opened = _serve(credential, ["ping", "tools/list"] * (REQUESTS // 2))
    assert [status for status, _ in answers] == [200] * REQUESTS
    assert all("result" in reply for _, reply in answers)
    # One long-lived thread serves requests that come one at a time: one connection, not one
    # per request.
    assert opened.count("default") == 1


# Django never closes a connection to an in-memory SQLite database (it would lose the data).
@on_postgres_only
def test_without_persistent_connections_each_request_closes_its_own(credential, conn_max_age, long_lived_threads):
    conn_max_age(0)
    answers, opened = _serve(credential, ["ping"] * REQUESTS)
    assert [status for status, _ in answers] == [200] * REQUESTS
    # CONN_MAX_AGE = 0 is honoured: a connection per request, closed after it.
    assert opened.count("default") == REQUESTS


@pytest.mark.parametrize("count", [-1, "8", True, 2.5])
def test_a_thread_count_that_is_not_a_non_negative_integer_is_refused_at_check_time(settings, count):
    settings.DJANGO_MCP_THREADS = count
    messages = [error.msg for error in checks.run_checks() if error.id == "django_mcp.E028"]
    assert messages == ["DJANGO_MCP_THREADS must be a non-negative integer (0: each request's own thread)."]
