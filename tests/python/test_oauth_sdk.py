"""The official MCP Python SDK's OAuth client provider against the site as its own
authorization server (uvicorn): discovery from the 401, registration (RFC 7591, or a client
metadata document served over https on 127.0.0.1), authorization (the test's user agent logs
alice in and approves over HTTP), the token, tools/list and a call, a refresh when the token
has expired, revocation, and the revoked token refused."""

import time

import anyio
import httpx2
import pytest
from mcp.client import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientMetadata

from conftest import list_all_tools
from fixtures.oauth_support import REDIRECT, UserAgent, audit_lines, db_dump, mcp_post, oauth_live, redirected_params

__all__ = ["oauth_live"]  # the fixture, imported for this module's tests


class Storage:
    """The SDK's TokenStorage, in memory."""

    def __init__(self):
        self.tokens = self.client_info = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client_info

    async def set_client_info(self, client_info):
        self.client_info = client_info


def provider(live, agent, storage, client_metadata_url=None):
    """The SDK's provider, its browser being `agent`: it follows the authorization URL through
    login and consent, and hands the code in the redirect back to the SDK."""
    redirected = {}

    async def redirect_handler(url):
        redirected.update(redirected_params(await anyio.to_thread.run_sync(agent.authorize, url)))

    async def callback_handler():
        return AuthorizationCodeResult(code=redirected["code"], state=redirected["state"], iss=redirected.get("iss"))

    metadata = OAuthClientMetadata(
        client_name="Python SDK",
        redirect_uris=[REDIRECT],
        token_endpoint_auth_method="none",
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
    )
    return OAuthClientProvider(
        server_url=live["url"],
        client_metadata=metadata,
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
        client_metadata_url=client_metadata_url,
    )


async def session(live, auth, tag):
    """One SDK session: every tools/list page, and a call that writes."""
    transport = streamable_http_client(live["url"], http_client=httpx2.AsyncClient(auth=auth, timeout=30))
    async with Client(transport, mode="legacy") as client:
        tools = {tool.name for tool in await list_all_tools(client)}
        created = await client.call_tool("create_library_tag", {"name": tag, "slug": tag.lower().replace(" ", "-")})
        return tools, created


def full_flow(live, client_metadata_url=None):
    """Discovery → registration → authorize → token → tools/list and a call → refresh → revoke
    → refused. Returns the registered client_id."""
    storage, agent = Storage(), UserAgent(live["origin"])
    auth = provider(live, agent, storage, client_metadata_url)
    try:
        tools, created = anyio.run(session, live, auth, f"SDK {time.monotonic_ns()}")
    finally:
        agent.close()
    assert "create_library_tag" in tools and created.is_error is False
    client_id = storage.client_info.client_id
    line = [line for line in audit_lines(live["log"]) if line["method"] == "tools/call"][-1]
    assert (line["target"], line["oauth_client"]) == ("create_library_tag", client_id)
    first = storage.tokens
    assert first.scope == "mcp:read mcp:write" and first.refresh_token

    # The access token expires: the SDK refreshes before its next request, and gets a new pair.
    auth.context.token_expiry_time = time.time() - 1
    tools, created = anyio.run(session, live, auth, f"SDK {time.monotonic_ns()}")
    assert created.is_error is False
    assert storage.tokens.access_token != first.access_token
    assert storage.tokens.refresh_token != first.refresh_token
    spent = httpx2.post(
        f"{live['origin']}/oauth/token/",
        data={"grant_type": "refresh_token", "refresh_token": first.refresh_token, "client_id": client_id},
    )
    assert spent.json()["error"] == "invalid_grant"

    # Revoked: the endpoint refuses the token, and changes nothing.
    revoked = httpx2.post(
        f"{live['origin']}/oauth/revoke/", data={"token": storage.tokens.access_token, "client_id": client_id}
    )
    assert revoked.status_code == 200
    before = db_dump(live["db"])
    refused = mcp_post(live, storage.tokens.access_token)
    assert refused.status_code == 401 and 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert db_dump(live["db"]) == before
    return client_id


def test_the_python_sdk_registers_dynamically_and_completes_the_flow(oauth_live):
    client_id = full_flow(oauth_live)
    assert not client_id.startswith("https://")  # an RFC 7591 registration's id


def test_the_python_sdk_identifies_itself_by_a_client_metadata_document(oauth_live):
    documents = oauth_live["cimd"]
    url = documents.publish(
        "clients/python-sdk.json",
        {
            "client_name": "Python SDK (metadata document)",
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        },
    )
    assert full_flow(oauth_live, client_metadata_url=url) == url
    # Fetched once, on first sight, then cached.
    assert documents.hits["/clients/python-sdk.json"] == 1


@pytest.fixture(autouse=True)
def _dcr_and_cimd_on(oauth_live):
    """Both registrations are on in oauth_project; the SDK uses a metadata document when it has
    one and the server supports them, else RFC 7591."""
    metadata = httpx2.get(f"{oauth_live['origin']}/.well-known/oauth-authorization-server").json()
    assert metadata["client_id_metadata_document_supported"] and metadata["registration_endpoint"]
