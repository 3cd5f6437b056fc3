"""The official MCP Python SDK against the demo project: over streamable HTTP (uvicorn, a
separate process on 127.0.0.1) and over STDIO (`manage.py mcp_server`)."""

import sys

import anyio
import httpx2
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from conftest import list_all_tools
from servers import DEMO
from test_admin_tools import DEMO_TOOLS


def http_client(live, credential, mode="legacy"):
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    transport = streamable_http_client(live["url"], http_client=httpx2.AsyncClient(headers=headers, timeout=30))
    return Client(transport, mode=mode)


def stdio_session(live, credential):
    params = StdioServerParameters(
        command=sys.executable,
        args=["manage.py", "mcp_server"],
        cwd=str(DEMO),
        env={**live["env"], "DJANGO_MCP_KEY": credential},
    )
    return Client(stdio_client(params), mode="legacy")


async def exercise(client):
    """initialize or server/discover (done on entry), ping where the revision has it, every
    tools/list page, a list and a retrieve."""
    if client.mode != "2026-07-28":  # a pinned client skips server/discover
        assert client.server_info.name == "django-mcp"
    if client.protocol_version != "2026-07-28":  # ping exists in the handshake revisions
        await client.send_ping()
    tools = await list_all_tools(client)
    names = {t.name for t in tools}
    assert {"list_library_book", "get_library_book", "list_library_author"} <= names
    listed = await client.call_tool("list_library_book", {"page_size": 5, "filters": {"status": "published"}})
    assert listed.is_error is False
    page = listed.structured_content
    assert len(page["results"]) == 5 and page["count"] == 20
    assert all(row["status"] == "published" for row in page["results"])
    first = page["results"][0]["id"]
    got = await client.call_tool("get_library_book", {"pk": first})
    assert got.is_error is False
    assert got.structured_content["object"]["id"] == first
    return names


@pytest.mark.parametrize(
    "mode, revision", [("legacy", "2025-11-25"), ("auto", "2026-07-28"), ("2026-07-28", "2026-07-28")]
)
def test_sdk_over_streamable_http(live_demo, mode, revision):
    """The SDK's handshake era, its probing mode (which finds 2026-07-28 through
    server/discover) and its stateless era, on the same endpoint."""

    async def main():
        async with http_client(live_demo, live_demo["keys"]["alice"], mode) as client:
            assert client.protocol_version == revision
            return await exercise(client)

    assert "get_auth_user" in anyio.run(main)


def test_sdk_over_stdio(live_demo):
    async def main():
        async with stdio_session(live_demo, live_demo["keys"]["alice"]) as client:
            return await exercise(client)

    anyio.run(main)


@pytest.mark.parametrize("which", ["missing", "wrong", "revoked", "expired"])
def test_refused_keys(live_demo, which):
    credential = {
        "missing": None,
        "wrong": live_demo["keys"]["alice"][:-4] + "AAAA",
        "revoked": live_demo["keys"]["revoked"],
        "expired": live_demo["keys"]["expired"],
    }[which]

    async def main():
        async with http_client(live_demo, credential) as client:
            await client.list_tools()

    with pytest.raises(Exception) as raised:
        anyio.run(main)
    codes = {e.error.code for e in leaf_errors(raised.value) if isinstance(e, MCPError)}
    assert codes == {-32001}, repr(raised.value)


def leaf_errors(exc):
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from leaf_errors(inner)
    else:
        yield exc


def test_stdio_refuses_a_revoked_key(live_demo):
    import subprocess

    result = subprocess.run(
        [sys.executable, "manage.py", "mcp_server"],
        cwd=DEMO,
        env={**live_demo["env"], "DJANGO_MCP_KEY": live_demo["keys"]["revoked"]},
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "revoked" in result.stderr
    assert result.stdout == ""


def test_a_user_without_permission_is_refused_on_that_model(live_demo):
    async def main():
        async with http_client(live_demo, live_demo["keys"]["bob"]) as client:
            names = {t.name for t in await list_all_tools(client)}
            # Of the admin's tools, the author ones; the demo's open views are listed too.
            assert names & DEMO_TOOLS == {"list_library_author", "get_library_author"}
            authors = await client.call_tool("list_library_author", {})
            assert authors.structured_content["count"] == 3
            with pytest.raises(MCPError) as denied:
                await client.call_tool("list_library_book", {})
            assert denied.value.error.code == -32002

    anyio.run(main)
