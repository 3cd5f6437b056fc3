"""The official MCP TypeScript SDK's OAuth client (tests/oauth-ts/client.mjs, on Node 22) against
the site as its own authorization server (uvicorn): discovery from the 401, registration (RFC 7591,
or a client metadata document), the authorization URL followed by this test's user agent (login,
approve), the code finished, tools listed and called, a refresh, revocation, and the revoked token
refused. Node 22 and the SDK come from tests/conformance/node.sh, as test_peers.py has them."""

import json
import subprocess

from fixtures.oauth_support import REDIRECT, ROOT, UserAgent, oauth_live
from test_peers import node_env

__all__ = ["node_env", "oauth_live"]  # the fixtures, imported for this module's tests

CLIENT = ROOT / "tests" / "oauth-ts" / "client.mjs"


def typescript_flow(node_env, live, *client_metadata_url):
    """Run client.mjs, playing the browser for each authorization URL it prints; its summary."""
    agent = UserAgent(live["origin"])
    process = subprocess.Popen(
        ["node", str(CLIENT), live["url"], REDIRECT, *client_metadata_url],
        env=node_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stdout:
            message = json.loads(line)
            if "authorize" in message:
                process.stdin.write(agent.authorize(message["authorize"]) + "\n")
                process.stdin.flush()
            elif "summary" in message:
                return message["summary"]
        raise AssertionError(f"client.mjs ended without a summary: {process.stderr.read()}")
    finally:
        agent.close()
        process.kill()
        process.wait(timeout=10)


def assert_complete_flow(live, summary):
    assert "error" not in summary, summary
    assert summary["firstRequest"] == "redirected"
    assert summary["returned"]["iss"] == live["origin"] and "code" in summary["returned"]
    assert summary["scope"] == "mcp:read mcp:write"
    for session in (summary["first"], summary["second"]):
        assert "create_library_tag" in session["tools"] and session["created"] is True
    assert summary["refreshed"] == "AUTHORIZED" and summary["rotated"] is True
    assert summary["revocation"] == 200
    assert summary["afterRevocation"]["status"] == 401
    assert 'error="invalid_token"' in summary["afterRevocation"]["challenge"]


def test_the_typescript_sdk_registers_dynamically_and_completes_the_flow(node_env, oauth_live):
    summary = typescript_flow(node_env, oauth_live)
    assert_complete_flow(oauth_live, summary)
    assert not summary["clientId"].startswith("https://")


def test_the_typescript_sdk_identifies_itself_by_a_client_metadata_document(node_env, oauth_live):
    url = oauth_live["cimd"].publish(
        "clients/typescript-sdk.json",
        {
            "client_name": "TypeScript SDK (metadata document)",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_method": "none",
        },
    )
    summary = typescript_flow(node_env, oauth_live, url)
    assert_complete_flow(oauth_live, summary)
    assert summary["clientId"] == url
