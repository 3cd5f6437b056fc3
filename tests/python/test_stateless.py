"""2026-07-28 beside the handshake revisions on one endpoint: server/discover, per-request
_meta, headers that must agree with the body, its error codes and HTTP statuses; and the
handshake clients' signed, never stored session id."""

import pytest

from conftest import rpc_error

META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}


def stateless_post(mcp, method, params=None, headers=None, meta=META):
    body = {"jsonrpc": "2.0", "id": 41, "method": method, "params": {**(params or {}), "_meta": meta}}
    sent = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method, **(headers or {})}
    return mcp.post(body, headers={k: v for k, v in sent.items() if v is not None})


def test_server_discover_needs_no_key_and_names_every_revision(client):
    from conftest import InProcessMCP

    response = stateless_post(InProcessMCP(client), "server/discover")
    result = response.json()["result"]
    assert response.status_code == 200
    assert result["supportedVersions"] == ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"]
    # The demo's admins give tools, model resources, action prompts and completion; no
    # custom handlers, so no log messages.
    assert set(result["capabilities"]) == {"tools", "resources", "prompts", "completions"}
    assert result["resultType"] == "complete" and result["cacheScope"] == "public" and result["ttlMs"] >= 0
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "django-mcp"


def test_stateless_lists_are_private_to_the_caller(mcp):
    result = stateless_post(mcp, "tools/list").json()["result"]
    assert result["cacheScope"] == "private" and result["resultType"] == "complete" and result["tools"]


def test_tools_call_with_matching_headers_runs(mcp):
    response = stateless_post(
        mcp, "tools/call", {"name": "list_library_tag", "arguments": {}}, headers={"Mcp-Name": "list_library_tag"}
    )
    assert response.json()["result"]["structuredContent"]["count"] == 5


@pytest.mark.parametrize(
    "headers, meta, code",
    [
        ({}, {}, -32602),  # no protocol version, no client capabilities
        ({}, {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}, -32602),
        ({"Mcp-Method": "tools/call"}, META, -32020),
        ({"Mcp-Method": None}, META, -32020),
        ({"MCP-Protocol-Version": "2025-11-25"}, {**META}, -32020),  # header and _meta disagree
        (
            {"MCP-Protocol-Version": "2031-01-01"},
            {**META, "io.modelcontextprotocol/protocolVersion": "2031-01-01"},
            -32022,
        ),
    ],
)
def test_malformed_stateless_requests_are_400(mcp, headers, meta, code):
    error = rpc_error(stateless_post(mcp, "tools/list", headers=headers, meta=meta), status=400, code=code)
    if code == -32022:
        assert error["data"]["requested"] == "2031-01-01" and "2026-07-28" in error["data"]["supported"]


def test_mcp_name_must_name_the_tool_and_may_be_base64(mcp):
    def call(name_header):
        return stateless_post(
            mcp, "tools/call", {"name": "list_library_tag", "arguments": {}}, headers={"Mcp-Name": name_header}
        )

    rpc_error(call("list_library_book"), status=400, code=-32020)
    assert call("=?base64?bGlzdF9saWJyYXJ5X3RhZw==?=").status_code == 200


@pytest.mark.parametrize("method", ["initialize", "ping", "logging/setLevel", "resources/subscribe", "no/such"])
def test_removed_and_unknown_methods_are_404(mcp, method):
    rpc_error(stateless_post(mcp, method), status=404, code=-32601)


def test_an_unknown_method_stays_200_for_handshake_clients(mcp):
    # 404 means "session gone" to a handshake client, so it keeps its 200.
    rpc_error(mcp.post({"jsonrpc": "2.0", "id": 1, "method": "no/such"}), status=200, code=-32601)


def test_undeclared_client_capabilities_are_refused_before_the_work(mcp, settings):
    from django.test import override_settings

    from django_mcp import server

    with override_settings(DJANGO_MCP_CUSTOM=["fixtures.custom_items_sampling"]):
        server.reset()
        try:
            refused = stateless_post(
                mcp, "tools/call", {"name": "needs_sampling", "arguments": {}}, headers={"Mcp-Name": "needs_sampling"}
            )
            error = rpc_error(refused, status=400, code=-32021)
            assert error["data"] == {"requiredCapabilities": {"sampling": {}}}
            meta = {**META, "io.modelcontextprotocol/clientCapabilities": {"sampling": {}}}
            allowed = stateless_post(
                mcp,
                "tools/call",
                {"name": "needs_sampling", "arguments": {}},
                headers={"Mcp-Name": "needs_sampling"},
                meta=meta,
            )
            assert allowed.json()["result"]["content"][0]["text"] == "ran"
        finally:
            server.reset()


def test_logging_set_level_is_accepted_and_checked(mcp):
    assert mcp.rpc("logging/setLevel", {"level": "warning"})["result"] == {}
    assert mcp.rpc("logging/setLevel", {"level": "loud"})["error"]["code"] == -32602


def test_initialize_issues_a_signed_session_id_that_is_verified_not_stored(mcp):
    response = mcp.post(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}}
    )
    session = response["Mcp-Session-Id"]
    assert session and all(0x21 <= ord(c) <= 0x7E for c in session)
    assert (
        mcp.post({"jsonrpc": "2.0", "id": 2, "method": "ping"}, headers={"Mcp-Session-Id": session}).status_code == 200
    )
    forged = session[:-2] + ("AA" if not session.endswith("AA") else "BB")
    rpc_error(
        mcp.post({"jsonrpc": "2.0", "id": 3, "method": "ping"}, headers={"Mcp-Session-Id": forged}),
        status=404,
        code=-32600,
    )
    # Stateless requests never get one.
    assert "Mcp-Session-Id" not in stateless_post(mcp, "tools/list")
