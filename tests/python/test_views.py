"""Routed views as tools that really run: the demo's views (a JSON-body FBV, template CBVs,
an async FBV, every gate kind, a custom converter, a redirect), called through the official
`mcp` SDK over HTTP and in-process, and compared with what Django's test client gets over
HTTP for the same user."""

import json

import anyio
import pytest
from django.contrib.auth.models import User

from conftest import InProcessMCP, db_dump
from library.models import Book, Tag
from test_mcp_clients import http_client


def view_tools(mcp):
    return {t["name"]: t for t in mcp.all_tools() if "django-mcp/gates" in t.get("_meta", {})}


def test_views_are_listed_narrowed_typed_and_state_their_gates(mcp):
    tools = view_tools(mcp)
    assert {
        "list_library_book_list",
        "get_library_book_detail",
        "get_library_book_json",
        "create_library_tag_create",
        "invoke_library_stats",
        "invoke_library_book_edit",
        "create_library_book_publish",
        "get_library_account",
        "get_library_books_by_year",
        "invoke_library_home",
    } <= set(tools)
    detail = tools["get_library_book_detail"]
    assert detail["annotations"]["readOnlyHint"] is True
    assert detail["inputSchema"]["properties"]["path"]["properties"]["pk"]["type"] == "integer"
    assert "body" not in detail["inputSchema"]["properties"]  # a GET takes no body
    year = tools["get_library_books_by_year"]["inputSchema"]["properties"]["path"]["properties"]["year"]
    assert year["type"] == "string" and "pattern" in year  # the custom converter's regex
    edit = tools["invoke_library_book_edit"]
    assert set(edit["inputSchema"]["properties"]["method"]["enum"]) == {"GET", "POST", "PUT"}  # UpdateView: put = post
    assert edit["_meta"]["django-mcp/gates"] == [{"kind": "permission", "permissions": ["library.change_book"]}]
    assert "Protected by: permission library.change_book." in edit["description"]
    assert "login required" in tools["create_library_tag_create"]["description"]


def call_view(mcp, name, arguments):
    result = mcp.call(name, arguments)
    return result["isError"], result["structuredContent"]


def test_a_json_body_view_creates_what_it_is_sent(mcp):
    failed, answer = call_view(mcp, "create_library_tag_create", {"body": {"name": "Sea Stories"}})
    assert (failed, answer["status"]) == (False, 201)
    assert Tag.objects.get(pk=answer["body"]["id"]).slug == "sea-stories"
    failed, again = call_view(mcp, "create_library_tag_create", {"body": {"name": "Sea Stories"}})
    assert (failed, again["status"]) == (True, 409)  # the view's own refusal, reported as it came


def test_template_views_are_rendered_to_readable_text(mcp, library):
    book = Book.objects.get(pk=1)
    _, page = call_view(mcp, "get_library_book_detail", {"path": {"pk": 1}})
    assert page["status"] == 200 and page["headers"]["Content-Type"].startswith("text/html")
    assert book.title in page["body"] and "<" not in page["body"]


def test_an_async_view_is_awaited(mcp):
    _, answer = call_view(mcp, "invoke_library_stats", {"method": "GET"})
    assert answer["status"] == 200 and answer["body"]["books"] == Book.objects.count()


def test_a_redirect_is_reported_not_followed(mcp):
    _, answer = call_view(mcp, "invoke_library_home", {"method": "GET"})
    assert answer["status"] == 302 and answer["headers"]["Location"].endswith("/library/books/")


def test_a_custom_converter_types_the_path(mcp):
    _, answer = call_view(mcp, "get_library_books_by_year", {"path": {"year": "2001"}})
    assert answer["status"] == 200 and answer["body"]["year"] == 2001
    refused = mcp.call("get_library_books_by_year", {"path": {"year": "21"}})
    assert refused["isError"] is True and "year" in refused["content"][0]["text"]


def test_unknown_objects_and_bad_arguments_change_nothing(mcp):
    before = db_dump("library", "auth")
    failed, answer = call_view(mcp, "get_library_book_json", {"path": {"pk": 99999}})
    assert (failed, answer["status"]) == (True, 404)
    for arguments in ({"path": {"pk": "1; DROP TABLE"}}, {"path": {}}, {"path": {"pk": 1}, "body": {"x": 1}}):
        refused = mcp.call("get_library_book_json", arguments)
        assert refused["isError"] is True and "structuredContent" not in refused
    assert db_dump("library", "auth") == before


def test_each_gate_holds_for_each_user(client, bob_key, make_key):
    bob = InProcessMCP(client, bob_key)
    seen = set(view_tools(bob))
    # login_required, LoginRequiredMixin, method_decorator on dispatch, staff_member_required: bob passes.
    assert {
        "create_library_tag_create",
        "list_library_author_list",
        "get_library_account",
        "invoke_library_stock",
    } <= seen
    # user_passes_test(is_editor), UserPassesTestMixin, permission_required(book+author),
    # PermissionRequiredMixin: not bob.
    hidden = {
        "invoke_library_drafts",
        "create_library_book_publish",
        "get_library_catalogue",
        "invoke_library_book_edit",
    }
    assert not hidden & seen
    before = db_dump("library")
    for name, arguments in [
        ("create_library_book_publish", {"path": {"pk": 1}}),
        ("get_library_catalogue", {}),
        ("invoke_library_book_edit", {"path": {"pk": 1}, "method": "POST", "body": {"title": "x"}}),
    ]:
        assert bob.rpc("tools/call", {"name": name, "arguments": arguments})["error"]["code"] == -32002, name
    assert db_dump("library") == before
    carol = InProcessMCP(client, make_key("carol"))
    assert "invoke_library_stock" not in view_tools(carol)  # staff only
    assert "get_library_account" in view_tools(carol)  # any signed-in user


@pytest.mark.parametrize(
    "name, arguments, url",
    [
        ("get_library_book_json", {"path": {"pk": 3}}, "/library/books/3.json"),
        ("get_library_books_by_year", {"path": {"year": "2001"}}, "/library/published/2001/"),
        ("get_library_account", {}, "/library/account/"),
        ("get_library_catalogue", {}, "/library/catalogue/"),
        ("invoke_library_stats", {}, "/library/stats/"),  # without a method or a body: a GET
        ("get_library_book_json", {"path": {"pk": 99999}}, "/library/books/99999.json"),
    ],
)
@pytest.mark.parametrize("who", ["alice", "bob"])
def test_the_same_user_gets_the_same_answer_as_over_http(client, make_key, name, arguments, url, who):
    user = User.objects.get(username=who)
    mcp = InProcessMCP(client, make_key(who))
    reply = mcp.rpc("tools/call", {"name": name, "arguments": arguments})
    client.force_login(user)
    response = client.get(url)
    client.logout()
    if "error" in reply:  # MCP refuses what the view's gate refuses over HTTP (a login redirect or 403)
        assert reply["error"]["code"] == -32002 and response.status_code in (302, 403)
        return
    answer = reply["result"]["structuredContent"]
    assert answer["status"] == response.status_code
    if response["Content-Type"] == "application/json":
        assert answer["body"] == json.loads(response.content)


def test_views_through_the_sdk_over_http(live_demo):
    async def main():
        async with http_client(live_demo, live_demo["keys"]["alice"]) as client:
            got = await client.call_tool("get_library_book_json", {"path": {"pk": 2}})
            assert got.is_error is False and got.structured_content["body"]["id"] == 2
            made = await client.call_tool("create_library_tag_create", {"body": {"name": "Over HTTP"}})
            assert made.structured_content["status"] == 201
            stats = await client.call_tool("invoke_library_stats", {"method": "GET"})
            return stats.structured_content["body"]

    assert anyio.run(main)["tags"] >= 1
