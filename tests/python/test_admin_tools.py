"""The admin list / retrieve tools over the demo library, as a strict MCP client sees them.

Every successful call goes through `Tools.ok`, which checks `structuredContent` against the
tool's published `outputSchema` (formats asserted, as the TypeScript SDK does) and against
the text block. Expected rows come from the ORM.
"""

import datetime
import json
import re
from functools import cached_property

import jsonschema
import pytest
from conftest import rpc_error
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils.duration import duration_iso_string
from library.models import Author, Book, Tag


@pytest.fixture(autouse=True)
def admin_surface_only(settings):
    """These tests are about the admin's tools; the demo's routed views (open to any caller
    unless gated) and search tools have their own tests (test_views.py, test_search.py)."""
    settings.DJANGO_MCP_VIEW_INCLUDE = []
    settings.DJANGO_MCP_MODEL_SEARCH = []


PORTABLE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ADMIN_VERBS = ("list", "get", "create", "update", "delete", "delete_selected")
DEMO_TOOLS = {
    f"{verb}_{model}"
    for verb in ADMIN_VERBS
    for model in ("auth_group", "auth_user", "library_author", "library_tag", "library_book")
} | {"mark_published_library_book"}
MASK = "********"

# jsonschema checks only the formats whose optional packages are installed; a client such as
# the TypeScript SDK (ajv-formats) checks these too, so they are asserted here as well.
FORMATS = jsonschema.FormatChecker()
FORMATS.checks("uri")(lambda s: not isinstance(s, str) or bool(re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:\S*", s)))
FORMATS.checks("date-time", raises=ValueError)(
    lambda s: not isinstance(s, str) or ("T" in s and datetime.datetime.fromisoformat(s).tzinfo is not None)
)
FORMATS.checks("duration")(  # ajv-formats' RFC 3339 duration
    lambda s: not isinstance(s, str)
    or bool(re.fullmatch(r"P(?!$)((\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?|(\d+W)?)", s))
)


class Tools:
    """Calls tools for one credential and checks every result like a strict client."""

    def __init__(self, mcp):
        self.mcp = mcp

    @cached_property
    def listed(self):
        return {tool["name"]: tool for tool in self.mcp.all_tools()}

    def ok(self, name, arguments=None, *, schema_of=None):
        """The structuredContent of a successful call; `schema_of` names the listed tool
        whose outputSchema applies when `name` is an alias."""
        result = self.mcp.call(name, arguments)
        assert result["isError"] is False, result
        structured = result["structuredContent"]
        # The JSON as text, then for a returned object a link to its model resource, which
        # reads as the same object.
        text, *links = result["content"]
        assert text["type"] == "text" and json.loads(text["text"]) == structured
        if "object" in structured:
            [link] = links
            assert link["type"] == "resource_link" and link["uri"].startswith("django-mcp://model/")
            read = self.mcp.rpc("resources/read", {"uri": link["uri"]})
            if "error" in read:  # a user who may add or change but not view is held to that
                assert read["error"]["code"] == -32002, read
            else:
                assert json.loads(read["result"]["contents"][0]["text"]) == structured["object"]
        else:
            assert links == []
        schema = self.listed[schema_of or name]["outputSchema"]
        jsonschema.Draft202012Validator(schema, format_checker=FORMATS).validate(structured)
        return structured

    def error(self, name, arguments=None):
        """The message of a tool error (isError: true, one text block, no structuredContent)."""
        result = self.mcp.call(name, arguments)
        assert result["isError"] is True, result
        assert "structuredContent" not in result
        assert len(result["content"]) == 1 and result["content"][0]["type"] == "text"
        return result["content"][0]["text"]

    def refused(self, name, arguments, code):
        """The JSON-RPC error (not a tool error) a call is refused with."""
        response = self.mcp.post(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
        )
        return rpc_error(response, status=200, code=code)


@pytest.fixture
def tools(mcp):
    """alice, the superuser."""
    return Tools(mcp)


def ids(rows):
    return [row["id"] for row in rows]


def book(n):
    """The demo's book number n (0-based), as demo_seed numbers them."""
    return Book.objects.get(slug=f"book-{n + 1:02d}")


# The catalogue


def test_the_superuser_sees_every_verb_and_action_of_every_admin(tools):
    assert set(tools.listed) == DEMO_TOOLS


def test_every_tool_publishes_valid_schemas_names_and_annotations(tools):
    for name, tool in tools.listed.items():
        assert PORTABLE_NAME.fullmatch(name) and len(name) <= 48, name
        jsonschema.Draft202012Validator.check_schema(tool["inputSchema"])
        jsonschema.Draft202012Validator.check_schema(tool["outputSchema"])
        assert tool["inputSchema"]["type"] == "object" and tool["outputSchema"]["type"] == "object"
        # Every derived object is closed: the engine says so when a call sends more, the
        # descriptor does not spend bytes on it.
        assert "additionalProperties" not in tool["inputSchema"], name
        assert tool["title"] and tool["description"]
        reading = name.startswith(("list_", "get_"))
        removing = name.startswith("delete_") or name.startswith(("mark_published_",))
        # Hints at the MCP defaults go unsaid (read-only: false); destructive and idempotent
        # are said for the tools that write only, as they mean nothing for the others.
        assert tool["annotations"].get("readOnlyHint", False) is reading, name
        assert tool["annotations"]["openWorldHint"] is False, name
        assert tool["annotations"].get("destructiveHint") is (None if reading else removing), name


def test_list_and_get_schemas_follow_the_book_admin(tools):
    listing = tools.listed["list_library_book"]
    props = listing["inputSchema"]["properties"]
    assert set(props) == {"q", "filters", "ordering", "page", "page_size"}
    assert set(props["filters"]["properties"]) == {"status", "in_print", "author", "published", "decade"}
    assert props["filters"]["properties"]["status"]["enum"] == ["draft", "published", "archived"]
    assert props["page_size"]["default"] == 25  # BookAdmin.list_per_page
    row = listing["outputSchema"]["properties"]["results"]["items"]
    assert set(row["properties"]) == {"id", "title", "author", "status", "price", "published", "since_2000"}
    assert listing["title"] == "List books"

    getter = tools.listed["get_library_book"]
    assert getter["inputSchema"]["required"] == ["pk"]
    assert getter["inputSchema"]["properties"]["pk"]["type"] == "integer"
    assert getter["title"] == "Get book"


# list: paging, search, filters, ordering


def test_list_defaults_to_the_admin_ordering_and_page_size(tools, library):
    result = tools.ok("list_library_book")
    expected = list(Book.objects.order_by("title", "pk"))
    assert (result["count"], result["page"], result["page_size"]) == (60, 1, 25)
    assert ids(result["results"]) == [b.pk for b in expected[:25]]
    first = expected[0]
    assert result["results"][0] == {
        "id": first.pk,
        "title": first.title,
        "author": first.author_id,
        "status": first.status,
        "price": str(first.price),
        "published": first.published.isoformat() if first.published else None,
        "since_2000": None if first.published is None else first.published.year >= 2000,
    }


def test_pages_partition_the_whole_list(tools, library):
    seen, sizes = [], []
    for page in range(1, 10):
        result = tools.ok("list_library_book", {"page": page, "page_size": 7})
        assert (result["count"], result["page"], result["page_size"]) == (60, page, 7)
        sizes.append(len(result["results"]))
        seen.extend(ids(result["results"]))
    assert sizes == [7] * 8 + [4]
    assert seen == list(Book.objects.order_by("title", "pk").values_list("pk", flat=True))
    assert tools.ok("list_library_book", {"page": 10, "page_size": 7})["results"] == []


def test_a_page_far_past_the_end_is_empty(tools, library):
    result = tools.ok("list_library_book", {"page": 2**62})
    assert (result["results"], result["count"], result["page"]) == ([], 60, 2**62)


def _search(q):
    """What the admin's search finds: every word in title, summary or author name."""
    found = Book.objects.all()
    for word in q.split():
        found = found.filter(Q(title__icontains=word) | Q(summary__icontains=word) | Q(author__name__icontains=word))
    return found


@pytest.mark.parametrize("q", ["Turing", "compilers", "volume 7", "Hidden Signals", "no such book"])
def test_q_searches_the_admin_search_fields(tools, library, q):
    result = tools.ok("list_library_book", {"q": q, "page_size": 100})
    expected = _search(q).order_by("title", "pk")
    assert result["count"] == expected.count()
    assert ids(result["results"]) == [b.pk for b in expected]


def test_q_finds_by_author_name(tools, library):
    result = tools.ok("list_library_book", {"q": "grace", "page_size": 100})
    grace = Author.objects.get(name="Grace Hopper")
    assert result["count"] == 20
    assert {row["author"] for row in result["results"]} == {grace.pk}


@pytest.mark.parametrize(
    "filters, lookup",
    [
        ({"status": "published"}, {"status": "published"}),
        ({"in_print": False}, {"in_print": False}),
        ({"status": "draft", "in_print": True}, {"status": "draft", "in_print": True}),
        ("turing's books", {"author__name": "Alan Turing"}),
    ],
)
def test_filters_narrow_the_list(tools, library, filters, lookup):
    if filters == "turing's books":
        filters = {"author": Author.objects.get(name="Alan Turing").pk}
    result = tools.ok("list_library_book", {"filters": filters, "page_size": 100})
    expected = Book.objects.filter(**lookup).order_by("title", "pk")
    assert 0 < result["count"] == expected.count() < 60
    assert ids(result["results"]) == [b.pk for b in expected]


def test_search_filters_and_paging_combine(tools, library):
    result = tools.ok("list_library_book", {"q": "volume", "filters": {"in_print": True}, "page": 2, "page_size": 5})
    expected = _search("volume").filter(in_print=True).order_by("title", "pk")
    assert result["count"] == expected.count() == 40
    assert ids(result["results"]) == [b.pk for b in expected[5:10]]


@pytest.mark.parametrize(
    "ordering, order_by",
    [
        ("-price,title", ["-price", "title", "pk"]),
        ("-id", ["-id"]),
        ("author,title", ["author__name", "title", "pk"]),
        ("published,-title", ["published", "-title", "-pk"]),
    ],
)
def test_ordering_by_listed_fields(tools, library, ordering, order_by):
    result = tools.ok("list_library_book", {"ordering": ordering, "page_size": 60})
    assert ids(result["results"]) == list(Book.objects.order_by(*order_by).values_list("pk", flat=True))


def test_a_many_to_many_list_filter_takes_one_pk(tools, library):
    editors = Group.objects.create(name="editors")
    User.objects.get(username="bob").groups.add(editors)
    schema = tools.listed["list_auth_user"]["inputSchema"]["properties"]["filters"]["properties"]["groups"]
    assert schema["type"] == "integer"
    result = tools.ok("list_auth_user", {"filters": {"groups": editors.pk}})
    assert [row["username"] for row in result["results"]] == ["bob"]
    assert tools.ok("get_auth_user", {"pk": User.objects.get(username="bob").pk})["object"]["groups"] == [editors.pk]


# retrieve


def test_get_returns_every_shown_field_in_its_json_shape(tools, library):
    b = book(10)  # tags, a cover, a reading time, a publication date, metadata
    assert b.tags.count() == 2 and b.cover and b.reading_time and b.published
    obj = tools.ok("get_library_book", {"pk": b.pk})["object"]
    assert obj == {
        "id": b.pk,
        "title": "The Analytical Patterns, Volume 11",
        "slug": "book-11",
        "summary": "Volume 11 of a series on patterns.",
        "status": "published",
        "pages": 150,
        "price": "9.99",
        "rating": None,
        "in_print": True,
        "published": b.published.isoformat(),
        "isbn": str(b.isbn),
        "author": b.author_id,
        "tags": obj["tags"],  # order is the relation's; compared below
        "cover": b.cover.name,
        "metadata": {"edition": 2, "language": "en"},
        "reading_time": "P0DT01H30M00S",
        "website": "",
    }
    assert sorted(obj["tags"]) == sorted(
        Tag.objects.filter(slug__in=["fiction", "history"]).values_list("pk", flat=True)
    )
    assert obj["cover"].startswith("covers/book-11") and obj["cover"].endswith(".png")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", obj["isbn"])
    assert "created_at" not in obj  # not editable, so the admin form does not show it


def test_every_book_and_author_validates_and_matches_the_orm(tools, library):
    for b in Book.objects.prefetch_related("tags"):
        obj = tools.ok("get_library_book", {"pk": b.pk})["object"]
        assert obj["price"] == str(b.price) and obj["rating"] == b.rating and obj["website"] == b.website
        assert obj["reading_time"] == (duration_iso_string(b.reading_time) if b.reading_time else None)
        assert obj["cover"] == (b.cover.name or None)
        assert sorted(obj["tags"]) == sorted(t.pk for t in b.tags.all())
    for a in Author.objects.all():
        obj = tools.ok("get_library_author", {"pk": a.pk})["object"]
        assert obj == {
            "id": a.pk,
            "name": a.name,
            "email": a.email,
            "birth_date": a.birth_date.isoformat() if a.birth_date else None,
        }


def test_every_object_of_every_admin_validates(tools, library):
    """A sweep over every list tool and every row's get tool, with the less common shapes
    present: a user without an email, a group with permissions, a login time."""
    from django.contrib.auth.models import Permission

    Group.objects.create(name="curators").permissions.set(Permission.objects.filter(codename__startswith="view_"))
    User.objects.create_user("dave", email="")
    User.objects.filter(username="alice").update(last_login=datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC))
    for name in sorted(tools.listed):
        if not name.startswith("list_"):
            continue
        rows = tools.ok(name, {"page_size": 1000})["results"]
        assert rows, name
        getter = name.replace("list_", "get_", 1)
        fields = tools.listed[getter]["outputSchema"]["properties"]["object"]["properties"]
        for row in rows:
            obj = tools.ok(getter, {"pk": row["id"]})["object"]
            # Columns the admin computes (str(obj), @admin.display methods) are not fields.
            shown = {k: v for k, v in row.items() if k in fields}
            assert {k: obj[k] for k in shown} == shown, name


@pytest.mark.parametrize("name, model", [("get_library_book", "book"), ("get_library_author", "author")])
@pytest.mark.parametrize("pk", [999999, 0, -1])
def test_an_unknown_pk_is_a_tool_error(tools, library, name, model, pk):
    assert tools.error(name, {"pk": pk}) == f"No {model} with pk {pk} exists that you can see."


# Arguments are validated before anything runs


@pytest.mark.parametrize(
    "name, arguments, message",
    [
        ("list_library_book", {"page": "2"}, "page: expected integer, got string"),
        ("list_library_book", {"page": 0}, "page: must be at least 1"),
        ("list_library_book", {"page_size": 1001}, "page_size: must be at most 1000"),
        ("list_library_book", {"page_size": 2.5}, "page_size: expected integer, got number"),
        ("list_library_book", {"q": 5}, "q: expected string, got integer"),
        ("list_library_book", {"limit": 5}, "limit: is not an accepted argument"),
        (
            "list_library_book",
            {"filters": {"author__password__startswith": "pbkdf2"}},
            "filters.author__password__startswith: is not an accepted argument",
        ),
        ("list_library_book", {"filters": {"status": "lost"}}, 'filters.status: must be one of "draft"'),
        ("list_library_book", {"filters": {"in_print": "yes"}}, "filters.in_print: expected boolean, got string"),
        ("list_library_book", {"filters": {"author": "1"}}, "filters.author: expected integer, got string"),
        ("list_library_book", {"filters": "status=draft"}, "filters: expected object, got string"),
        ("list_library_book", {"ordering": "author__name"}, "ordering: is not in the accepted form"),
        ("list_library_book", {"ordering": "summary"}, "ordering: is not in the accepted form"),
        ("list_library_book", {"ordering": "title,"}, "ordering: is not in the accepted form"),
        ("list_library_book", {"ordering": ["title"]}, "ordering: expected string, got array"),
        ("list_library_tag", {"q": "fiction"}, "q: is not an accepted argument"),
        ("get_library_book", {"pk": "abc"}, "pk: expected integer, got string"),
        ("get_library_book", {}, "pk: is required"),
        ("get_library_book", {"pk": 1, "fields": ["title"]}, "fields: is not an accepted argument"),
        ("update_library_book", {"pk": 1, "fields": {}}, "fields: needs at least one property"),
        ("list_auth_user", {"ordering": "password"}, "ordering: is not in the accepted form"),
        (
            "list_auth_user",
            {"filters": {"password__startswith": "pbkdf2"}},
            "filters.password__startswith: is not an accepted argument",
        ),
    ],
)
def test_bad_arguments_are_a_tool_error_naming_them_and_nothing_is_queried(tools, library, name, arguments, message):
    with CaptureQueriesContext(connection) as queries:
        text = tools.error(name, arguments)
    assert text.startswith(f"Invalid arguments: {message}"), text
    # Only the key is looked up (and perhaps its last use recorded); no model is touched.
    assert [q["sql"] for q in queries if "django_mcp_mcpapikey" not in q["sql"]] == []


# Secrets never leave


def test_password_hashes_are_masked(tools, library):
    alice = User.objects.get(username="alice")
    response = tools.mcp.post(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get_auth_user", "arguments": {"pk": alice.pk}},
        }
    )
    assert alice.password not in response.content.decode()
    obj = tools.ok("get_auth_user", {"pk": alice.pk})["object"]
    assert obj["password"] == MASK
    assert obj["username"] == "alice" and obj["is_superuser"] is True
    for row in tools.ok("list_auth_user")["results"]:
        assert "password" not in row


def test_redact_fields_masks_a_model_field(tools, library, settings):
    settings.DJANGO_MCP_REDACT_FIELDS = ["library.Book.summary"]
    with_summary, without = book(10), book(0)
    assert with_summary.summary and not without.summary
    obj = tools.ok("get_library_book", {"pk": with_summary.pk})["object"]
    assert obj["summary"] == MASK
    # Emptiness is information too: an empty secret is masked as well.
    assert tools.ok("get_library_book", {"pk": without.pk})["object"]["summary"] == MASK
    summary_schema = tools.listed["get_library_book"]["outputSchema"]["properties"]["object"]["properties"]["summary"]
    assert summary_schema["type"] == ["string", "null"]
    # Other models' fields of the same name are untouched: the entry is qualified.
    assert obj["title"] == with_summary.title


def test_redact_fields_masks_a_bare_field_name_everywhere(tools, library, settings):
    settings.DJANGO_MCP_REDACT_FIELDS = ["email"]
    ada = Author.objects.get(name="Ada Lovelace")
    assert tools.ok("get_library_author", {"pk": ada.pk})["object"]["email"] == MASK
    assert {row["email"] for row in tools.ok("list_library_author")["results"]} == {MASK}
    assert {row["email"] for row in tools.ok("list_auth_user")["results"]} == {MASK}


# Who may call what


def test_bob_sees_and_calls_only_the_author_tools(mcp_as, bob_key, library):
    bob = Tools(mcp_as(bob_key))
    assert list(bob.listed) == ["list_library_author", "get_library_author"]
    assert bob.ok("list_library_author")["count"] == 3
    ada = Author.objects.get(name="Ada Lovelace")
    assert bob.ok("get_library_author", {"pk": ada.pk})["object"]["name"] == "Ada Lovelace"
    for name, arguments in [
        ("list_library_book", {}),
        ("get_library_book", {"pk": book(0).pk}),
        ("get_auth_user", {"pk": 1}),
    ]:
        error = bob.refused(name, arguments, -32002)
        assert error["data"] == {"target": name}


def test_a_user_who_is_not_staff_sees_nothing(mcp_as, make_key):
    carol = Tools(mcp_as(make_key("carol")))
    assert carol.listed == {}
    carol.refused("list_library_author", {}, -32002)


def test_a_keys_allowlist_narrows_the_tools(mcp_as, make_key, library):
    scoped = Tools(mcp_as(make_key("alice", allowed_tools=["list_library_author"])))
    assert list(scoped.listed) == ["list_library_author"]
    assert scoped.ok("list_library_author")["count"] == 3
    for name, arguments in [("get_library_author", {"pk": 1}), ("list_library_book", {})]:
        error = scoped.refused(name, arguments, -32003)
        assert error["data"] == {"target": name, "reason": "unlisted", "by": "key"}


def test_an_allowlist_may_name_the_dotted_alias(mcp_as, make_key, library):
    scoped = Tools(mcp_as(make_key("alice", allowed_tools=["admin.list:library.Author"])))
    assert list(scoped.listed) == ["list_library_author"]
    assert scoped.ok("admin.list:library.Author", schema_of="list_library_author")["count"] == 3


# Names


def test_dotted_names_mode(tools, library, settings):
    settings.DJANGO_MCP_TOOL_NAMES = "dotted"
    labels = ("auth.Group", "auth.User", "library.Author", "library.Tag", "library.Book")
    assert set(tools.listed) == {
        f"admin.{verb}:{label}" for verb in ("list", "retrieve", "create", "update", "delete") for label in labels
    } | {f"admin.action:{label}.delete_selected" for label in labels} | {"admin.action:library.Book.mark_published"}
    result = tools.ok("admin.list:library.Book", {"filters": {"status": "archived"}})
    assert result["count"] == Book.objects.filter(status="archived").count()
    b = book(3)
    assert tools.ok("admin.retrieve:library.Book", {"pk": b.pk})["object"]["slug"] == "book-04"
    # The portable name stays callable as an alias.
    assert tools.ok("get_library_book", {"pk": b.pk}, schema_of="admin.retrieve:library.Book")["object"]["id"] == b.pk


def test_the_dotted_alias_is_accepted_in_portable_mode(tools, library):
    b = book(5)
    assert tools.ok("admin.retrieve:library.Book", {"pk": b.pk}, schema_of="get_library_book")["object"]["id"] == b.pk
    listed = tools.ok("admin.list:library.Book", {"page_size": 3}, schema_of="list_library_book")
    assert listed["count"] == 60 and len(listed["results"]) == 3


# get_queryset scoping (tests/python/fixtures/scoped_admin.py: a site whose Book admin shows books in print)


@pytest.fixture
def scoped_site(settings):
    settings.DJANGO_MCP_ADMIN_SITES = ["fixtures.scoped_admin.site"]


def test_a_model_admins_get_queryset_scopes_list_and_search(tools, library, scoped_site):
    assert set(tools.listed) == {f"scoped_{verb}_library_book" for verb in (*ADMIN_VERBS, "mark_published")}
    in_print = Book.objects.filter(in_print=True).order_by("title", "pk")
    result = tools.ok("scoped_list_library_book", {"page_size": 100})
    assert result["count"] == in_print.count() == 40
    assert ids(result["results"]) == [b.pk for b in in_print]
    assert tools.ok("scoped_list_library_book", {"filters": {"in_print": False}})["count"] == 0
    searched = tools.ok("scoped_list_library_book", {"q": "Turing", "page_size": 100})
    assert ids(searched["results"]) == [b.pk for b in _search("Turing").filter(in_print=True).order_by("title", "pk")]


def test_a_model_admins_get_queryset_scopes_retrieve(tools, library, scoped_site):
    visible, hidden = book(0), book(2)
    assert visible.in_print and not hidden.in_print
    assert tools.ok("scoped_get_library_book", {"pk": visible.pk})["object"]["id"] == visible.pk
    assert tools.error("scoped_get_library_book", {"pk": hidden.pk}) == (
        f"No book with pk {hidden.pk} exists that you can see."
    )


def test_the_admin_widget_hint_is_left_out_of_many_to_many_help(tools):
    groups = tools.listed["update_auth_user"]["inputSchema"]["properties"]["fields"]["properties"]["groups"]
    assert groups["description"].startswith("The groups this user belongs to.")
    assert "Hold down" not in groups["description"]
