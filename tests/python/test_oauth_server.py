"""The site as its own OAuth authorization server (DJANGO_MCP_OAUTH["server"], on
django-oauth-toolkit), over HTTP against uvicorn: discovery, registration (RFC 7591 and client
metadata documents), the code flow with PKCE, tokens at the MCP endpoint, refresh, revocation,
and every refusal with its status, its WWW-Authenticate and the database unchanged."""

import contextlib
import datetime
import hashlib
import sqlite3
import time

import httpx2
import pytest

from servers import manage

from fixtures.oauth_support import (
    REDIRECT,
    UserAgent,
    audit_lines,
    authorize_url,
    db_dump,
    hidden_fields,
    mcp_post,
    oauth_live,
    pkce,
    oauth_server,
    redirected_params,
    register,
    sql,
    tokens,
)

__all__ = ["oauth_live"]  # the fixture, imported for this module's tests

INVALID_TOKEN = (
    'Bearer realm="django-mcp", error="invalid_token", resource_metadata="{metadata}", scope="mcp:read mcp:write"'
)


def metadata_url(live):
    return f"{live['origin']}/.well-known/oauth-protected-resource/mcp"


def assert_invalid_token(live, response):
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN.format(metadata=metadata_url(live))
    assert response.json()["error"]["code"] == -32001


def public_client(live, **metadata):
    response = register(live, **metadata)
    assert response.status_code == 201, response.text
    return response.json()


# --- discovery ----------------------------------------------------------------------------


def test_a_request_without_a_token_is_pointed_to_the_sites_own_authorization_server(oauth_live):
    response = httpx2.post(oauth_live["url"] + "/", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer realm="django-mcp", resource_metadata="{metadata_url(oauth_live)}", scope="mcp:read mcp:write"'
    )

    resource = httpx2.get(metadata_url(oauth_live)).json()
    assert resource == {
        "resource": oauth_live["url"],
        "authorization_servers": [oauth_live["origin"]],
        "bearer_methods_supported": ["header"],
        "scopes_supported": ["mcp:read", "mcp:write"],
    }

    server = httpx2.get(f"{oauth_live['origin']}/.well-known/oauth-authorization-server").json()
    origin = oauth_live["origin"]
    assert server["issuer"] == origin
    assert (
        server["authorization_endpoint"],
        server["token_endpoint"],
        server["revocation_endpoint"],
        server["registration_endpoint"],
    ) == (
        f"{origin}/oauth/authorize/",
        f"{origin}/oauth/token/",
        f"{origin}/oauth/revoke/",
        f"{origin}/oauth/register/",
    )
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert server["response_types_supported"] == ["code"]
    assert server["grant_types_supported"] == ["authorization_code", "refresh_token"]
    assert server["scopes_supported"] == ["mcp:read", "mcp:write"]
    assert server["client_id_metadata_document_supported"] is True
    assert "none" in server["token_endpoint_auth_methods_supported"]


# --- the code flow, a token at the endpoint, refresh, revocation ---------------------------


def test_a_registered_client_gets_a_token_that_acts_for_the_user_then_refreshes_and_is_revoked(oauth_live):
    client = public_client(oauth_live, client_name="Flow client")
    assert client["token_endpoint_auth_method"] == "none" and "client_secret" not in client
    issued = tokens(oauth_live, client["client_id"])
    assert issued["token_type"] == "Bearer" and issued["scope"] == "mcp:read mcp:write"

    listed = mcp_post(oauth_live, issued["access_token"])
    assert listed.status_code == 200, listed.text
    assert "create_library_tag" in {tool["name"] for tool in listed.json()["result"]["tools"]}
    created = mcp_post(
        oauth_live,
        issued["access_token"],
        "tools/call",
        {"name": "create_library_tag", "arguments": {"name": "Via OAuth", "slug": "via-oauth"}},
    )
    assert created.json()["result"].get("isError") is not True, created.text

    # Audit lines name the client and the user, as they name a key.
    line = audit_lines(oauth_live["log"])[-1]
    assert (line["method"], line["target"], line["key_id"], line["oauth_client"]) == (
        "tools/call",
        "create_library_tag",
        None,
        client["client_id"],
    )
    assert line["user_id"] is not None

    # Refresh: a new pair; the refresh token used is spent, the old access token too.
    refreshed = refresh(oauth_live, client["client_id"], issued["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    renewed = refreshed.json()
    assert renewed["access_token"] != issued["access_token"] and renewed["refresh_token"] != issued["refresh_token"]
    assert mcp_post(oauth_live, renewed["access_token"]).status_code == 200
    assert_invalid_token(oauth_live, mcp_post(oauth_live, issued["access_token"]))

    # Revoked: refused at the endpoint (the refresh token goes with it).
    revoked = httpx2.post(
        f"{oauth_live['origin']}/oauth/revoke/",
        data={"token": renewed["access_token"], "client_id": client["client_id"]},
    )
    assert revoked.status_code == 200
    before = db_dump(oauth_live["db"])
    assert_invalid_token(oauth_live, mcp_post(oauth_live, renewed["access_token"]))
    assert refresh(oauth_live, client["client_id"], renewed["refresh_token"]).json()["error"] == "invalid_grant"
    assert db_dump(oauth_live["db"]) == before


def test_a_spent_refresh_token_replayed_revokes_what_it_was_refreshed_into(oauth_live):
    """Refresh tokens rotate; one replayed after use (stolen, most likely) revokes its family."""
    client = public_client(oauth_live)
    issued = tokens(oauth_live, client["client_id"])
    renewed = refresh(oauth_live, client["client_id"], issued["refresh_token"]).json()
    assert mcp_post(oauth_live, renewed["access_token"]).status_code == 200
    assert refresh(oauth_live, client["client_id"], issued["refresh_token"]).json()["error"] == "invalid_grant"
    assert_invalid_token(oauth_live, mcp_post(oauth_live, renewed["access_token"]))
    assert refresh(oauth_live, client["client_id"], renewed["refresh_token"]).json()["error"] == "invalid_grant"


def refresh(live, client_id, refresh_token):
    return httpx2.post(
        f"{live['origin']}/oauth/token/",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
    )


def test_a_token_acts_with_its_users_own_permissions(oauth_live):
    client = public_client(oauth_live)
    bob = tokens(oauth_live, client["client_id"], username="bob")
    names = {tool["name"] for tool in mcp_post(oauth_live, bob["access_token"]).json()["result"]["tools"]}
    assert {"list_library_author", "get_library_author"} <= names and "list_library_book" not in names


# --- refusals at the MCP endpoint ----------------------------------------------------------


def test_a_token_for_another_resource_is_refused(oauth_live):
    client = public_client(oauth_live)
    foreign = tokens(oauth_live, client["client_id"], resource="https://other.example.com/mcp")
    before = db_dump(oauth_live["db"])
    assert_invalid_token(
        oauth_live,
        mcp_post(
            oauth_live,
            foreign["access_token"],
            "tools/call",
            {"name": "create_library_tag", "arguments": {"name": "Foreign", "slug": "foreign"}},
        ),
    )
    assert db_dump(oauth_live["db"]) == before


def test_an_expired_token_is_refused(oauth_live):
    client = public_client(oauth_live)
    issued = tokens(oauth_live, client["client_id"])
    assert mcp_post(oauth_live, issued["access_token"]).status_code == 200
    past = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)).isoformat(" ")
    sql(
        oauth_live["db"],
        "UPDATE oauth2_provider_accesstoken SET expires = ? WHERE application_id = "
        "(SELECT id FROM oauth2_provider_application WHERE client_id = ?)",
        past,
        client["client_id"],
    )
    before = db_dump(oauth_live["db"])
    assert_invalid_token(
        oauth_live,
        mcp_post(
            oauth_live,
            issued["access_token"],
            "tools/call",
            {"name": "create_library_tag", "arguments": {"name": "Expired", "slug": "expired"}},
        ),
    )
    assert db_dump(oauth_live["db"]) == before


def test_a_registration_access_token_is_no_mcp_token(oauth_live):
    client = public_client(oauth_live)
    assert_invalid_token(oauth_live, mcp_post(oauth_live, client["registration_access_token"]))


def test_a_read_token_may_read_and_is_refused_a_write_with_a_step_up_challenge(oauth_live):
    client = public_client(oauth_live)
    read = tokens(oauth_live, client["client_id"], scope="mcp:read")
    assert read["scope"] == "mcp:read"
    listed = mcp_post(oauth_live, read["access_token"]).json()["result"]["tools"]
    assert all(tool["annotations"]["readOnlyHint"] for tool in listed)
    assert (
        mcp_post(oauth_live, read["access_token"], "tools/call", {"name": "list_library_book", "arguments": {}}).json()[
            "result"
        ]["structuredContent"]["count"]
        > 0
    )

    before = db_dump(oauth_live["db"])
    refused = mcp_post(
        oauth_live,
        read["access_token"],
        "tools/call",
        {"name": "create_library_tag", "arguments": {"name": "Read only", "slug": "read-only"}},
    )
    assert refused.status_code == 403
    assert refused.headers["WWW-Authenticate"] == (
        f'Bearer realm="django-mcp", error="insufficient_scope", scope="mcp:write", '
        f'resource_metadata="{metadata_url(oauth_live)}"'
    )
    assert refused.json()["error"]["code"] == -32003
    assert db_dump(oauth_live["db"]) == before
    line = audit_lines(oauth_live["log"])[-1]
    assert (line["wire_status"], line["oauth_client"], line["outcome"]) == (403, client["client_id"], "out_of_scope")


# --- refusals at the authorization endpoint ------------------------------------------------


def authorization_refused(live, url):
    """The redirect (or page) an authorization request ends in, and the database unchanged."""
    agent = UserAgent(live["origin"])
    try:
        agent.authorize(authorize_url(live, public_client(live)["client_id"], pkce()[1]))  # logged in
        before = db_dump(live["db"])
        response = agent.http.get(url)
        assert db_dump(live["db"]) == before
        return response
    finally:
        agent.close()


@pytest.mark.parametrize(
    "challenge, method, description",
    [
        (None, None, "Code challenge required."),
        ("x" * 43, "plain", 'code_challenge_method must be "S256"'),
        ("x" * 43, None, 'code_challenge_method must be "S256"'),  # the default is plain
    ],
)
def test_an_authorization_request_without_s256_pkce_is_sent_back_refused(oauth_live, challenge, method, description):
    client = public_client(oauth_live)
    response = authorization_refused(
        oauth_live, authorize_url(oauth_live, client["client_id"], challenge, method=method)
    )
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = redirected_params(location)
    assert (params["error"], params["error_description"], params["state"]) == (
        "invalid_request",
        description,
        "state-1",
    )
    assert "code" not in params


def test_a_redirect_uri_the_client_did_not_register_is_never_redirected_to(oauth_live):
    client = public_client(oauth_live)
    response = authorization_refused(
        oauth_live,
        authorize_url(oauth_live, client["client_id"], pkce()[1], redirect_uri="https://attacker.example.com/callback"),
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "invalid_request" in response.text and "attacker.example.com" not in response.text


def test_denying_sends_the_client_access_denied_and_issues_nothing(oauth_live):
    client = public_client(oauth_live)
    agent = UserAgent(oauth_live["origin"])
    try:
        before = db_dump(oauth_live["db"])
        location = agent.authorize(authorize_url(oauth_live, client["client_id"], pkce()[1]), approve=False)
    finally:
        agent.close()
    assert redirected_params(location)["error"] == "access_denied"
    assert {table: rows for table, rows in db_dump(oauth_live["db"]).items() if table.startswith("oauth2")} == {
        table: rows for table, rows in before.items() if table.startswith("oauth2")
    }


def test_the_consent_page_names_the_client_its_redirect_host_and_the_scopes(oauth_live):
    client = public_client(oauth_live, client_name="Consent <client>")
    agent = UserAgent(oauth_live["origin"])
    try:
        agent.authorize(authorize_url(oauth_live, client["client_id"], pkce()[1], scope="mcp:read"), approve=False)
    finally:
        agent.close()
    page = agent.consent_page
    assert "Connect <em>Consent &lt;client&gt;</em> to your account?" in page
    assert '<span class="host">127.0.0.1:9</span>' in page
    assert "(mcp:read)" in page and "(mcp:write)" not in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_a_consent_post_without_the_csrf_token_is_refused(oauth_live):
    client = public_client(oauth_live)
    agent = UserAgent(oauth_live["origin"])
    try:
        url = authorize_url(oauth_live, client["client_id"], pkce()[1])
        agent.authorize(url, approve=False)
        before = db_dump(oauth_live["db"])
        fields = {k: v for k, v in hidden_fields(agent.consent_page).items() if k != "csrfmiddlewaretoken"}
        forged = agent.http.post("/oauth/authorize/", data={**fields, "allow": "true"})
    finally:
        agent.close()
    assert forged.status_code == 403
    assert db_dump(oauth_live["db"]) == before


# --- registration (RFC 7591) ---------------------------------------------------------------


@pytest.mark.parametrize(
    "uris, error",
    [
        (["https://attacker.example.com/cb", "http://attacker.example.com/cb"], "invalid_redirect_uri"),
        (["cursor://callback"], "invalid_redirect_uri"),
        (["javascript:alert(1)"], "invalid_redirect_uri"),
    ],
)
def test_registration_refuses_redirect_uris_that_are_not_https_or_loopback(oauth_live, uris, error):
    before = db_dump(oauth_live["db"])
    response = register(oauth_live, redirect_uris=uris)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert db_dump(oauth_live["db"]) == before


def test_registration_refuses_grants_other_than_the_code_flow(oauth_live):
    before = db_dump(oauth_live["db"])
    for grants in (["client_credentials"], ["implicit"], ["password"]):
        response = register(oauth_live, grant_types=grants)
        assert (response.status_code, response.json()["error"]) == (400, "invalid_client_metadata")
    assert db_dump(oauth_live["db"]) == before


def test_loopback_and_https_redirect_uris_register(oauth_live):
    client = public_client(
        oauth_live,
        redirect_uris=[
            "http://127.0.0.1:33418/callback",
            "http://localhost:6274/oauth/callback",
            "https://claude.ai/api/mcp/auth_callback",
        ],
    )
    assert len(client["redirect_uris"]) == 3


def test_registrations_are_limited_per_address(oauth_live):
    """The server allows 50 a minute (oauth_project), counted in windows aligned to the clock:
    the 51st of one window is refused. From an address of its own (127.0.0.5), so the other
    tests' registrations do not count."""
    before = len(db_dump(oauth_live["db"])["oauth2_provider_application"])
    with httpx2.Client(transport=httpx2.HTTPTransport(local_address="127.0.0.5"), timeout=30) as http:
        responses = []
        while len(responses) <= 100 and (not responses or responses[-1].status_code != 429):
            responses.append(
                http.post(
                    f"{oauth_live['origin']}/oauth/register/",
                    json={"client_name": "Flood", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"},
                )
            )
    *accepted, limited = responses
    assert {response.status_code for response in accepted} == {201}
    assert 50 <= len(accepted) < 100  # 50, or a window's end and then the next window's 50
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"] == "temporarily_unavailable"
    assert len(db_dump(oauth_live["db"])["oauth2_provider_application"]) == before + len(accepted)


# --- client metadata documents --------------------------------------------------------------


def cimd_refused(live, url):
    """An authorization request naming the document at `url` as its client: refused on the
    error page (never a redirect to a URI the document named), nothing stored."""
    response = authorization_refused(live, authorize_url(live, url, pkce()[1]))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "Invalid client_id parameter value." in response.text
    return response


def document(live, path, **metadata):
    return live["cimd"].publish(
        path, {"client_name": path, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none", **metadata}
    )


def test_a_client_metadata_document_registers_its_client_on_first_sight(oauth_live):
    url = document(oauth_live, "clients/first-sight.json", client_name="Metadata client")
    issued = tokens(oauth_live, url)
    assert mcp_post(oauth_live, issued["access_token"]).status_code == 200
    [row] = [row for row in db_dump(oauth_live["db"])["oauth2_provider_application"] if url in row]
    assert "cimd" in row and "Metadata client" in row


def test_a_document_that_names_another_client_id_is_refused(oauth_live):
    url = oauth_live["cimd"].url("clients/impostor.json")
    oauth_live["cimd"].publish(
        "clients/impostor.json", {"client_id": "https://claude.ai/oauth/client.json", "redirect_uris": [REDIRECT]}
    )
    cimd_refused(oauth_live, url)


def test_a_document_with_a_redirect_uri_that_is_not_https_or_loopback_is_refused(oauth_live):
    cimd_refused(
        oauth_live,
        document(
            oauth_live, "clients/plain-http.json", redirect_uris=[REDIRECT, "http://attacker.example.com/callback"]
        ),
    )


def test_a_document_over_the_size_limit_is_refused(oauth_live):
    cimd_refused(oauth_live, document(oauth_live, "clients/large.json", client_uri="https://x.example/" + "a" * 20000))


def test_a_document_that_is_not_json_is_refused(oauth_live):
    url = oauth_live["cimd"].publish("clients/page.json", body=b"<html></html>", content_type="text/html")
    cimd_refused(oauth_live, url)


def test_a_document_slower_than_the_time_limit_is_refused(oauth_live):
    """oauth_project allows 2 s (the toolkit's CIMD_FETCH_TIMEOUT_SECONDS)."""
    url = oauth_live["cimd"].publish("clients/slow.json", {"redirect_uris": [REDIRECT]}, delay=4)
    started = time.monotonic()
    cimd_refused(oauth_live, url)
    assert time.monotonic() - started < 4


def test_a_document_url_that_does_not_answer_is_refused(oauth_live):
    cimd_refused(oauth_live, oauth_live["cimd"].url("clients/missing.json"))


# --- narrowing, scopes, rate limits ----------------------------------------------------------


def test_a_mount_narrowed_to_a_toolset_narrows_an_oauth_caller(oauth_live):
    client = public_client(oauth_live)
    issued = tokens(oauth_live, client["client_id"])
    narrowed = httpx2.post(
        f"{oauth_live['origin']}/mcp/authors/",
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Authorization": f"Bearer {issued['access_token']}"},
    )
    assert narrowed.status_code == 200, narrowed.text
    names = {tool["name"] for tool in narrowed.json()["result"]["tools"]}
    assert {"list_library_author", "create_library_author"} <= names
    assert all(name.endswith("_library_author") for name in names), names


def test_a_token_without_an_mcp_scope_is_asked_to_step_up(oauth_live):
    client = public_client(oauth_live)
    issued = tokens(oauth_live, client["client_id"])
    sql(
        oauth_live["db"],
        "UPDATE oauth2_provider_accesstoken SET scope = 'openid' WHERE application_id = "
        "(SELECT id FROM oauth2_provider_application WHERE client_id = ?)",
        client["client_id"],
    )
    before = db_dump(oauth_live["db"])
    refused = mcp_post(oauth_live, issued["access_token"])
    assert refused.status_code == 403
    assert refused.headers["WWW-Authenticate"] == (
        f'Bearer realm="django-mcp", error="insufficient_scope", scope="mcp:read mcp:write", '
        f'resource_metadata="{metadata_url(oauth_live)}"'
    )
    assert db_dump(oauth_live["db"]) == before


def test_rate_limits_count_per_client_and_user(oauth_live):
    """oauth_project allows 30 requests a minute per credential; each client a user connected
    has its own budget, as each key has."""
    first, second = (tokens(oauth_live, public_client(oauth_live)["client_id"]) for _ in range(2))
    responses = []
    while len(responses) <= 60 and (not responses or responses[-1].status_code != 429):
        responses.append(mcp_post(oauth_live, first["access_token"], "ping"))
    *accepted, limited = responses
    assert {response.status_code for response in accepted} == {200}
    assert 30 <= len(accepted) < 60
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert mcp_post(oauth_live, second["access_token"], "ping").status_code == 200
    line = audit_lines(oauth_live["log"])[-2]
    assert (line["outcome"], line["oauth_client"]) == ("rate_limited", client_of(oauth_live, first))


def client_of(live, issued):
    """The client_id an access token was issued to (from the server's database)."""
    checksum = hashlib.sha256(issued["access_token"].encode()).hexdigest()
    with contextlib.closing(sqlite3.connect(live["db"])) as connection:
        return connection.execute(
            "SELECT a.client_id FROM oauth2_provider_accesstoken t JOIN oauth2_provider_application a "
            "ON a.id = t.application_id WHERE t.token_checksum = ?",
            (checksum,),
        ).fetchone()[0]


def test_in_discovery_mode_a_read_token_is_asked_to_step_up_through_call_tool(tmp_path_factory):
    """Discovery mode (the meta-tools) on: a write called through call_tool is refused as a
    direct call is, 403 insufficient_scope; a write token calls it."""
    with oauth_server(tmp_path_factory, DEMO_MCP_DISCOVERY="always") as live:
        client = public_client(live)
        read, write = (tokens(live, client["client_id"], scope=scope) for scope in ("mcp:read", "mcp:read mcp:write"))
        listed = {tool["name"] for tool in mcp_post(live, read["access_token"]).json()["result"]["tools"]}
        assert {"find_tools", "call_tool"} <= listed
        call = {
            "name": "call_tool",
            "arguments": {"name": "create_library_tag", "arguments": {"name": "Discovered", "slug": "discovered"}},
        }
        before = db_dump(live["db"])
        refused = mcp_post(live, read["access_token"], "tools/call", call)
        assert refused.status_code == 403
        assert 'error="insufficient_scope", scope="mcp:write"' in refused.headers["WWW-Authenticate"]
        assert db_dump(live["db"]) == before
        assert mcp_post(live, write["access_token"], "tools/call", call).json()["result"].get("isError") is not True


def test_the_authorization_servers_own_models_are_never_tools(oauth_live):
    """A superuser's token: the toolkit's admin (applications, grants, tokens) is not served,
    as the key admin is not: a token must not register clients or mint tokens."""
    issued = tokens(oauth_live, public_client(oauth_live)["client_id"])
    names = {tool["name"] for tool in mcp_post(oauth_live, issued["access_token"]).json()["result"]["tools"]}
    assert "list_library_book" in names
    assert not [name for name in names if "oauth2_provider" in name or "accesstoken" in name], names


def test_metadata_documents_fetched_count_against_the_registration_limit(oauth_live):
    """The 50 registrations a minute of an address (oauth_project) count first fetches of
    metadata documents too; from an address of its own (127.0.0.6)."""
    agent = UserAgent(oauth_live["origin"], local_address="127.0.0.6")
    try:
        agent.authorize(authorize_url(oauth_live, public_client(oauth_live)["client_id"], pkce()[1]), approve=False)
        pages = []
        while len(pages) <= 100 and (not pages or pages[-1].status_code != 400):
            url = document(oauth_live, f"clients/flood-{len(pages)}.json")
            pages.append(agent.http.get(authorize_url(oauth_live, url, pkce()[1])))
    finally:
        agent.close()
    *accepted, refused = pages
    assert {page.status_code for page in accepted} == {200}  # the consent page
    assert 50 <= len(accepted) < 100
    assert "Invalid client_id parameter value." in refused.text
    assert oauth_live["cimd"].hits.get(f"/clients/flood-{len(accepted)}.json") is None  # never fetched


@pytest.mark.parametrize("verifier", [None, "wrong-" + "v" * 43])
def test_a_code_exchanged_without_its_pkce_verifier_issues_nothing(oauth_live, verifier):
    client = public_client(oauth_live)
    right, challenge = pkce()
    agent = UserAgent(oauth_live["origin"])
    try:
        code = redirected_params(agent.authorize(authorize_url(oauth_live, client["client_id"], challenge)))["code"]
    finally:
        agent.close()
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": client["client_id"],
        "resource": oauth_live["url"],
    }
    before = db_dump(oauth_live["db"])["oauth2_provider_accesstoken"]
    response = httpx2.post(
        f"{oauth_live['origin']}/oauth/token/", data={**exchange, **({"code_verifier": verifier} if verifier else {})}
    )
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_request", "invalid_grant")
    assert "access_token" not in response.json()
    assert db_dump(oauth_live["db"])["oauth2_provider_accesstoken"] == before


def test_an_application_registered_in_the_admin_with_a_plain_http_redirect_is_not_redirected_to(oauth_live):
    """The https-or-loopback rule holds at the authorization endpoint too, for clients made by
    hand (the admin, a shell), which registration's checks never saw."""
    client_id = manage(
        oauth_live["env"],
        "shell",
        "--verbosity",
        "0",
        "-c",
        (
            "from oauth2_provider.models import Application; print(Application.objects.create(name='By hand', "
            "client_type='public', authorization_grant_type='authorization-code', "
            "redirect_uris='http://intranet.example.com/callback').client_id)"
        ),
    )
    response = authorization_refused(
        oauth_live, authorize_url(oauth_live, client_id, pkce()[1], redirect_uri="http://intranet.example.com/callback")
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "Mismatching redirect URI." in response.text


def test_a_client_that_names_no_resource_gets_a_token_for_this_endpoint(oauth_live):
    client = public_client(oauth_live)
    issued = tokens(oauth_live, client["client_id"], resource=False)
    assert mcp_post(oauth_live, issued["access_token"]).status_code == 200
    checksum = hashlib.sha256(issued["access_token"].encode()).hexdigest()
    with contextlib.closing(sqlite3.connect(oauth_live["db"])) as connection:
        [(resource,)] = connection.execute(
            "SELECT resource FROM oauth2_provider_accesstoken WHERE token_checksum = ?", (checksum,)
        ).fetchall()
    assert resource == f'["{oauth_live["url"]}"]'
