"""JSON-RPC framing and the MCP methods, in process: envelopes, handshake, paging, tools/call params."""

import django_mcp
import pytest
from conftest import rpc_error


@pytest.fixture(autouse=True)
def admin_surface_only(settings):
    """These tests are about the admin's tools; the demo's routed views (open to any caller
    unless gated) and search tools have their own tests (test_views.py, test_search.py)."""
    settings.DJANGO_MCP_VIEW_INCLUDE = []
    settings.DJANGO_MCP_MODEL_SEARCH = []


HANDSHAKE_REVISIONS = ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"]
LATEST = "2025-11-25"


# Envelopes


def test_malformed_json_is_a_parse_error_with_http_400(mcp):
    error = rpc_error(mcp.post('{"jsonrpc": "2.0", "id": 1, "method": '), status=400, code=-32700)
    assert mcp.post("{nope").json()["id"] is None
    assert "JSON" in error["message"]


@pytest.mark.parametrize(
    "body, echoed_id",
    [
        pytest.param('[{"jsonrpc":"2.0","id":1,"method":"ping"}]', None, id="batch"),
        pytest.param("[]", None, id="empty batch"),
        pytest.param('"ping"', None, id="not an object"),
        pytest.param('{"jsonrpc":"2.0","id":null,"method":"ping"}', None, id="null id"),
        pytest.param('{"jsonrpc":"2.0","id":1.5,"method":"ping"}', None, id="float id"),
        pytest.param('{"jsonrpc":"2.0","id":true,"method":"ping"}', None, id="boolean id"),
        pytest.param('{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}', None, id="object id"),
        pytest.param('{"jsonrpc":"1.0","id":7,"method":"ping"}', 7, id="jsonrpc 1.0"),
        pytest.param('{"id":"abc","method":"ping"}', "abc", id="no jsonrpc"),
        pytest.param('{"jsonrpc":"2.0","id":7,"method":5}', 7, id="method not a string"),
        pytest.param('{"jsonrpc":"2.0","id":7}', 7, id="no method"),
    ],
)
def test_invalid_requests_are_refused_with_32600_and_http_400(mcp, body, echoed_id):
    response = mcp.post(body)
    error = rpc_error(response, status=400, code=-32600)
    assert error["message"].startswith("Invalid Request")
    assert response.json()["id"] == echoed_id


@pytest.mark.parametrize("params", [[1, 2], "x", 3])
def test_params_that_are_not_an_object_are_invalid_params(mcp, params):
    response = mcp.post({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": params})
    rpc_error(response, status=200, code=-32602)
    assert response.json()["id"] == 3


def test_string_ids_are_echoed(mcp):
    response = mcp.post({"jsonrpc": "2.0", "id": "req-1", "method": "ping"})
    assert response.json() == {"jsonrpc": "2.0", "id": "req-1", "result": {}}


def test_an_unknown_method_is_32601_naming_it(mcp):
    response = mcp.post({"jsonrpc": "2.0", "id": 4, "method": "tools/destroy", "params": {}})
    error = rpc_error(response, status=200, code=-32601)
    assert error["data"] == {"method": "tools/destroy"}
    assert response.json()["id"] == 4


@pytest.mark.parametrize("method", ["debug/panic", "debug/spin", "debug/allocate"])
def test_test_hooks_do_not_exist_unless_enabled(mcp, method):
    response = mcp.post({"jsonrpc": "2.0", "id": 4, "method": method, "params": {}})
    assert rpc_error(response, status=200, code=-32601)["data"] == {"method": method}


@pytest.mark.parametrize("method", ["notifications/initialized", "notifications/cancelled", "notifications/unheard-of"])
@pytest.mark.parametrize("authenticated", [True, False])
def test_notifications_are_accepted_with_202_and_no_body(mcp, mcp_as, method, authenticated):
    caller = mcp if authenticated else mcp_as(None)
    response = caller.post({"jsonrpc": "2.0", "method": method, "params": {}})
    assert response.status_code == 202
    assert response.content == b""


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "id": "s-1", "result": {}},
        {"jsonrpc": "2.0", "id": 5, "error": {"code": -32601, "message": "no"}},
    ],
)
def test_a_clients_response_message_is_accepted_with_202(mcp, message):
    response = mcp.post(message)
    assert response.status_code == 202
    assert response.content == b""


# Handshake and ping


def _initialize(caller, version):
    params = {"capabilities": {}, "clientInfo": {"name": "pytest", "version": "1"}}
    if version is not None:
        params["protocolVersion"] = version
    return caller.rpc("initialize", params)["result"]


@pytest.mark.parametrize("version", HANDSHAKE_REVISIONS)
def test_initialize_echoes_a_supported_revision(mcp_as, version):
    result = _initialize(mcp_as(None), version)
    assert result["protocolVersion"] == version
    assert result["capabilities"]["tools"] == {"listChanged": False}
    assert result["serverInfo"]["name"] == "django-mcp"
    assert result["serverInfo"]["version"] == django_mcp.__version__


@pytest.mark.parametrize("version", ["1999-01-01", "2026-07-28-draft", None])
def test_initialize_offers_the_latest_revision_otherwise(mcp, version):
    assert _initialize(mcp, version)["protocolVersion"] == LATEST


def test_initialize_ignores_the_protocol_version_header(mcp):
    reply = mcp.rpc("initialize", {"protocolVersion": "2025-06-18"}, headers={"MCP-Protocol-Version": "0.0"})
    assert reply["result"]["protocolVersion"] == "2025-06-18"


@pytest.mark.parametrize("authenticated", [True, False])
def test_ping_answers_an_empty_result(mcp, mcp_as, authenticated):
    caller = mcp if authenticated else mcp_as(None)
    reply = caller.rpc("ping")
    assert reply == {"jsonrpc": "2.0", "id": 1, "result": {}}


@pytest.mark.parametrize("version", HANDSHAKE_REVISIONS)
def test_a_supported_protocol_version_header_is_served(mcp, version):
    reply = mcp.rpc("tools/list", headers={"MCP-Protocol-Version": version})
    assert reply["result"]["tools"]


@pytest.mark.parametrize("method", ["ping", "tools/list"])
def test_an_unsupported_protocol_version_header_is_400(mcp, method):
    response = mcp.post({"jsonrpc": "2.0", "id": 2, "method": method}, headers={"MCP-Protocol-Version": "2099-01-01"})
    error = rpc_error(response, status=400, code=-32600)
    assert "2099-01-01" in error["message"]
    assert response.json()["id"] == 2


# tools/list paging


@pytest.mark.parametrize("page_size", [2, 3, 10, 100])
def test_tools_list_pages_cover_every_tool_once(mcp, settings, page_size):
    everything = [t["name"] for t in mcp.pages()[0]["tools"]]
    # The default page size holds the demo's whole catalogue: five admins with list, get,
    # create, update, delete and delete_selected each, and the book admin's mark_published.
    assert len(everything) == 31
    sizes = [page_size] * (31 // page_size) + ([31 % page_size] if 31 % page_size else [])

    settings.DJANGO_MCP_PAGE_SIZE = page_size
    pages = mcp.pages()
    assert [len(p["tools"]) for p in pages] == sizes
    names = [t["name"] for p in pages for t in p["tools"]]
    assert names == everything  # same order, no duplicates, nothing left out
    for page in pages[:-1]:
        assert set(page) == {"tools", "nextCursor"}
    assert set(pages[-1]) == {"tools"}  # the last page has no nextCursor key at all (not null)


def test_paging_applies_to_what_the_caller_may_see(mcp_as, bob_key, settings):
    settings.DJANGO_MCP_PAGE_SIZE = 1
    pages = mcp_as(bob_key).pages()
    assert [[t["name"] for t in p["tools"]] for p in pages] == [["list_library_author"], ["get_library_author"]]


@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_pages_of_scattered_tools_are_full_and_end_where_they_end(mcp_as, make_key, settings, page_size):
    # A key allowed tools far apart in the catalogue: each page asks about a window of tools
    # at a time, and still every page but the last is full and no page is empty.
    allowed = [
        "list_auth_group",
        "delete_auth_user",
        "get_library_author",
        "update_library_book",
        "mark_published_library_book",
    ]
    mcp = mcp_as(make_key("alice", allowed_tools=allowed))
    settings.DJANGO_MCP_PAGE_SIZE = 100
    everything = [t["name"] for t in mcp.pages()[0]["tools"]]
    assert sorted(everything) == sorted(allowed)
    settings.DJANGO_MCP_PAGE_SIZE = page_size
    pages = [[t["name"] for t in p["tools"]] for p in mcp.pages()]
    assert [name for page in pages for name in page] == everything
    assert all(len(page) == page_size for page in pages[:-1]) and 0 < len(pages[-1]) <= page_size


@pytest.mark.parametrize("cursor", ["garbage", "o", "o-1", "", 5, ["o2"]])
def test_a_bad_cursor_is_invalid_params(mcp, cursor):
    response = mcp.post({"jsonrpc": "2.0", "id": 6, "method": "tools/list", "params": {"cursor": cursor}})
    error = rpc_error(response, status=200, code=-32602)
    assert "cursor" in error["message"]


# tools/call params


def test_an_unknown_tool_is_invalid_params_naming_it(mcp):
    response = mcp.post(
        {"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "drop_library_book", "arguments": {}}}
    )
    error = rpc_error(response, status=200, code=-32602)
    assert error["data"] == {"name": "drop_library_book"}
    assert "drop_library_book" in error["message"]


@pytest.mark.parametrize("params", [{}, {"name": 5}, {"arguments": {}}])
def test_a_call_without_a_tool_name_is_invalid_params(mcp, params):
    response = mcp.post({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": params})
    error = rpc_error(response, status=200, code=-32602)
    assert "name" in error["message"]


@pytest.mark.parametrize("arguments", [[1], "page=2", 3, True])
def test_arguments_that_are_not_an_object_are_invalid_params(mcp, arguments):
    response = mcp.post(
        {
            "jsonrpc": "2.0",
            "id": 8,
            "method": "tools/call",
            "params": {"name": "list_library_book", "arguments": arguments},
        }
    )
    error = rpc_error(response, status=200, code=-32602)
    assert "arguments" in error["message"]


@pytest.mark.parametrize("arguments", [None, "omitted"])
def test_absent_or_null_arguments_mean_none(mcp, arguments):
    params = {"name": "list_library_author"}
    if arguments != "omitted":
        params["arguments"] = arguments
    result = mcp.rpc("tools/call", params)["result"]
    assert result["isError"] is False
    assert result["structuredContent"]["count"] == 3


def test_a_call_carrying_meta_is_served(mcp):
    """Clients put a progress token in params._meta; it does not disturb the call."""
    reply = mcp.rpc("tools/call", {"name": "list_library_tag", "arguments": {}, "_meta": {"progressToken": "p1"}})
    assert reply["result"]["isError"] is False
    assert reply["result"]["structuredContent"]["count"] == 5
