"""Django REST framework views as tools: the demo's API (demo/library/api.py) called through
MCP, in-process and through the official SDK over HTTP, and compared with what DRF answers
over HTTP to the same user.

What is shown: a ViewSet's router routes are one tool set (PUT and PATCH collapsed into one
partial update, one tool per @action, hyphenated url paths fine); serializer fields become
schemas a Draft 2020-12 validator accepts (read-only fields out of inputs, nested
serializers, a SerializerMethodField typed from its annotation); the paginator and filter
backends are arguments and really page and filter; the calls go through DRF's own dispatch
(request.data, query_params, permission classes at class and object level, perform_create,
lookup_field, throttles); refused and invalid calls change nothing.
"""

import dataclasses

import anyio
import pytest
from django.core.cache import cache
from jsonschema import Draft202012Validator

from conftest import db_dump, rpc_error
from library.models import Author, Book, Tag
from test_mcp_clients import http_client

FORMATS = Draft202012Validator.FORMAT_CHECKER

API_TOOLS = {
    "list_api_book",
    "get_api_book",
    "create_api_book",
    "update_api_book",
    "delete_api_book",
    "api_book_mark_published",
    "api_book_in_print",
    "api_book_set_tag",
    "list_api_tag",
    "get_api_tag",
    "invoke_api_summary",
    "invoke_api_ping",
    "invoke_api_version",
}


@pytest.fixture(autouse=True)
def _no_throttle_history():
    cache.clear()  # DRF keeps throttle history in the default cache
    yield
    cache.clear()


def api_tools(mcp):
    return {t["name"]: t for t in mcp.all_tools() if t["name"] in API_TOOLS}


def structured(mcp, name, arguments):
    """The tool's structured result, checked against its outputSchema (formats too)."""
    result = mcp.call(name, arguments)
    assert result["isError"] is False, result
    tool = api_tools(mcp)[name]
    Draft202012Validator(tool["outputSchema"], format_checker=FORMATS).validate(result["structuredContent"])
    return result["structuredContent"]


def refusal(mcp, name, arguments):
    result = mcp.call(name, arguments)
    assert result["isError"] is True, result
    return result["content"][0]["text"]


def test_a_viewset_is_one_tool_set_with_valid_schemas(mcp):
    tools = api_tools(mcp)
    assert set(tools) == API_TOOLS
    for tool in tools.values():
        Draft202012Validator.check_schema(tool["inputSchema"])
        Draft202012Validator.check_schema(tool["outputSchema"])
    # PUT and PATCH are one partial update: nothing in the body is required.
    update = tools["update_api_book"]["inputSchema"]
    assert "required" not in update["properties"]["body"]
    assert update["properties"]["path"]["properties"]["pk"]["type"] == "integer"
    assert tools["update_api_book"]["annotations"]["idempotentHint"] is True
    assert tools["delete_api_book"]["annotations"]["destructiveHint"] is True
    assert tools["list_api_book"]["annotations"]["readOnlyHint"] is True
    # Read-only fields (id, slug, the nested author, the method field) are not inputs;
    # a write-only field is not an output.
    body = tools["create_api_book"]["inputSchema"]["properties"]["body"]
    assert set(body["required"]) == {"title", "pages", "price", "author_id"}
    assert not {"id", "slug", "author", "reading_minutes", "created_at"} & set(body["properties"])
    assert body["properties"]["status"]["enum"] == ["draft", "published", "archived"]
    obj = tools["get_api_book"]["outputSchema"]["properties"]["object"]["properties"]
    assert "author_id" not in obj
    assert obj["author"]["properties"]["email"]["format"] == "email"
    assert obj["reading_minutes"]["type"] == ["integer", "null"]  # from `-> int | None`
    assert obj["price"]["pattern"] == "^-?\\d{1,4}(\\.\\d{1,2})?$"
    # The lookup is named as the view names it; actions keep their hyphenated routes.
    assert set(tools["get_api_tag"]["inputSchema"]["properties"]["path"]["properties"]) == {"slug"}
    assert "/mark-published/" in tools["api_book_mark_published"]["description"]
    assert tools["api_book_set_tag"]["inputSchema"]["properties"]["method"]["enum"] == ["POST", "DELETE"]
    assert (
        "Protected by: DRF permissions DjangoModelPermissions, ArchivedBooksAreReadOnly."
        in tools["list_api_book"]["description"]
    )
    assert tools["list_api_book"]["_meta"]["django-mcp/gates"] == [
        {"kind": "drf", "permissions": ["DjangoModelPermissions", "ArchivedBooksAreReadOnly"]}
    ]


def test_dotted_names_follow_the_original(mcp, settings):
    settings.DJANGO_MCP_TOOL_NAMES = "dotted"
    names = {t["name"] for t in mcp.all_tools()}
    assert {
        "view.list:library.api.BookViewSet",
        "view.update:library.api.BookViewSet",
        "view.invoke:library.api.BookViewSet.mark_published",
        "view.invoke:library.api.CatalogueSummary",
        "view.invoke:library.api.library_version",
    } <= names


def test_the_list_pages_searches_orders_and_filters_through_the_view(mcp, library):
    tools = api_tools(mcp)
    arguments = tools["list_api_book"]["inputSchema"]["properties"]
    assert arguments["page_size"] == {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}
    assert set(arguments["filters"]["properties"]) == {"status", "in_print", "author"}
    assert arguments["ordering"]["pattern"] == "^-?(title|pages|price)(,-?(title|pages|price))*$"

    page = structured(mcp, "list_api_book", {})
    assert (page["count"], page["page"], page["page_size"], len(page["results"])) == (Book.objects.count(), 1, 10, 10)
    page = structured(mcp, "list_api_book", {"page": 2, "page_size": 7, "ordering": "-pages,title"})
    expected = list(Book.objects.order_by("-pages", "title").values_list("id", flat=True)[7:14])
    assert [b["id"] for b in page["results"]] == expected
    author = Book.objects.filter(status="published", in_print=True).first().author
    page = structured(
        mcp,
        "list_api_book",
        {"filters": {"status": "published", "in_print": True, "author": author.pk}, "page_size": 50},
    )
    expected = Book.objects.filter(status="published", in_print=True, author=author)
    assert sorted(b["id"] for b in page["results"]) == sorted(expected.values_list("id", flat=True))
    assert page["count"] == expected.count() > 0
    page = structured(mcp, "list_api_book", {"q": "Volume 42"})
    assert [b["title"] for b in page["results"]] == list(
        Book.objects.filter(title__icontains="Volume 42").values_list("title", flat=True)
    )


def test_hostile_filters_and_ordering_are_refused_before_anything_runs(mcp, library):
    mcp.rpc("tools/list")  # the key's first use is stamped; after that the database stays put
    before = db_dump()
    assert "filters.author__name" in refusal(mcp, "list_api_book", {"filters": {"author__name": "Ada"}})
    assert "ordering" in refusal(mcp, "list_api_book", {"ordering": "author__email"})
    assert "page_size" in refusal(mcp, "list_api_book", {"page_size": 51})  # the paginator's max_page_size
    assert db_dump() == before


def test_cursor_pagination_walks_every_page(mcp, library):
    seen, cursor = [], None
    for _ in range(20):
        page = structured(mcp, "list_api_tag", {"cursor": cursor} if cursor else {})
        assert page["page_size"] == 2 and len(page["results"]) <= 2
        seen.extend(t["slug"] for t in page["results"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(Tag.objects.values_list("slug", flat=True))
    tag = Tag.objects.get(slug=seen[0])
    got = structured(mcp, "get_api_tag", {"path": {"slug": tag.slug}})["object"]
    assert got == {"slug": tag.slug, "name": tag.name, "book_count": tag.books.count()}


def test_create_goes_through_the_serializer_and_perform_create(mcp, library):
    author = Author.objects.first()
    made = structured(
        mcp,
        "create_api_book",
        {"body": {"title": "Sea Stories", "pages": 120, "price": "9.50", "author_id": author.pk, "tags": []}},
    )["object"]
    book = Book.objects.get(pk=made["id"])
    assert (book.title, book.slug, book.pages, str(book.price), book.author) == (
        "Sea Stories",
        "sea-stories",
        120,
        "9.50",
        author,
    )
    assert made["author"]["name"] == author.name and made["reading_minutes"] == 240
    assert made["slug"] == "sea-stories"  # perform_create's doing


def test_invalid_data_is_a_tool_error_naming_the_field_and_changes_nothing(mcp, library):
    mcp.rpc("tools/list")  # the key's first use is stamped; after that the database stays put
    before = db_dump()
    # Valid for the schema, refused by the serializer: an author that does not exist.
    text = refusal(
        mcp, "create_api_book", {"body": {"title": "Ghost", "pages": 1, "price": "1.00", "author_id": 99999}}
    )
    assert text.startswith("Invalid: author_id:") and "does not exist" in text
    text = refusal(
        mcp,
        "create_api_book",
        {"body": {"title": "Costly", "pages": 1, "price": "12345.00", "author_id": Author.objects.first().pk}},
    )
    assert "price" in text  # more digits than the column holds: the schema or the serializer says so
    assert "title" in refusal(mcp, "create_api_book", {"body": {"pages": 1, "price": "1.00", "author_id": 1}})
    assert db_dump() == before


def test_update_is_partial_and_held_to_object_permissions(mcp, library):
    book = Book.objects.exclude(status="archived").first()
    title, price = book.title, book.price
    changed = structured(mcp, "update_api_book", {"path": {"pk": book.pk}, "body": {"pages": 321}})["object"]
    book.refresh_from_db()
    assert (book.pages, book.title, book.price, changed["pages"]) == (321, title, price, 321)

    archived = Book.objects.filter(status="archived").first()
    before = db_dump()
    assert (
        refusal(mcp, "update_api_book", {"path": {"pk": archived.pk}, "body": {"pages": 1}})
        == "Archived books are read-only."
    )
    assert refusal(mcp, "delete_api_book", {"path": {"pk": archived.pk}}) == "Archived books are read-only."
    assert refusal(mcp, "get_api_book", {"path": {"pk": 99999}}) == "No Book matches the given query."
    assert db_dump() == before


def test_delete_removes_the_object(mcp, library):
    book = Book.objects.exclude(status="archived").first()
    assert structured(mcp, "delete_api_book", {"path": {"pk": book.pk}}) == {"deleted": True, "pk": book.pk}
    assert not Book.objects.filter(pk=book.pk).exists()


def test_actions_read_request_data_and_query_params(mcp, library):
    book = Book.objects.filter(status="draft").first()
    done = structured(mcp, "api_book_mark_published", {"path": {"pk": book.pk}})
    book.refresh_from_db()
    assert (done["status"], done["body"]["status"], book.status) == (200, "published", "published")

    answer = structured(mcp, "api_book_in_print", {"query": {"min_pages": "400"}})
    assert answer["body"]["titles"] == list(
        Book.objects.filter(in_print=True, pages__gte=400).order_by("id").values_list("title", flat=True)
    )

    tag = Tag.objects.exclude(books=book).first()
    added = structured(mcp, "api_book_set_tag", {"path": {"pk": book.pk}, "method": "POST", "body": {"slug": tag.slug}})
    assert tag.slug in added["body"]["tags"] and book.tags.filter(pk=tag.pk).exists()
    structured(mcp, "api_book_set_tag", {"path": {"pk": book.pk}, "method": "DELETE", "body": {"slug": tag.slug}})
    assert not book.tags.filter(pk=tag.pk).exists()
    # The action's own 400, reported with what it said; nothing changed.
    result = mcp.call("api_book_set_tag", {"path": {"pk": book.pk}, "method": "POST", "body": {"slug": "no-such-tag"}})
    assert result["isError"] is True and result["structuredContent"] == {
        "status": 400,
        "headers": {"Allow": "POST, DELETE, OPTIONS"},
        "body": {"slug": ["No such tag."]},
    }


def test_api_views_take_their_methods(mcp, library):
    got = structured(mcp, "invoke_api_summary", {"method": "GET"})["body"]
    assert got["asked_by"] == "alice" and sum(got["by_status"].values()) == Book.objects.count()
    posted = structured(mcp, "invoke_api_summary", {"method": "POST", "body": {"statuses": ["draft", "archived"]}})
    assert posted["body"] == {"count": Book.objects.filter(status__in=["draft", "archived"]).count()}
    assert structured(mcp, "invoke_api_version", {})["body"] == {"version": "1.0", "user": "alice"}


def test_throttles_apply(mcp, library):
    for _ in range(5):
        assert structured(mcp, "invoke_api_ping", {})["body"] == {"pong": True}
    result = mcp.call("invoke_api_ping", {})
    assert result["isError"] is True
    assert result["structuredContent"]["status"] == 429 and "Retry-After" in result["structuredContent"]["headers"]


def test_permission_classes_decide_what_a_user_sees_and_may_call(mcp_as, bob_key, library):
    bob = mcp_as(bob_key)  # staff; may view authors only
    shown = {t["name"] for t in bob.all_tools()} & API_TOOLS
    # DjangoModelPermissions: reading needs no model permission, writing does.
    assert shown == {
        "list_api_book",
        "get_api_book",
        "api_book_in_print",
        "list_api_tag",
        "get_api_tag",
        "invoke_api_summary",
        "invoke_api_ping",
        "invoke_api_version",
    }
    before = db_dump()
    for name, arguments in [
        ("create_api_book", {"body": {"title": "x", "pages": 1, "price": "1", "author_id": 1}}),
        ("update_api_book", {"path": {"pk": 1}, "body": {"pages": 2}}),
        ("delete_api_book", {"path": {"pk": 1}}),
        ("api_book_mark_published", {"path": {"pk": 1}}),
    ]:
        rpc_error(
            bob.post(
                {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
            ),
            status=200,
            code=-32002,
        )
    assert db_dump() == before


def test_results_match_what_drf_answers_over_http(mcp, client, library):
    from django.contrib.auth.models import User

    client.force_login(User.objects.get(username="alice"))
    over_http = client.get("/api/books/", {"page": 2, "size": 5, "ordering": "price", "status": "draft"}).json()
    through_mcp = structured(
        mcp, "list_api_book", {"page": 2, "page_size": 5, "ordering": "price", "filters": {"status": "draft"}}
    )
    assert through_mcp["results"] == over_http["results"] and through_mcp["count"] == over_http["count"]
    assert structured(mcp, "get_api_book", {"path": {"pk": 3}})["object"] == client.get("/api/books/3/").json()


def test_the_api_through_the_sdk_over_http(live_demo):
    async def main():
        async with http_client(live_demo, live_demo["keys"]["alice"]) as client:
            listed = await client.call_tool("list_api_book", {"page_size": 3, "ordering": "-price"})
            made = await client.call_tool(
                "create_api_book", {"body": {"title": "Through the SDK", "pages": 10, "price": "2.00", "author_id": 1}}
            )
            pk = made.structured_content["object"]["id"]
            patched = await client.call_tool("update_api_book", {"path": {"pk": pk}, "body": {"title": "Renamed"}})
            # The live database is shared with other tests: what this one made, it deletes.
            deleted = await client.call_tool("delete_api_book", {"path": {"pk": pk}})
            return listed, made, patched, deleted

    listed, made, patched, deleted = anyio.run(main)
    assert deleted.structured_content == {"deleted": True, "pk": made.structured_content["object"]["id"]}
    prices = [float(b["price"]) for b in listed.structured_content["results"]]
    assert listed.is_error is False and prices == sorted(prices, reverse=True) and len(prices) == 3
    assert made.structured_content["object"]["slug"] == "through-the-sdk"
    assert patched.structured_content["object"]["title"] == "Renamed"
    assert patched.structured_content["object"]["pages"] == 10


def test_gates_judged_without_the_view_answer_as_drf_itself(library):
    """A route whose permission classes read only the user, the method and the declared
    queryset's model (DjangoModelPermissions beside a class of the project's that only judges
    objects) is judged without building the view; the answer must be the one DRF's own
    `check_permissions` on the built view gives, for every handler and caller."""
    from django.contrib.auth.models import Permission, User
    from rest_framework.exceptions import APIException
    from rest_framework.viewsets import ModelViewSet

    from django_mcp.effects.drf import _judged_without_view, drf_permits
    from django_mcp.facts.drf import view_instance
    from django_mcp.requests import CallerContext
    from django_mcp.server import state

    runtime = state.get_runtime()
    runtime.facts_json()
    books = next(view for view in state.registry._drf.values() if view.view_class.__name__ == "BookViewSet")
    dora = User.objects.create_user("dora", is_staff=True)
    dora.user_permissions.add(Permission.objects.get(codename="add_book"))
    callers = [User.objects.get(username=name) for name in ("alice", "bob", "carol")] + [dora]
    answers = set()
    for handler in books.methods:
        routed = books.route(handler)
        assert _judged_without_view(routed) is not None
        method = books.methods[handler][0].upper()
        for user in callers:
            caller = CallerContext(User.objects.get(pk=user.pk), host="testserver", scheme="http", correlation_id="t")
            built = view_instance(routed, handler, caller.request(method))
            try:
                built.check_permissions(built.request)
                expected = True
            except APIException:
                expected = False
            assert drf_permits(books, handler, caller) is expected, (handler, user.username)
            answers.add((user.username, method, expected))
    assert ("dora", "POST", True) in answers and ("bob", "POST", False) in answers and ("bob", "GET", True) in answers

    class OwnQueryset(ModelViewSet):
        permission_classes = books.view_class.permission_classes

        def get_queryset(self):
            return Book.objects.none()

    assert _judged_without_view(dataclasses.replace(books.route("list"), view_class=OwnQueryset)) is None
