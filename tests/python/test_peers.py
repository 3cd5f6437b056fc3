"""Real MCP peers against the demo project served by uvicorn: MCP Inspector's CLI in both
protocol eras, the official TypeScript SDK client, and one client session spread over two
uvicorn worker processes.

Node 22 and the peers come from tests/conformance/node.sh (npm ci, pinned by its lockfile).
The server side is read from the audit log: one JSON line per MCP request."""

import json
import os
import shutil
import subprocess

import anyio
import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client

from conftest import list_all_tools
from servers import DEMO, ROOT, serve_uvicorn
from test_admin_tools import DEMO_TOOLS as ADMIN_TOOLS

CONFORMANCE = ROOT / "tests" / "conformance"
INSPECTOR = CONFORMANCE / "node_modules" / ".bin" / "mcp-inspector"
TS_CLIENT = ROOT / "tests" / "python" / "fixtures" / "peers" / "ts_client.mjs"

DEMO_TOOLS = {"list_library_book", "get_library_book", "list_library_author"}
BOB_TOOLS = {"list_library_author", "get_library_author"}
BOOK_COUNT = 60  # demo_seed's catalogue


@pytest.fixture(scope="session")
def node_env(tmp_path_factory):
    """An environment with Node 22 first on PATH and the MCP peers installed, as CI has it."""
    installed = subprocess.run(
        ["bash", "-c", 'source "$0" >&2 && printf %s "$PATH"', str(CONFORMANCE / "node.sh")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if installed.returncode != 0:
        pytest.fail(
            "tests/conformance/node.sh could not install Node 22 and the MCP peers "
            f"(network? npm?):\n{installed.stderr}"
        )
    path = installed.stdout
    node = shutil.which("node", path=path)
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout if node else ""
    if not version.startswith("v22."):
        pytest.fail(f"tests/conformance/node.sh should put Node 22 first on PATH; found {node!r} {version!r}")
    if not INSPECTOR.exists():
        pytest.fail(f"MCP Inspector is not installed: no {INSPECTOR.relative_to(ROOT)} after node.sh")
    # The Inspector keeps a catalogue and client storage under ~/.mcp-inspector: not the user's.
    return {**os.environ, "PATH": path, "HOME": str(tmp_path_factory.mktemp("node-home"))}


def audit_records(log_path, start=0):
    """(prefix, record) for each audit line the server logged after byte `start`; the prefix is
    what the log format puts first: the level by default, the PID under WORKER_LOG_FORMAT."""
    with open(log_path) as log:
        log.seek(start)
        for line in log:
            prefix, marker, record = line.partition(" django_mcp.audit ")
            if marker and line.endswith("\n"):  # a line still being written is read next time
                yield prefix, json.loads(record)


def methods_logged(log_path, start):
    return [record["method"] for _, record in audit_records(log_path, start)]


# --- MCP Inspector's CLI ----------------------------------------------------------------


def inspector(node_env, live, credential, era, *arguments):
    """One `mcp-inspector --cli` run; returns (exit code, JSON on stdout, error envelope on stderr)."""
    command = [
        str(INSPECTOR),
        "--cli",
        live["url"],
        "--transport",
        "http",
        "--protocol-era",
        era,
        "--header",
        f"Authorization: Bearer {credential}",
        "--stored-auth-only",  # a 401 must fail the run, not start an interactive OAuth login
        "--format",
        "json",
        *arguments,
    ]
    run = subprocess.run(command, env=node_env, capture_output=True, text=True, timeout=60)
    output = json.loads(run.stdout) if run.stdout.strip() else None
    envelopes = [json.loads(line) for line in run.stderr.splitlines() if line.startswith('{"error"')]
    return run.returncode, output, envelopes[-1]["error"] if envelopes else None


# How each era opens, as the server sees it: the handshake, or the stateless revision's discovery.
OPENING = {"legacy": "initialize", "modern": "server/discover"}


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_inspector_lists_and_calls_tools(node_env, live_demo, era):
    alice = live_demo["keys"]["alice"]
    start = live_demo["log"].stat().st_size

    code, listed, error = inspector(node_env, live_demo, alice, era, "--method", "tools/list")
    assert (code, error) == (0, None)
    names = [tool["name"] for tool in listed["result"]["tools"]]
    assert DEMO_TOOLS <= set(names) and len(names) == len(set(names))

    code, called, error = inspector(
        node_env,
        live_demo,
        alice,
        era,
        "--method",
        "tools/call",
        "--tool-name",
        "list_library_book",
        "--tool-args-json",
        '{"page_size": 3}',
    )
    assert (code, error) == (0, None)
    result = called["result"]
    assert result.get("isError") is not True
    assert result["structuredContent"]["count"] == BOOK_COUNT
    assert len(result["structuredContent"]["results"]) == 3

    methods = methods_logged(live_demo["log"], start)
    assert OPENING[era] in methods and {"tools/list", "tools/call"} <= set(methods)
    other_era = "modern" if era == "legacy" else "legacy"
    assert OPENING[other_era] not in methods, methods


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_inspector_as_a_user_who_may_view_authors_only(node_env, live_demo, era):
    bob = live_demo["keys"]["bob"]
    start = live_demo["log"].stat().st_size

    code, listed, _ = inspector(node_env, live_demo, bob, era, "--method", "tools/list")
    # Of the admin's tools, the author ones; the demo's open views are listed too.
    assert code == 0 and {tool["name"] for tool in listed["result"]["tools"]} & ADMIN_TOOLS == BOB_TOOLS

    code, called, error = inspector(
        node_env, live_demo, bob, era, "--method", "tools/call", "--tool-name", "list_library_author"
    )
    assert (code, error) == (0, None) and called["result"]["structuredContent"]["count"] == 3

    # The server lists bob no book tools, and the CLI only calls a tool it was listed: it
    # refuses the call itself (exit 5) and the server never sees it. The -32002 the server
    # answers a direct call with is checked through the TypeScript SDK below.
    code, _, error = inspector(
        node_env, live_demo, bob, era, "--method", "tools/call", "--tool-name", "list_library_book"
    )
    assert code == 5 and error["code"] == "tool_not_found", error
    calls = [
        record["target"] for _, record in audit_records(live_demo["log"], start) if record["method"] == "tools/call"
    ]
    assert calls == ["list_library_author"]


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_inspector_with_a_wrong_key_is_unauthorized(node_env, live_demo, era):
    wrong = live_demo["keys"]["alice"][:-4] + "AAAA"
    start = live_demo["log"].stat().st_size

    code, output, error = inspector(node_env, live_demo, wrong, era, "--method", "tools/list")
    # Exit 3 is the CLI's "authorization required"; the legacy era quotes our JSON-RPC
    # error body (-32001), the modern one the HTTP status of its discovery request.
    assert (code, output) == (3, None) and error["code"] == "auth_required", error
    assert "-32001" in error["message"] or "HTTP 401" in error["message"], error
    statuses = {record["wire_status"] for _, record in audit_records(live_demo["log"], start)}
    assert statuses == {401}


# --- the official TypeScript SDK client -------------------------------------------------


def typescript_session(node_env, live, credential, tool, arguments=None):
    """Run fixtures/peers/ts_client.mjs: connect, list every page, call `tool`, close; its summary."""
    run = subprocess.run(
        ["node", str(TS_CLIENT), live["url"], tool, json.dumps(arguments or {})],
        env={**node_env, "MCP_BEARER": credential},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.stdout.strip(), f"ts_client.mjs printed no summary (exit {run.returncode}):\n{run.stderr}"
    return run.returncode, json.loads(run.stdout)


def test_typescript_sdk_completes_a_session(node_env, live_demo):
    code, summary = typescript_session(
        node_env, live_demo, live_demo["keys"]["alice"], "list_library_book", {"page_size": 3}
    )
    assert code == 0, summary
    assert summary["server"]["name"] == "django-mcp"
    assert summary["protocolVersion"] == "2025-11-25"  # SDK 1.32's newest; it has no stateless era
    assert summary["sessionId"]
    assert DEMO_TOOLS <= set(summary["tools"]) and len(summary["tools"]) == len(set(summary["tools"]))
    assert "result" in summary["call"], summary["call"]
    result = summary["call"]["result"]
    assert result.get("isError") is not True
    page = result["structuredContent"]
    assert page["count"] == BOOK_COUNT and page["page_size"] == 3 and len(page["results"]) == 3
    assert json.loads(result["content"][0]["text"]) == page


def test_typescript_sdk_is_refused_what_the_user_may_not_do(node_env, live_demo):
    code, summary = typescript_session(node_env, live_demo, live_demo["keys"]["bob"], "list_library_book")
    assert code == 0 and set(summary["tools"]) & ADMIN_TOOLS == BOB_TOOLS
    assert summary["call"]["error"]["code"] == -32002, summary["call"]

    code, summary = typescript_session(
        node_env, live_demo, live_demo["keys"]["alice"][:-4] + "AAAA", "list_library_book"
    )
    assert code == 1 and summary["connect"]["code"] == 401, summary


# --- one session, two worker processes ---------------------------------------------------

# The demo's django_mcp log lines start with the PID of the process that served the request.
WORKER_LOG_FORMAT = "%(process)d %(name)s %(message)s"
AT_LEAST, AT_MOST = 20, 60  # requests per session: enough to alternate, bounded either way


@pytest.fixture
def two_workers(live_demo, tmp_path):
    """The live demo's database served by a second uvicorn with two worker processes on one
    port; yields (url, log path)."""
    env = {**live_demo["env"], "DEMO_LOG_LEVEL": "INFO", "DEMO_LOG_FORMAT": WORKER_LOG_FORMAT}
    log = tmp_path / "workers.log"
    with serve_uvicorn("demo_project.asgi:application", DEMO, env, log, "--workers", "2") as url:
        yield url, log


def fresh_connections(credential):
    """Options for an httpx2 client that keeps no connection alive: every request connects
    anew and goes to whichever worker accepts it first. With keep-alive, one connection (so
    one worker) would serve the whole session."""
    return {
        "headers": {"Authorization": f"Bearer {credential}"},
        "timeout": 10,
        "limits": httpx2.Limits(max_keepalive_connections=0),
    }


def workers(log):
    return {pid for pid, _ in audit_records(log)}


def test_a_handshake_session_is_served_by_both_workers(live_demo, two_workers):
    url, log = two_workers
    revision = "2025-11-25"
    with httpx2.Client(**fresh_connections(live_demo["keys"]["alice"])) as http:

        def rpc(message, headers=None):
            return http.post(
                url,
                json={"jsonrpc": "2.0", **message},
                headers={"Accept": "application/json, text/event-stream", **(headers or {})},
            )

        opened = rpc(
            {
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": revision,
                    "capabilities": {},
                    "clientInfo": {"name": "test_peers", "version": "0"},
                },
            }
        )
        assert opened.status_code == 200 and opened.json()["result"]["protocolVersion"] == revision, opened.text
        session = {"Mcp-Session-Id": opened.headers["Mcp-Session-Id"], "MCP-Protocol-Version": revision}
        assert rpc({"method": "notifications/initialized"}, session).status_code == 202

        sent = 0
        while sent < AT_LEAST or (len(workers(log)) < 2 and sent < AT_MOST):
            sent += 1
            if sent % 2:
                reply = rpc({"id": sent, "method": "tools/list"}, session)
                assert reply.status_code == 200 and "result" in reply.json(), reply.text
            else:
                reply = rpc(
                    {
                        "id": sent,
                        "method": "tools/call",
                        "params": {"name": "list_library_book", "arguments": {"page_size": 2, "page": sent % 5 + 1}},
                    },
                    session,
                )
                assert reply.status_code == 200, reply.text
                assert reply.json()["result"]["structuredContent"]["count"] == BOOK_COUNT, reply.text

    served = list(audit_records(log))
    assert [record["method"] for _, record in served][:2] == ["initialize", "notifications/initialized"]
    assert len(served) == sent + 2 and all(record["outcome"] == "allow" for _, record in served), served
    issued_by = served[0][0]
    assert len({pid for pid, _ in served}) == 2, f"one worker answered all {sent} requests"
    # The session id one worker signed at initialize was accepted by the other.
    assert any(pid != issued_by for pid, _ in served[2:])


def test_a_stateless_session_is_served_by_both_workers(live_demo, two_workers):
    url, log = two_workers

    async def session():
        with anyio.fail_after(30):
            async with (
                httpx2.AsyncClient(**fresh_connections(live_demo["keys"]["alice"])) as http,
                Client(streamable_http_client(url, http_client=http), mode="2026-07-28") as client,
            ):
                assert client.protocol_version == "2026-07-28"
                rounds = 0  # a round is every tools/list page and one tools/call
                while rounds < AT_LEAST // 2 or (len(workers(log)) < 2 and rounds < AT_MOST // 2):
                    rounds += 1
                    assert DEMO_TOOLS <= {tool.name for tool in await list_all_tools(client)}
                    page = await client.call_tool("list_library_book", {"page_size": 2, "page": rounds % 5 + 1})
                    assert page.is_error is False and page.structured_content["count"] == BOOK_COUNT

    anyio.run(session)
    served = list(audit_records(log))
    methods = {record["method"] for _, record in served}
    assert methods == {"tools/list", "tools/call"}, "a stateless client sends no handshake"
    assert all(record["outcome"] == "allow" for _, record in served), served
    assert len({pid for pid, _ in served}) == 2, f"one worker answered all {len(served)} requests"
