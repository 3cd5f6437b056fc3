"""Shared fixtures: the demo library in the test database, keys for its users, an in-process
MCP caller over Django's test client, and a live uvicorn server for the real MCP clients."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

# Fails the session if a response or audit line leaks a secret, a traceback, SQL or a path.
pytest_plugins = ["secrets_scan"]

# The suite's tests list and call the demo's tools as they are: discovery off, here and in the
# servers they start (tests of discovery turn it on). Set DEMO_MCP_DISCOVERY to run otherwise.
os.environ.setdefault("DEMO_MCP_DISCOVERY", "off")

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo"


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

    with override_settings(DJANGO_MCP_CUSTOM=["custom_items"]):
        server.reset()
        yield
    server.reset()


@pytest.fixture
def library(db, settings, tmp_path):
    # Covers go to a scratch MEDIA_ROOT, not the demo's; a fast hasher keeps seeding cheap.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    call_command("demo_seed", verbosity=0)


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


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env, *args):
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=DEMO, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.fixture(scope="session")
def live_demo(tmp_path_factory):
    """The demo project served by uvicorn on 127.0.0.1, with its own SQLite database.

    Yields a dict: url, env (for manage.py and mcp_server), and credentials for alice
    (superuser), bob (may view authors only), a revoked key and an expired key.
    """
    workdir = tmp_path_factory.mktemp("live")
    env = {
        **os.environ,
        "DEMO_DB": str(workdir / "db.sqlite3"),
        "DEMO_MEDIA": str(workdir / "media"),
        "DEMO_DEBUG": "0",
        "XDG_CACHE_HOME": str(workdir / "cache"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(DEMO), os.environ.get("PYTHONPATH")])),
    }
    _manage(env, "migrate", "--verbosity", "0")
    _manage(env, "demo_seed")
    keys = {
        "alice": _manage(env, "mcp_key", "create", "alice", "--name", "live"),
        "bob": _manage(env, "mcp_key", "create", "bob", "--name", "live"),
        "revoked": _manage(env, "mcp_key", "create", "alice", "--name", "revoked"),
        "expired": _manage(env, "mcp_key", "create", "alice", "--name", "expired", "--expires-in", "1"),
    }
    _manage(env, "mcp_key", "revoke", keys["revoked"].split(".")[0])
    _manage(env, "shell", "-c",
            "from django_mcp.models import MCPAPIKey; from django.utils import timezone; import datetime;"
            f"MCPAPIKey.objects.filter(key_id='{keys['expired'].split('.')[0]}')"
            ".update(expires_at=timezone.now() - datetime.timedelta(days=1))")
    with serve_uvicorn("demo_project.asgi:application", DEMO, env, workdir / "server.log") as url:
        yield {"url": url, "env": env, "keys": keys, "log": workdir / "server.log"}


@contextlib.contextmanager
def serve_uvicorn(application, cwd, env, log_path, *options):
    """Serve `application` with uvicorn on a free 127.0.0.1 port (plus any further uvicorn
    `options`, e.g. "--workers", "2"); yields the MCP URL."""
    port = _free_port()
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", application, "--host", "127.0.0.1", "--port", str(port),
             "--log-level", "warning", *options],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(port, server)
            yield f"http://127.0.0.1:{port}/mcp/"
        finally:
            server.terminate()
            server.wait(timeout=10)


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


def _wait_for_port(port, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the demo server exited during start-up")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the demo server did not start in time")
