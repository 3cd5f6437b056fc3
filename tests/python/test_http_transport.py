"""Streamable HTTP in process: routes, methods, Origin, body limits, media type, credentials.

Every refusal is followed by a good request on the same client: a bad request never leaves
the endpoint unable to answer the next one.
"""

import json
from datetime import timedelta

import pytest
from conftest import rpc_error
from django.contrib.auth.models import User
from django.utils import timezone
from django_mcp.models import MCPAPIKey

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


def assert_serving(mcp):
    """A good, authenticated request is answered in full."""
    reply = mcp.rpc("tools/list")
    assert "list_library_book" in [t["name"] for t in reply["result"]["tools"]]


def padded_ping(size):
    """A valid ping message of exactly `size` bytes."""
    head, tail = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"', b'"}}'
    body = head + b"x" * (size - len(head) - len(tail)) + tail
    assert len(body) == size
    return body


# Routes and methods


@pytest.mark.parametrize("path", ["/mcp/", "/mcp"])
def test_post_is_answered_on_both_paths_without_a_redirect(mcp, path):
    mcp.path = path
    response = mcp.post(PING)
    assert response.status_code == 200
    assert response.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert_serving(mcp)


@pytest.mark.parametrize("path", ["/mcp/", "/mcp"])
@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_other_methods_get_405_allowing_post(client, mcp, path, method):
    response = client.generic(method, path)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert_serving(mcp)


# Origin (DNS rebinding)


@pytest.mark.parametrize("origin", ["http://localhost:8000", "http://testserver", "https://127.0.0.1:9443"])
def test_an_origin_in_allowed_hosts_is_served(mcp, origin):
    response = mcp.post(PING, headers={"Origin": origin})
    assert response.status_code == 200
    assert response.json()["result"] == {}


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example", "http://localhost.evil.example", "http://evil.example:8000", "null", "file://"],
)
def test_a_foreign_origin_is_refused_with_403(mcp, origin):
    error = rpc_error(mcp.post(PING, headers={"Origin": origin}), status=403, code=-32600)
    assert "Origin" in error["message"]
    assert_serving(mcp)


def test_csrf_trusted_origins_are_served_with_their_scheme_only(mcp, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.com"]
    assert mcp.post(PING, headers={"Origin": "https://app.example.com"}).status_code == 200
    rpc_error(mcp.post(PING, headers={"Origin": "http://app.example.com"}), status=403, code=-32600)
    assert_serving(mcp)


# Body size, media type, encoding


def test_a_10_mb_body_is_refused_with_413_and_the_server_still_answers(mcp):
    response = mcp.post(padded_ping(10 * 1024 * 1024))
    error = rpc_error(response, status=413, code=-32600)
    assert str(4 * 1024 * 1024) in error["message"]
    assert_serving(mcp)


def test_the_body_limit_is_inclusive(mcp, settings):
    settings.DJANGO_MCP_MAX_BODY_BYTES = 1024
    assert mcp.post(padded_ping(1024)).json() == {"jsonrpc": "2.0", "id": 1, "result": {}}
    rpc_error(mcp.post(padded_ping(1025)), status=413, code=-32600)
    assert_serving(mcp)


def test_a_body_above_djangos_upload_limit_but_within_ours_is_served(mcp, settings):
    """The endpoint reads the stream itself; DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is not its limit."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
    response = mcp.post(padded_ping(3 * 1024 * 1024))
    assert response.status_code == 200
    assert response.json()["result"] == {}


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_a_wrong_content_type_is_refused_with_415(mcp, content_type):
    error = rpc_error(mcp.post(PING, content_type=content_type), status=415, code=-32600)
    assert "application/json" in error["message"]
    assert_serving(mcp)


def test_a_body_without_a_content_type_is_read_as_json(mcp):
    response = mcp.post(PING, content_type="")
    assert response.status_code == 200 and response.json()["result"] == {}


def test_json_with_a_charset_parameter_is_served(mcp):
    response = mcp.post(PING, content_type="application/json; charset=utf-8")
    assert response.json() == {"jsonrpc": "2.0", "id": 1, "result": {}}


def test_a_body_that_is_not_utf8_is_refused_with_400_parse_error(mcp):
    body = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"\xff\xfe"}}'
    error = rpc_error(mcp.post(body), status=400, code=-32700)
    assert "UTF-8" in error["message"]
    assert_serving(mcp)


# Credentials


def test_without_a_key_initialize_works_but_tools_need_a_bearer_token(mcp_as, mcp):
    anonymous = mcp_as(None)
    reply = anonymous.rpc(
        "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    )
    assert reply["result"]["protocolVersion"] == "2025-11-25"

    for method, params in [("tools/list", {}), ("tools/call", {"name": "list_library_book", "arguments": {}})]:
        response = anonymous.post({"jsonrpc": "2.0", "id": 9, "method": method, "params": params})
        error = rpc_error(response, status=401, code=-32001)
        assert response.json()["id"] == 9
        assert "Bearer" in error["message"]
        challenge = response["WWW-Authenticate"]
        assert challenge.startswith("Bearer ")
        assert "error=" not in challenge  # RFC 6750: no error code when no credential was sent
    assert_serving(mcp)


def _revoked(alice_key, make_key):
    credential = make_key("alice")
    MCPAPIKey.objects.get(key_id=credential.split(".")[0]).revoke()
    return credential


BAD_CREDENTIALS = {
    "malformed": lambda alice_key, make_key: "not-a-key",
    "empty secret": lambda alice_key, make_key: alice_key.split(".")[0] + ".",
    "unknown key id": lambda alice_key, make_key: "A" * 24 + "." + "b" * 32,
    "wrong secret": lambda alice_key, make_key: alice_key.split(".")[0] + "." + "x" * 32,
    "revoked": _revoked,
    "expired": lambda alice_key, make_key: make_key("alice", expires_at=timezone.now() - timedelta(seconds=1)),
}


@pytest.mark.parametrize("method", ["initialize", "tools/list"])
@pytest.mark.parametrize("kind", BAD_CREDENTIALS)
def test_an_invalid_key_gets_401_with_a_bearer_challenge(mcp_as, mcp, alice_key, make_key, kind, method):
    credential = BAD_CREDENTIALS[kind](alice_key, make_key)
    response = mcp_as(credential).post({"jsonrpc": "2.0", "id": 1, "method": method, "params": {}})
    rpc_error(response, status=401, code=-32001)
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]
    assert_serving(mcp)


def test_a_non_bearer_authorization_scheme_gets_401(client, mcp):
    response = client.generic(
        "POST",
        "/mcp/",
        json.dumps(PING),
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic YWxpY2U6ZGVtby1wYXNzd29yZA==",
    )
    rpc_error(response, status=401, code=-32001)
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert_serving(mcp)


def test_a_valid_key_of_an_inactive_user_gets_403(mcp_as, make_key, bob_key, settings):
    # bob's admin tools only, not the demo's open views and searches
    settings.DJANGO_MCP_VIEW_INCLUDE, settings.DJANGO_MCP_MODEL_SEARCH = [], []
    credential = make_key("alice")
    User.objects.filter(username="alice").update(is_active=False)
    response = mcp_as(credential).post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    error = rpc_error(response, status=403, code=-32002)
    assert "inactive" in error["message"]
    assert "WWW-Authenticate" not in response
    # bob, still active, is served; his list is his own.
    names = [t["name"] for t in mcp_as(bob_key).all_tools()]
    assert names == ["list_library_author", "get_library_author"]
