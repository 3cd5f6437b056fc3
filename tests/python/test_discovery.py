"""Discovery mode (DJANGO_MCP_DISCOVERY) through the official MCP SDK, against the third-party
project (127 tools for a superuser) under uvicorn with the package's default, "auto": over the
threshold a client sees the meta-tools, finds, describes and calls through them, and gets what
tools/call gives; under it, the full list as without discovery. A caller never finds or calls
through them what their gates or key forbid: a view-only user (victor), an object-restricted
page editor (dave) and an allowlisted key. In process, against the demo: the threshold, and
the audit line of a call through a meta-tool."""

import json
import logging
import subprocess

import anyio
import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from conftest import InProcessMCP, list_all_tools
from servers import serve_uvicorn
from test_peers import TS_CLIENT, node_env  # noqa: F401, F811 (a fixture)
from test_thirdparty_admins import HERE, _manage, _pks, seeded_project

META_TOOLS = ["find_tools", "describe_tools", "call_read_only_tool", "call_tool"]
ALLOWED = ["list_thirdparty_bookmark", "get_thirdparty_bookmark", "update_thirdparty_bookmark"]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("discovery")
    env = seeded_project(workdir, DEMO_MCP_DISCOVERY="auto")
    keys = {who: _manage(env, "mcp_key", "create", who, "--name", "discovery") for who in ("alice", "victor", "dave")}
    keys["allowlisted"] = _manage(
        env, "mcp_key", "create", "alice", "--name", "allowlisted", "--allowed-tools", ",".join(ALLOWED)
    )
    with serve_uvicorn("fixtures.thirdparty.asgi:application", HERE, env, workdir / "server.log") as url:
        yield {"url": url, "keys": keys, "pk": _pks(env)}


def session(live, who, mode="legacy"):
    headers = {"Authorization": f"Bearer {live['keys'][who]}"}
    transport = streamable_http_client(live["url"], http_client=httpx2.AsyncClient(headers=headers, timeout=60))
    return Client(transport, mode=mode)


async def outcome(client, name, arguments):
    """What a call came back with, as comparable values: the result's content, structured
    content and error flag, or the JSON-RPC error's code and message."""
    try:
        result = await client.call_tool(name, arguments)
    except MCPError as error:
        return {"code": error.error.code, "message": error.error.message}
    content = [c.model_dump(mode="json", exclude_none=True) for c in result.content]
    return {"content": content, "structured": result.structured_content, "is_error": result.is_error}


async def found(client, query, **narrowing):
    result = await client.call_tool("find_tools", {"query": query, **narrowing})
    assert result.is_error is False, result
    return result.structured_content["tools"]


def as_user(live, who, body, mode="legacy"):
    async def main():
        async with session(live, who, mode) as client:
            return await body(client)

    return anyio.run(main)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
def test_over_the_threshold_a_client_finds_describes_and_calls_through_the_meta_tools(live, mode):
    pk = live["pk"]

    async def body(client):
        tools = await list_all_tools(client)
        assert [t.name for t in tools] == META_TOOLS
        by_name = {t.name: t for t in tools}
        assert by_name["call_read_only_tool"].annotations.read_only_hint is True
        call = by_name["call_tool"].annotations
        assert (call.read_only_hint, call.destructive_hint, call.idempotent_hint) == (False, True, False)
        if mode == "legacy":  # a pinned 2026-07-28 client skips server/discover
            assert "find_tools" in client.instructions

        matches = await found(client, "add a tag to this bookmark", limit=5)
        assert "update_thirdparty_bookmark" in [m["name"] for m in matches]
        assert set(matches[0]) == {"name", "title", "description", "verb", "model", "readOnly"}
        described = await client.call_tool("describe_tools", {"names": ["update_thirdparty_bookmark", "no_such_tool"]})
        [descriptor] = described.structured_content["tools"]
        assert (
            descriptor["name"] == "update_thirdparty_bookmark" and "fields" in descriptor["inputSchema"]["properties"]
        )
        assert described.structured_content["unavailable"] == ["no_such_tool"]

        # A read and a write: through a meta-tool, exactly what tools/call of the tool gives.
        read = {"pk": pk["bookmark"]}
        assert await outcome(
            client, "call_read_only_tool", {"name": "get_thirdparty_bookmark", "arguments": read}
        ) == await outcome(client, "get_thirdparty_bookmark", read)
        write = {"pk": pk["bookmark"], "fields": {"title": f"Django ({mode})"}}
        through = await outcome(client, "call_tool", {"name": "update_thirdparty_bookmark", "arguments": write})
        assert through["is_error"] is False and through["structured"]["object"]["title"] == f"Django ({mode})"
        assert through == await outcome(client, "update_thirdparty_bookmark", write)
        bad = {"pk": pk["bookmark"], "fields": {"url": "not a url"}}
        assert await outcome(
            client, "call_tool", {"name": "update_thirdparty_bookmark", "arguments": bad}
        ) == await outcome(client, "update_thirdparty_bookmark", bad)
        assert await outcome(client, "call_tool", {"name": "no_such_tool", "arguments": {}}) == await outcome(
            client, "no_such_tool", {}
        )
        refused = await outcome(
            client, "call_read_only_tool", {"name": "update_thirdparty_bookmark", "arguments": write}
        )
        assert refused["is_error"] is True and "not read-only" in refused["content"][0]["text"]

    as_user(live, "alice", body, mode)


def test_the_typescript_sdk_sees_the_meta_tools_and_calls_through_them(node_env, live):  # noqa: F811 (the fixture)
    def ts_client(tool, arguments):
        env = {**node_env, "MCP_BEARER": live["keys"]["alice"]}
        run = subprocess.run(
            ["node", str(TS_CLIENT), live["url"], tool, json.dumps(arguments)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    read = {"pk": live["pk"]["bookmark"]}
    through = ts_client("call_read_only_tool", {"name": "get_thirdparty_bookmark", "arguments": read})
    assert through["tools"] == META_TOOLS
    assert through["call"] == ts_client("get_thirdparty_bookmark", read)["call"]
    assert through["call"]["result"]["structuredContent"]["object"]["id"] == read["pk"]


def test_under_the_threshold_a_client_sees_the_full_list(live):
    async def tool_names(client):
        return [t.name for t in await list_all_tools(client)]

    assert as_user(live, "allowlisted", tool_names) == ALLOWED
    editor = as_user(live, "dave", tool_names)
    assert "pages_update_flatpages_flatpage" in editor and "find_tools" not in editor


def test_a_view_only_user_never_finds_or_calls_a_tool_that_writes(live):
    pk = live["pk"]

    async def body(client):
        for query in ("delete a bookmark", "add a redirect", "edit a flat page", "change the site domain"):
            matches = await found(client, query, limit=20)
            # An admin's create, update and delete need a permission victor lacks (djoser's
            # API lets a user delete themself, and celery beat's actions ask for none: those
            # may be found, as tools/list would show them).
            admin_matches = [m for m in matches if m["model"] is not None]
            assert admin_matches and all(m["readOnly"] for m in admin_matches), (query, matches)
        described = await client.call_tool("describe_tools", {"names": ["delete_thirdparty_bookmark"]})
        assert described.structured_content == {"tools": [], "unavailable": ["delete_thirdparty_bookmark"]}
        delete = {"pk": pk["bookmark"]}
        refused = await outcome(client, "call_tool", {"name": "delete_thirdparty_bookmark", "arguments": delete})
        assert refused["code"] == -32002 and refused == await outcome(client, "delete_thirdparty_bookmark", delete)

    as_user(live, "victor", body)


def test_an_object_restricted_editor_finds_only_their_site_and_is_held_to_their_objects(live):
    pk = live["pk"]

    async def body(client):
        matches = await found(client, "edit a flat page", limit=20)
        names = [m["name"] for m in matches]
        assert "pages_update_flatpages_flatpage" in names and "update_flatpages_flatpage" not in names
        others = {"pk": pk["about"], "fields": {"title": "mine now"}}
        through = await outcome(client, "call_tool", {"name": "pages_update_flatpages_flatpage", "arguments": others})
        assert through.get("is_error") is not False and through == await outcome(
            client, "pages_update_flatpages_flatpage", others
        )
        default_site = {"name": "update_flatpages_flatpage", "arguments": others}
        assert (await outcome(client, "call_tool", default_site))["code"] == -32002

    as_user(live, "dave", body)


def test_an_allowlisted_key_finds_and_calls_only_its_tools(live):
    pk = live["pk"]

    async def body(client):
        for query in ("delete a bookmark", "list users", "add a new bookmark"):
            assert {m["name"] for m in await found(client, query, limit=50)} <= set(ALLOWED), query
        delete = {"pk": pk["bookmark"]}
        refused = await outcome(client, "call_tool", {"name": "delete_thirdparty_bookmark", "arguments": delete})
        assert refused == await outcome(client, "delete_thirdparty_bookmark", delete) and refused["code"] == -32003

    as_user(live, "allowlisted", body)


# --- in process, against the demo ------------------------------------------------------------


@pytest.fixture
def auto(settings):
    settings.DJANGO_MCP_DISCOVERY = "auto"
    return settings


def test_the_threshold_counts_the_tools_a_caller_may_use(client, auto, alice_key, bob_key):
    alice = InProcessMCP(client, alice_key)
    assert [t["name"] for t in alice.rpc("tools/list")["result"]["tools"]] == META_TOOLS
    # bob may view authors only: a handful of tools, listed as they are.
    bob_tools = [t["name"] for t in InProcessMCP(client, bob_key).rpc("tools/list")["result"]["tools"]]
    assert "list_library_author" in bob_tools and "find_tools" not in bob_tools
    auto.DJANGO_MCP_DISCOVERY_THRESHOLD = 1000
    from django_mcp import server

    server.reset()
    everything = [t["name"] for page in alice.pages() for t in page["tools"]]
    auto.DJANGO_MCP_DISCOVERY = "off"
    server.reset()
    assert everything == [t["name"] for page in alice.pages() for t in page["tools"]]
    auto.DJANGO_MCP_DISCOVERY = "always"
    server.reset()
    assert [t["name"] for t in InProcessMCP(client, bob_key).rpc("tools/list")["result"]["tools"]] == META_TOOLS


def test_the_projects_own_custom_tools_are_listed_beside_the_meta_tools(client, auto, alice_key, bob_key, custom_items):
    """Written by hand for agents, they stay in view (those the caller may use); the derived
    bulk is found."""
    listed = [t["name"] for t in InProcessMCP(client, alice_key).rpc("tools/list")["result"]["tools"]]
    assert listed == META_TOOLS + ["count_books", "confirm_then_answer", "staff_only_tool"]
    auto.DJANGO_MCP_DISCOVERY = "always"
    from django_mcp import server

    server.reset()
    # bob lacks library.change_book: the custom tool that needs it is not listed to him.
    listed = [t["name"] for t in InProcessMCP(client, bob_key).rpc("tools/list")["result"]["tools"]]
    assert listed == META_TOOLS + ["count_books", "confirm_then_answer"]
    # More custom tools than the threshold: they are found like the rest.
    auto.DJANGO_MCP_DISCOVERY_THRESHOLD = 2
    server.reset()
    assert [t["name"] for t in InProcessMCP(client, alice_key).rpc("tools/list")["result"]["tools"]] == META_TOOLS


def test_a_call_through_a_meta_tool_is_audited_under_the_real_tools_name(client, auto, alice_key, caplog):
    caplog.set_level(logging.INFO, logger="django_mcp.audit")
    alice = InProcessMCP(client, alice_key)
    through = alice.call("call_read_only_tool", {"name": "list_library_book", "arguments": {"page_size": 2}})
    assert through == alice.call("list_library_book", {"page_size": 2})
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "django_mcp.audit"]
    assert [line["target"] for line in lines] == ["list_library_book", "list_library_book"]


@pytest.mark.parametrize(
    "name, value",
    [
        ("DJANGO_MCP_DISCOVERY", "sometimes"),
        ("DJANGO_MCP_DISCOVERY_THRESHOLD", -1),
        ("DJANGO_MCP_DISCOVERY_THRESHOLD", "40"),
    ],
)
def test_bad_discovery_settings_are_reported_at_startup(settings, name, value):
    from django_mcp.checks import check_settings

    setattr(settings, name, value)
    assert "django_mcp.E023" in [e.id for e in check_settings()]
