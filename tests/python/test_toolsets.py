"""Toolsets: allowlist patterns and read-only switches on keys and endpoints (README, Keys)."""

import json

import anyio
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from conftest import InProcessMCP, db_dump, list_all_tools
from servers import manage

BOOK_TEMPLATE = "django-mcp://model/library.Book/{pk}"
AUTHOR_TEMPLATE = "django-mcp://model/library.Author/{pk}"


@pytest.fixture
def support(settings):
    settings.ROOT_URLCONF = "fixtures.toolset_urls"


def names(mcp):
    return {tool["name"] for tool in mcp.all_tools()}


def library_app(name):
    """Whether a demo tool is the library app's: its admin, views, or DRF API (`api_`)."""
    return "library" in name or "api" in name


def refusal(mcp, method, params):
    error = mcp.rpc(method, params)["error"]
    assert error["code"] == -32003, error
    return error["message"]


def test_an_app_pattern_lists_and_calls_only_that_apps_tools(mcp_as, make_key):
    mcp = mcp_as(make_key("alice", allowed_tools=["library.*"]))
    listed = names(mcp)
    assert {"list_library_book", "create_library_tag", "mark_published_library_book"} <= listed
    # The app's routed views and DRF API (modules of its package) are the app's too.
    assert {"get_library_books_by_year", "list_api_book", "list_api_tag"} <= listed
    assert "list_auth_user" not in listed
    assert mcp.call("list_library_author")["isError"] is False
    assert (
        refusal(mcp, "tools/call", {"name": "list_auth_user", "arguments": {}})
        == "out_of_scope: tool not in this key's allowlist"
    )


def test_a_model_pattern_reaches_its_drf_viewset_but_not_the_apps_views(mcp_as, make_key):
    listed = names(mcp_as(make_key("alice", allowed_tools=["library.Book.*"])))
    assert {"list_library_book", "list_api_book", "get_api_book"} <= listed
    assert not listed & {"get_library_books_by_year", "list_api_tag", "list_library_author"}
    elsewhere = names(mcp_as(make_key("alice", allowed_tools=["auth.*"])))
    assert "list_auth_user" in elsewhere and not {n for n in elsewhere if "api" in n or "library" in n}


def test_a_read_pattern_serves_only_read_only_tools_and_refuses_writes(mcp_as, make_key):
    mcp = mcp_as(make_key("alice", allowed_tools=["*.read"]))
    tools = mcp.all_tools()
    assert tools and all(tool["annotations"]["readOnlyHint"] for tool in tools)
    assert {"list_library_book", "get_auth_user"} <= {tool["name"] for tool in tools}
    before = db_dump("library_")
    refusal(mcp, "tools/call", {"name": "create_library_tag", "arguments": {"name": "New", "slug": "new"}})
    assert db_dump("library_") == before


def test_a_read_only_key_refuses_writes_whatever_its_allowlist(mcp_as, make_key):
    mcp = mcp_as(make_key("alice", allowed_tools=["library.Tag.*"], read_only=True))
    assert names(mcp) == {"list_library_tag", "get_library_tag", "list_api_tag", "get_api_tag"}  # admin and DRF
    message = refusal(mcp, "tools/call", {"name": "create_library_tag", "arguments": {"name": "New", "slug": "new"}})
    assert message == "out_of_scope: tool not read-only, and this key is read-only"


def test_a_refusal_says_why_and_by_which_scope_in_its_data(client, make_key, mcp_as, support):
    key = make_key("alice", allowed_tools=["library.Tag.*"], read_only=True)
    write = {"name": "create_library_tag", "arguments": {"name": "New", "slug": "new"}}
    error = mcp_as(key).rpc("tools/call", write)["error"]
    assert error["data"] == {"target": "create_library_tag", "reason": "read_only", "by": "key"}
    error = mcp_as(key).rpc("tools/call", {"name": "list_auth_user", "arguments": {}})["error"]
    assert (error["data"]["reason"], error["data"]["by"]) == ("unlisted", "key")
    endpoint = InProcessMCP(client, make_key("alice"), path="/mcp/support/")
    error = endpoint.rpc("tools/call", write)["error"]
    assert (error["data"]["reason"], error["data"]["by"]) == ("read_only", "endpoint")


@pytest.mark.parametrize("path", ["/mcp/support/", "/mcp/support"])
def test_a_read_only_endpoint_refuses_writes_for_a_superuser(client, alice_key, support, path):
    mcp = InProcessMCP(client, alice_key, path=path)
    tools = mcp.all_tools()
    assert tools and all(t["annotations"]["readOnlyHint"] and library_app(t["name"]) for t in tools)
    before = db_dump("library_")
    message = refusal(mcp, "tools/call", {"name": "create_library_tag", "arguments": {"name": "New", "slug": "new"}})
    assert message == "out_of_scope: tool not read-only, and this endpoint is read-only"
    assert db_dump("library_") == before
    # The unnarrowed mount beside it serves the key as before.
    assert "create_library_tag" in names(InProcessMCP(client, alice_key))


def test_key_and_endpoint_narrow_as_an_intersection(client, make_key, support):
    authors = InProcessMCP(
        client, make_key("alice", allowed_tools=["library.Author.*", "list_auth_user"]), path="/mcp/support/"
    )
    assert names(authors) == {"list_library_author", "get_library_author", "search_library_author"}
    users = InProcessMCP(client, make_key("alice", allowed_tools=["auth.*"]), path="/mcp/support/")
    assert names(users) == set()
    message = refusal(users, "tools/call", {"name": "list_auth_user", "arguments": {}})
    assert message == "out_of_scope: tool not in this endpoint's toolset"


def test_patterns_reach_resources_prompts_and_completion(mcp_as, make_key):
    books = mcp_as(make_key("alice", allowed_tools=["library.Book.*"]))
    templates = {t["uriTemplate"] for t in books.rpc("resources/templates/list")["result"]["resourceTemplates"]}
    assert BOOK_TEMPLATE in templates and all("library.Book/" in t for t in templates)
    assert "mark_published_library_book" in {p["name"] for p in books.rpc("prompts/list")["result"]["prompts"]}
    refusal(books, "resources/read", {"uri": "django-mcp://model/library.Author/1"})
    assert "contents" in books.rpc("resources/read", {"uri": "django-mcp://model/library.Book/1"})["result"]
    complete = {"ref": {"type": "ref/resource", "uri": AUTHOR_TEMPLATE}, "argument": {"name": "pk", "value": ""}}
    refusal(books, "completion/complete", complete)

    # An admin action's prompt is that action's: a write, out of a read-only key's reach.
    reader = mcp_as(make_key("alice", allowed_tools=["library.*"], read_only=True))
    assert "mark_published_library_book" not in {p["name"] for p in reader.rpc("prompts/list")["result"]["prompts"]}
    refusal(reader, "prompts/get", {"name": "mark_published_library_book", "arguments": {"pks": "1"}})
    assert AUTHOR_TEMPLATE in {
        t["uriTemplate"] for t in reader.rpc("resources/templates/list")["result"]["resourceTemplates"]
    }


def test_plain_names_still_name_exactly_one_item(mcp_as, make_key):
    mcp = mcp_as(make_key("alice", allowed_tools=["list_library_book", BOOK_TEMPLATE]))
    assert names(mcp) == {"list_library_book"}
    templates = mcp.rpc("resources/templates/list")["result"]["resourceTemplates"]
    assert [t["uriTemplate"] for t in templates] == [BOOK_TEMPLATE]


def test_mcp_key_create_takes_toolsets_and_read_only(library, capsys):
    call_command(
        "mcp_key",
        "create",
        "alice",
        "--name",
        "support",
        "--allowed-tools",
        "get_auth_user",
        "--toolset",
        "library.*",
        "--toolset",
        "*.read",
        "--read-only",
        "--json",
    )
    created = json.loads(capsys.readouterr().out)
    assert (created["allowed_tools"], created["read_only"]) == (["get_auth_user", "library.*", "*.read"], True)
    call_command("mcp_key", "inspect", created["key_id"], "--json")
    inspected = json.loads(capsys.readouterr().out)
    assert (inspected["allowed_tools"], inspected["read_only"]) == (created["allowed_tools"], True)
    call_command("mcp_key", "list", "--json")
    assert [k["read_only"] for k in json.loads(capsys.readouterr().out) if k["key_id"] == created["key_id"]] == [True]
    with pytest.raises(CommandError, match="library.Book"):
        call_command("mcp_key", "create", "alice", "--name", "typo", "--toolset", "library.Book")


def test_a_key_the_original_package_inserted_is_not_read_only(library, mcp_as):
    """The migration adds a nullable column: a row written without it still authenticates."""
    from django.contrib.auth.models import User

    from django_mcp.models import MCPAPIKey, generate_key_id, generate_secret, hash_secret

    key_id, secret = generate_key_id(), generate_secret()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_mcp_mcpapikey (key_id, secret_hash, user_id, name, created_at, allowed_tools)"
            " VALUES (%s, %s, %s, %s, CURRENT_TIMESTAMP, %s)",
            [key_id, hash_secret(secret), User.objects.get(username="alice").pk, "original", "[]"],
        )
    assert MCPAPIKey.objects.get(key_id=key_id).read_only is None
    assert "create_library_tag" in names(mcp_as(f"{key_id}.{secret}"))
    call_command("makemigrations", "django_mcp", "--check", "--dry-run", verbosity=0)


def test_sdk_client_on_a_toolset_key(live_demo):
    from mcp.shared.exceptions import MCPError
    from test_mcp_clients import http_client

    credential = manage(
        live_demo["env"],
        "mcp_key",
        "create",
        "alice",
        "--name",
        "library readers",
        "--toolset",
        "library.*",
        "--read-only",
    )

    async def main():
        async with http_client(live_demo, credential) as client:
            tools = await list_all_tools(client)
            assert tools and all(library_app(t.name) and t.annotations.read_only_hint for t in tools)
            assert (await client.call_tool("list_library_tag", {})).is_error is False
            with pytest.raises(MCPError) as refused:
                await client.call_tool("create_library_tag", {"name": "New", "slug": "new"})
            return refused.value.error.code

    assert anyio.run(main) == -32003


def test_the_key_admin_shows_and_edits_read_only(admin_client, library):
    from django.contrib.auth.models import User

    from django_mcp.models import MCPAPIKey

    key, _ = MCPAPIKey.objects.create_key(User.objects.get(username="alice"), name="support", allowed_tools=["*.read"])
    change = f"/admin/django_mcp/mcpapikey/{key.pk}/change/"
    assert 'name="read_only"' in admin_client.get(change).content.decode()
    response = admin_client.post(change, {"name": "support", "allowed_tools": '["library.*"]', "read_only": "on"})
    assert response.status_code == 302, response.content
    key.refresh_from_db()
    assert (key.allowed_tools, key.read_only) == (["library.*"], True)
    assert "column-read_only" in admin_client.get("/admin/django_mcp/mcpapikey/").content.decode()
