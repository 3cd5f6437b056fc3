"""DJANGO_MCP_MODEL_SEARCH tools: `q` over the declared search fields, `filters` on the
declared filter fields only, results that carry only the allowed fields, the model's admin
`get_queryset` always applied — in-process and through the SDK over HTTP."""

import anyio
from django.contrib.auth.models import User
from django.test import override_settings

from conftest import InProcessMCP, db_dump
from django_mcp import server
from library.models import Author, Book
from test_mcp_clients import http_client


def search(mcp, name, arguments):
    result = mcp.call(name, arguments)
    assert result["isError"] is False, result
    return result["structuredContent"]


def test_a_search_tool_offers_only_what_its_entry_declares(mcp):
    tool = {t["name"]: t for t in mcp.all_tools()}["search_library_book"]
    props = tool["inputSchema"]["properties"]
    assert set(props) == {"q", "filters", "ordering", "page", "page_size"}
    assert set(props["filters"]["properties"]) == {"status", "in_print", "author"}
    assert "additionalProperties" not in props["filters"]  # closed all the same: refused below
    assert tool["annotations"]["readOnlyHint"] is True
    row = tool["outputSchema"]["properties"]["results"]["items"]["properties"]
    assert set(row) == {"id", "title", "status", "published", "author", "tags"}


def test_q_filters_ordering_and_paging(mcp, library):
    found = search(mcp, "search_library_book", {"q": Book.objects.get(pk=1).title.split()[0]})
    assert found["count"] >= 1 and all(
        set(r) == {"id", "title", "status", "published", "author", "tags"} for r in found["results"]
    )
    published = search(
        mcp, "search_library_book", {"filters": {"status": "published"}, "ordering": "-published", "page_size": 5}
    )
    assert published["count"] == Book.objects.filter(status="published").count() and len(published["results"]) == 5
    dates = [r["published"] for r in published["results"]]
    assert dates == sorted(dates, reverse=True)
    ada = Author.objects.get(name="Ada Lovelace")
    by_author = search(mcp, "search_library_book", {"q": "Lovelace"})
    assert {r["author"] for r in by_author["results"]} == {ada.pk}  # q follows author__name


def test_hostile_filters_and_ordering_are_refused_before_anything_is_read(mcp, django_assert_max_num_queries):
    before = db_dump("library", "auth")
    for arguments in (
        {"filters": {"author__password__startswith": "pbkdf2"}},
        {"ordering": "author__password"},
        {"ordering": "summary"},
        {"filters": {"status": {"$ne": 1}}},
    ):
        with django_assert_max_num_queries(3):  # the key check and the permission lookups only
            refused = mcp.call("search_library_book", arguments)
        assert refused["isError"] is True and "structuredContent" not in refused, arguments
    assert db_dump("library", "auth") == before


def test_the_permission_and_the_admins_queryset_hold(client, bob_key, mcp):
    bob = InProcessMCP(client, bob_key)
    names = {t["name"] for t in bob.all_tools()}
    assert "search_library_book" not in names and "search_library_author" in names
    assert bob.rpc("tools/call", {"name": "search_library_book", "arguments": {}})["error"]["code"] == -32002
    with override_settings(DJANGO_MCP_ADMIN_SITES=["fixtures.scoped_admin.site"]):
        server.reset()
        try:
            scoped = search(mcp, "search_library_book", {"page_size": 100})
        finally:
            server.reset()
    assert scoped["count"] == Book.objects.filter(in_print=True).count()


def refused_search(caller, name):
    """`name` is not listed to `caller`, and calling it is refused and changes nothing."""
    caller.rpc("ping")  # the key's first use writes last_used_at
    before = db_dump()
    assert name not in {t["name"] for t in caller.all_tools()}
    assert caller.rpc("tools/call", {"name": name, "arguments": {"q": "a"}})["error"]["code"] == -32002
    assert db_dump() == before


def test_a_search_through_an_admin_holds_to_the_sites_has_permission(client, make_key, mcp):
    # Bob may view authors, but the admin site lets in staff only.
    User.objects.filter(username="bob").update(is_staff=False)
    refused_search(InProcessMCP(client, make_key("bob")), "search_library_author")
    # A site that overrides has_permission refuses even a superuser.
    with override_settings(DJANGO_MCP_ADMIN_SITES=["fixtures.closed_admin.site"]):
        server.reset()
        try:
            refused_search(mcp, "search_library_author")
            refused_search(mcp, "search_library_book")
        finally:
            server.reset()


def test_a_search_through_an_admin_holds_to_its_entrys_own_permission(client, make_key, settings):
    """The admin lets bob view authors, but the entry asks for a permission he lacks: the
    list must not offer what the call would refuse."""
    settings.DJANGO_MCP_MODEL_SEARCH = [{"model": "library.Author", "permission": "library.change_author"}]
    refused_search(InProcessMCP(client, make_key("bob")), "search_library_author")


def test_search_through_the_sdk_over_http(live_demo):
    async def main():
        async with http_client(live_demo, live_demo["keys"]["alice"]) as client:
            result = await client.call_tool("search_library_author", {"q": "Ada"})
            return result.structured_content

    found = anyio.run(main)
    assert found["count"] == 1 and found["results"][0]["name"] == "Ada Lovelace"
