"""Shared fixtures: the demo library in the test database, keys for its users, an in-process
MCP caller over Django's test client, and a live uvicorn server for the real MCP clients."""

import asyncio
import contextlib
import json
import os
import shutil
import sqlite3
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import call_command
from servers import DEMO, demo_env, free_port, manage, running, serve_uvicorn

# Fails the session if a response or audit line leaks a secret, a traceback, SQL or a path.
pytest_plugins = ["secrets_scan"]

# The suite's tests list and call the demo's tools as they are: discovery off, here and in the
# servers they start (tests of discovery turn it on). Set DEMO_MCP_DISCOVERY to run otherwise.
os.environ.setdefault("DEMO_MCP_DISCOVERY", "off")


# The database the suite runs on: SQLite unless DJANGO_MCP_TEST_DATABASE=postgres, with
# DEMO_DATABASE_URL naming a PostgreSQL database (scripts/test-postgres starts a server for it).
TEST_DATABASE = os.environ.get("DJANGO_MCP_TEST_DATABASE", "sqlite")
ENGINES = {"sqlite": "django.db.backends.sqlite3", "postgres": "django.db.backends.postgresql"}
on_postgres_only = pytest.mark.skipif(TEST_DATABASE != "postgres", reason="PostgreSQL only (scripts/test-postgres)")


def pytest_configure(config):
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if ENGINES.get(TEST_DATABASE) != engine:
        raise pytest.UsageError(
            f"DJANGO_MCP_TEST_DATABASE={TEST_DATABASE!r} but the settings use {engine}: use 'sqlite' (the default) "
            "or 'postgres' with DEMO_DATABASE_URL set (scripts/test-postgres does both)."
        )


@pytest.fixture(autouse=True)
def _fresh_catalogue():
    """Each test derives the catalogue from the settings it runs with."""
    from django_mcp import server

    server.reset()
    yield
    server.reset()


@pytest.fixture(autouse=True)
def _discovery_as_the_run_asks(settings):
    """In process too: the demo's settings were read before this module set the variable."""
    settings.DJANGO_MCP_DISCOVERY = os.environ["DEMO_MCP_DISCOVERY"]


@pytest.fixture
def custom_items():
    """The custom tools, resources and prompts of custom_items.py served beside the demo's."""
    from django.test import override_settings

    from django_mcp import server

    with override_settings(DJANGO_MCP_CUSTOM=["fixtures.custom_items"]):
        server.reset()
        yield
    server.reset()


@pytest.fixture
def library(db, settings, tmp_path):
    # Covers go to a scratch MEDIA_ROOT, not the demo's; a fast hasher keeps seeding cheap.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    _restart_sequences()
    call_command("demo_seed", verbosity=0)


def _restart_sequences():
    """Seeded rows get the same pks on every database: SQLite gives a rolled-back test's ids
    back, PostgreSQL's sequences do not, so they restart after the highest pk left."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    if statements:
        with connection.cursor() as cursor:
            cursor.execute(";".join(statements))


def _key(username, **kwargs):
    from django.contrib.auth.models import User

    from django_mcp.models import MCPAPIKey

    key, secret = MCPAPIKey.objects.create_key(User.objects.get(username=username), name="test", **kwargs)
    return f"{key.key_id}.{secret}"


@pytest.fixture
def alice_key(library):
    """A superuser's credential."""
    return _key("alice")


@pytest.fixture
def bob_key(library):
    """A staff user who may view authors only."""
    return _key("bob")


@pytest.fixture
def make_key(library):
    return _key


class InProcessMCP:
    """Posts JSON-RPC to the endpoint through Django's test client."""

    def __init__(self, client, credential=None, path="/mcp/"):
        self.client = client
        self.credential = credential
        self.path = path
        self._ids = 0

    def post(self, body, headers=None, content_type="application/json"):
        extra = {}
        if self.credential:
            extra["HTTP_AUTHORIZATION"] = f"Bearer {self.credential}"
        for name, value in (headers or {}).items():
            extra["HTTP_" + name.upper().replace("-", "_")] = value
        if not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        return self.client.generic("POST", self.path, body, content_type=content_type, **extra)

    def rpc(self, method, params=None, **kwargs):
        """Send one request and return the decoded JSON-RPC response."""
        self._ids += 1
        message = {"jsonrpc": "2.0", "id": self._ids, "method": method}
        if params is not None:
            message["params"] = params
        response = self.post(message, **kwargs)
        assert response["Content-Type"].startswith("application/json"), response.content
        return response.json()

    def call(self, name, arguments=None):
        """tools/call; returns the tool result (asserting there was no protocol error)."""
        reply = self.rpc("tools/call", {"name": name, "arguments": arguments or {}})
        assert "result" in reply, reply
        return reply["result"]

    def pages(self, method="tools/list"):
        """Every page of a list method's answer, following nextCursor from the first."""
        pages, params = [], {}
        while True:
            result = self.rpc(method, params)["result"]
            pages.append(result)
            if "nextCursor" not in result:
                return pages
            assert isinstance(result["nextCursor"], str) and result["nextCursor"]
            params = {"cursor": result["nextCursor"]}
            assert len(pages) < 1000, "paging does not end"

    def all_tools(self):
        return [tool for page in self.pages() for tool in page["tools"]]


def db_dump(*prefixes, using="default"):
    """Every row of every table (or of the tables whose names start with one of `prefixes`),
    as `{table: [row tuple, …]}` with rows sorted by all their columns: equal dumps mean the
    data did not change."""
    from django.db import connections

    connection = connections[using]
    quote = connection.ops.quote_name
    dump = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            if prefixes and not table.startswith(prefixes):
                continue
            columns = ", ".join(quote(c.name) for c in connection.introspection.get_table_description(cursor, table))
            cursor.execute(f"SELECT {columns} FROM {quote(table)} ORDER BY {columns}")
            dump[table] = [tuple(row) for row in cursor.fetchall()]
    return dump


def rpc_error(response, *, status, code):
    """Assert an HTTP answer carries a JSON-RPC error with this status and code; return the error."""
    assert response.status_code == status, (response.status_code, response.content)
    assert response["Content-Type"].startswith("application/json"), response.content
    body = response.json()
    assert body["jsonrpc"] == "2.0" and "result" not in body, body
    assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture
def mcp(client, alice_key):
    return InProcessMCP(client, alice_key)


@pytest.fixture
def mcp_as(client):
    return lambda credential: InProcessMCP(client, credential)


# --- a live server in its own process, for real MCP clients -----------------------------


def live_database(workdir):
    """Environment entries giving a server of its own an empty database: a SQLite file in
    `workdir`, or a new database on the run's PostgreSQL server."""
    if TEST_DATABASE != "postgres":
        return {"DEMO_DB": str(workdir / "db.sqlite3")}
    import psycopg

    url = urlsplit(os.environ["DEMO_DATABASE_URL"])
    name = f"live_{uuid.uuid4().hex}"
    with psycopg.connect(urlunsplit(url), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return {"DEMO_DATABASE_URL": urlunsplit(url._replace(path=f"/{name}"))}


def live_env(workdir, **extra):
    """`demo_env` with the database of `live_database`: a server of the demo's (or of a project
    built on it, with its DJANGO_SETTINGS_MODULE in `extra`) on the run's database engine."""
    return demo_env(workdir, **live_database(workdir), **extra)


@contextlib.contextmanager
def _live_connection(env):
    """A DB-API connection to the database of the server started with `env` (read only for
    SQLite), and the SQL that lists its tables and a table's columns."""
    if TEST_DATABASE == "postgres":
        import psycopg

        with psycopg.connect(env["DEMO_DATABASE_URL"], autocommit=True) as connection:
            yield (
                connection,
                "%s",
                (
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
                    "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",  # noqa: E501
                ),
            )
    else:
        with contextlib.closing(sqlite3.connect(f"file:{env['DEMO_DB']}?mode=ro", uri=True)) as connection:
            yield (
                connection,
                "?",
                (
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
                    "SELECT name FROM pragma_table_info(?)",
                ),
            )


def live_rows(env, sql, *params):
    """The rows of `sql` (placeholders `?`) on the database of the server started with `env`."""
    with _live_connection(env) as (connection, mark, _):
        if mark == "%s":
            sql = sql.replace("%", "%%")
        return [tuple(row) for row in connection.execute(sql.replace("?", mark), params).fetchall()]


def live_dump(env, leave_out=()):
    """Every row of every table of that database as `{table: [row, …]}`, rows sorted, columns
    named "table.column" in `leave_out` aside: equal dumps mean the data did not change."""
    dump = {}
    with _live_connection(env) as (connection, _, (tables_sql, columns_sql)):
        for (table,) in connection.execute(tables_sql).fetchall():
            columns = [
                c for (c,) in connection.execute(columns_sql, (table,)).fetchall() if f"{table}.{c}" not in leave_out
            ]
            selected = ", ".join(f'"{c}"' for c in columns)
            dump[table] = sorted(
                map(tuple, connection.execute(f'SELECT {selected} FROM "{table}"').fetchall()), key=repr
            )
    return dump


@pytest.fixture(scope="session")
def live_demo(tmp_path_factory):
    """The demo project served by uvicorn on 127.0.0.1, with its own database (`live_database`).

    Yields a dict: url, env (for manage.py and mcp_server), and credentials for alice
    (superuser), bob (may view authors only), a revoked key and an expired key.
    """
    workdir = tmp_path_factory.mktemp("live")
    env = live_env(workdir)
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "demo_seed")
    keys = {
        "alice": manage(env, "mcp_key", "create", "alice", "--name", "live"),
        "bob": manage(env, "mcp_key", "create", "bob", "--name", "live"),
        "revoked": manage(env, "mcp_key", "create", "alice", "--name", "revoked"),
        "expired": manage(env, "mcp_key", "create", "alice", "--name", "expired", "--expires-in", "1"),
    }
    manage(env, "mcp_key", "revoke", keys["revoked"].split(".")[0])
    manage(
        env,
        "shell",
        "-c",
        "from django_mcp.models import MCPAPIKey; from django.utils import timezone; import datetime;"
        f"MCPAPIKey.objects.filter(key_id='{keys['expired'].split('.')[0]}')"
        ".update(expires_at=timezone.now() - datetime.timedelta(days=1))",
    )
    with serve_uvicorn("demo_project.asgi:application", DEMO, env, workdir / "server.log") as url:
        yield {"url": url, "env": env, "keys": keys, "log": workdir / "server.log"}


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A Redis server: DJANGO_MCP_TEST_REDIS_URL's (scripts/test-postgres starts one), else this
    run's own, Debian's redis-server (scripts/test installs it) on 127.0.0.1 and a free port,
    nothing persisted."""
    if os.environ.get("DJANGO_MCP_TEST_REDIS_URL"):
        yield os.environ["DJANGO_MCP_TEST_REDIS_URL"]
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: apt-get install redis-server (scripts/test does)")
    workdir, port = tmp_path_factory.mktemp("redis"), free_port()
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    with running([*command, "--dir", str(workdir)], port, workdir / "redis.log"):
        yield f"redis://127.0.0.1:{port}/0"


async def list_all_tools(client):
    """Every page of tools/list through an `mcp` SDK client; no tool may appear twice."""
    from mcp_types import PaginatedRequestParams

    tools, cursor = [], None
    while True:
        page = await client.session.list_tools(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            names = [t.name for t in tools]
            assert len(names) == len(set(names)), "a tool was listed twice"
            return tools


def post_rpc(url, credential, method, params=None, request_id=1):
    """One JSON-RPC request over HTTP with a key; (HTTP status, decoded JSON body)."""
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            "Authorization": f"Bearer {credential}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def credential(transactional_db):
    """A superuser's key, committed: an ASGI request runs its view on a thread of its own."""
    from django.contrib.auth.models import User

    from django_mcp.models import MCPAPIKey

    user = User.objects.create_superuser("asgi", "asgi@example.com", "x")
    key, secret = MCPAPIKey.objects.create_key(user, name="asgi")
    return f"{key.key_id}.{secret}"


async def post_asgi(application, credential, message):
    """Post `message` to the MCP endpoint through an ASGI `application` in process, as uvicorn
    calls it (a real scope, receive and send; once the answer is complete, a receive still
    waiting is told the client disconnected). Returns the answer's (status, body)."""
    headers = {
        "host": "testserver",
        "content-type": "application/json",
        "authorization": f"Bearer {credential}",
        "mcp-protocol-version": "2025-11-25",
    }
    scope = {
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

    await application(scope, receive, send)
    return answer["status"], answer["body"]
