"""We never show more than the admin does (issue 17): a column the caller's own
`get_list_display` leaves out is not sent; a redacted field (the user model's `password`, a
DJANGO_MCP_REDACT_FIELDS entry) is masked wherever it appears — relation paths, routed
views' and DRF views' JSON included — and takes part in no search, ordering or filter of an
admin list, neither in the schemas published nor in the host when a call asks anyway; a JSON
view body is cut at BODY_LIMIT characters.

The `redaction` site below redacts through relation paths (`author__email` with
`library.Author.email` redacted; `user__password` of the admin's LogEntry) and shows the
price only to superusers. `redaction_views.py` holds the views.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Permission, User
from django.contrib.contenttypes.models import ContentType
from library.models import Book
from test_admin_tools import MASK, Tools

from conftest import db_dump
from django_mcp.effects import EffectRunner
from django_mcp.effects.responses import BODY_LIMIT
from django_mcp.facts.admin import collect_admins
from django_mcp.requests import CallerContext


class RedactionBookAdmin(admin.ModelAdmin):
    list_display = ["title", "author__email", "summary", "price", "status"]
    search_fields = ["title", "^author__email", "summary"]
    list_filter = ["status", "author__email", "summary"]
    ordering = ["title"]

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        if not request.user.is_superuser:
            shown.remove("price")
        return shown


class LogEntryAdmin(admin.ModelAdmin):
    list_display = ["object_repr", "user__username", "user__password"]
    search_fields = ["object_repr", "user__password"]
    list_filter = ["user__password", "action_flag"]


site = admin.AdminSite(name="redaction")
site.register(Book, RedactionBookAdmin)
site.register(LogEntry, LogEntryAdmin)
BOOKS = "redaction/library.book"
ENTRIES = "redaction/admin.logentry"


@pytest.fixture
def redaction(settings, library):
    settings.DJANGO_MCP_ADMIN_SITES = [site]
    settings.DJANGO_MCP_REDACT_FIELDS = ["library.Author.email", "library.Book.summary"]
    settings.DJANGO_MCP_URLCONFS = ["fixtures.redaction_views"]
    settings.DJANGO_MCP_MODEL_SEARCH = []


@pytest.fixture
def alice(mcp, redaction):
    return Tools(mcp)


@pytest.fixture
def entries(redaction):
    """Two admin history entries, one by alice and one by bob."""
    kind = ContentType.objects.get_for_model(Book)
    for name in ("alice", "bob"):
        LogEntry.objects.create(
            user=User.objects.get(username=name),
            content_type=kind,
            object_id="1",
            object_repr=f"Book by {name}",
            action_flag=ADDITION,
        )


def listing(caller, admin_id=BOOKS, **arguments):
    """The `admin.list` effect run for `caller` as an engine asking anyway would ask it; its
    {"ok": …} or {"error": …}."""
    registry, _admins = collect_admins()
    effect = {
        "kind": "admin.list",
        "admin": admin_id,
        "columns": [{"name": "id", "field": "id"}],
        "masked": [],
        "filters": [],
        "ordering": [],
        "page": 1,
        "page_size": 100,
    } | arguments
    return EffectRunner(CallerContext(User.objects.get(username=caller)), registry)([effect])[0]


# (a) the caller's own list_display


def test_a_model_field_column_the_callers_list_display_leaves_out_is_not_sent(alice, mcp_as, make_key):
    erin = User.objects.create_user("erin", is_staff=True)
    erin.user_permissions.add(Permission.objects.get(codename="view_book"))
    rows = Tools(mcp_as(make_key("erin"))).ok("redaction_list_library_book")["results"]
    assert rows and all("price" not in row and "title" in row for row in rows)
    assert all("price" in row for row in alice.ok("redaction_list_library_book")["results"])
    # The host holds any request to the caller's list, whatever the engine asks for.
    asked = listing(
        "erin",
        columns=[
            {"name": "id", "field": "id"},
            {"name": "price", "field": "price"},
            {"name": "pages", "field": "pages"},
            {"name": "title", "field": "title"},
        ],
    )
    assert all(set(row) == {"id", "title"} for row in asked["ok"]["results"]), asked


# (b) redacted fields in admin lists: masked, never searched, sorted or filtered on


def test_relation_path_columns_that_end_at_a_redacted_field_are_masked(alice, entries):
    tool = alice.listed["redaction_list_library_book"]
    row = tool["outputSchema"]["properties"]["results"]["items"]["properties"]
    assert row["author__email"]["description"] == "Redacted: never sent."
    rows = alice.ok("redaction_list_library_book", {"page_size": 100})["results"]
    assert {row["author__email"] for row in rows} == {MASK} and {row["summary"] for row in rows} == {MASK}
    hashes = set(User.objects.values_list("password", flat=True))
    rows = alice.ok("redaction_list_admin_logentry")["results"]
    assert {row["user__password"] for row in rows} == {MASK} and not hashes & {row["user__username"] for row in rows}
    assert {row["user__username"] for row in rows} == {"alice", "bob"}


def test_search_never_looks_at_a_redacted_field(alice, entries):
    tool = alice.listed["redaction_list_library_book"]
    described = tool["inputSchema"]["properties"]["q"]["description"] + tool["description"]
    assert "title" in described and "email" not in described and "summary" not in described
    assert alice.ok("redaction_list_library_book", {"q": "ada"})["count"] == 0  # the ^author__email prefix
    assert (
        alice.ok("redaction_list_library_book", {"q": Book.objects.exclude(summary="").first().summary})["count"] == 0
    )
    assert alice.ok("redaction_list_library_book", {"q": "volume"})["count"] > 0  # the title still is searched
    prefix = User.objects.get(username="alice").password[:6]  # md5$…
    assert alice.ok("redaction_list_admin_logentry", {"q": prefix})["count"] == 0
    assert alice.ok("redaction_list_admin_logentry", {"q": "Book by"})["count"] == 2


def test_masked_columns_are_not_sortable(alice, entries):
    ordering = alice.listed["redaction_list_library_book"]["inputSchema"]["properties"]["ordering"]
    assert "author__email" not in ordering["pattern"] and "summary" not in ordering["pattern"]
    assert "title" in ordering["pattern"]
    assert (
        "user__password"
        not in alice.listed["redaction_list_admin_logentry"]["inputSchema"]["properties"]["ordering"]["pattern"]
    )
    before = db_dump()
    for column in ("summary", "-author__email"):
        assert alice.error("redaction_list_library_book", {"ordering": column}).startswith(
            "Invalid arguments: ordering: is not in the accepted form"
        )
    assert db_dump() == before


def test_no_list_filter_on_a_redacted_path_is_offered(alice, entries):
    filters = alice.listed["redaction_list_library_book"]["inputSchema"]["properties"]["filters"]["properties"]
    assert set(filters) == {"status"}
    assert "author__email" not in alice.listed["redaction_list_library_book"]["description"]
    filters = alice.listed["redaction_list_admin_logentry"]["inputSchema"]["properties"]["filters"]["properties"]
    assert set(filters) == {"action_flag"}


@pytest.mark.parametrize(
    "admin_id, arguments, message",
    [
        (BOOKS, {"ordering": ["author__email"]}, "ordering: author__email is not a sortable column"),
        (BOOKS, {"ordering": ["-summary"]}, "ordering: summary is not a sortable column"),
        (ENTRIES, {"ordering": ["user__password"]}, "ordering: user__password is not a sortable column"),
        (
            BOOKS,
            {"filters": [{"kind": "field", "path": "author__email", "value": "ada@example.com"}]},
            "filters.author__email: is not a list filter of this admin",
        ),
        (
            ENTRIES,
            {"filters": [{"kind": "field", "path": "user__password", "value": "x"}]},
            "filters.user__password: is not a list filter of this admin",
        ),
    ],
)
def test_the_host_refuses_ordering_and_filters_on_redacted_paths(redaction, entries, admin_id, arguments, message):
    before = db_dump()
    result = listing("alice", admin_id, **arguments)
    assert result["error"]["kind"] == "validation" and result["error"]["message"] == message, result
    assert db_dump() == before


def test_the_host_masks_redacted_paths_and_searches_around_them_whatever_it_is_asked(redaction, entries):
    columns = [
        {"name": "id", "field": "id"},
        {"name": "author__email", "field": None},
        {"name": "summary", "field": "summary"},
    ]
    rows = listing("alice", columns=columns, page_size=100)["ok"]["results"]
    assert {row["author__email"] for row in rows} == {MASK} and {row["summary"] for row in rows} == {MASK}
    assert listing("alice", q="ada")["ok"]["count"] == 0
    assert listing("alice", ENTRIES, q="md5")["ok"]["count"] == 0


# (c) DRF and routed views: redacted keys masked in their JSON


def view_tool(tools, route):
    [name] = [name for name, tool in tools.listed.items() if f"/{route};" in tool["description"]]
    return name


def test_a_views_json_has_redacted_keys_masked(alice):
    answer = alice.mcp.call(view_tool(alice, "redaction/people/"))["structuredContent"]
    hashes = set(User.objects.values_list("password", flat=True))
    people = answer["body"]["people"]
    assert [p["username"] for p in people] == ["alice", "bob", "carol"]
    assert {p["password"] for p in people} == {MASK} and answer["body"]["password"] == MASK  # empty too
    # Any key named as a redacted field is masked: `email` here, though not an Author's.
    assert {p["profile"]["email"] for p in people} == {MASK} and {p["profile"]["last_login"] for p in people} == {None}
    assert answer["body"]["count"] == 3 and not any(h in str(answer) for h in hashes)


def test_a_drf_views_json_has_redacted_keys_masked(alice):
    answer = alice.mcp.call(view_tool(alice, "redaction/api/people/"))["structuredContent"]
    people = answer["body"]["results"]
    assert {p["password"] for p in people} == {MASK} and {p["profile"]["email"] for p in people} == {MASK}
    book = Book.objects.exclude(summary="").first()
    got = alice.mcp.call("get_api_book", {"path": {"pk": book.pk}})["structuredContent"]["object"]
    assert got["summary"] == MASK and got["title"] == book.title
    rows = alice.mcp.call("list_api_book", {"page_size": 50})["structuredContent"]["results"]
    assert rows and {row["summary"] for row in rows} == {MASK}


# (d) JSON bodies are cut


def test_a_multi_megabyte_json_body_is_cut_and_the_server_keeps_serving(alice):
    name = view_tool(alice, "redaction/big/")
    result = alice.mcp.call(name)
    assert result["isError"] is False, result
    answer = result["structuredContent"]
    assert answer["status"] == 200 and answer["truncated"] is True
    body = answer["body"]
    assert isinstance(body, str) and body.startswith('{"rows":[{"n":0,"text":"' + "x" * 100)
    marker = body[BODY_LIMIT:]
    assert marker.startswith("\n[… cut at 20000 of ") and int(marker.split()[5]) > 4_000_000
    assert "cut at 20000" in result["content"][0]["text"]
    assert User.objects.order_by("pk").first().password not in body and f'"password":"{MASK}"' in body
    assert alice.mcp.rpc("ping")["result"] == {}
    assert alice.mcp.call(view_tool(alice, "redaction/people/"))["structuredContent"]["body"]["count"] == 3


def test_a_cut_json_stream_that_names_a_redacted_field_is_withheld(alice):
    answer = alice.mcp.call(view_tool(alice, "redaction/streamed/"))["structuredContent"]
    assert answer["truncated"] is True and User.objects.order_by("pk").first().password not in answer["body"]
    assert answer["body"].startswith("[a JSON body cut short")


# (e) the engine's verdict is all the host applies: what it did not clear is not used in clear


class CallerSearchBookAdmin(admin.ModelAdmin):
    list_display = ["title"]
    search_fields = ["title"]

    def get_search_fields(self, request):
        # Decided per request: the engine only ever saw `search_fields`.
        return [*self.search_fields, "^author__email"]


class KeyHolderAdmin(admin.ModelAdmin):
    list_display = ["username"]
    search_fields = ["username", "mcp_api_keys__secret_hash"]


closed = admin.AdminSite(name="closed")
closed.register(Book, CallerSearchBookAdmin)
closed.register(User, KeyHolderAdmin)


@pytest.fixture
def fail_closed(settings, library, mcp):
    settings.DJANGO_MCP_ADMIN_SITES = [closed]
    settings.DJANGO_MCP_REDACT_FIELDS = ["library.Author.email"]
    settings.DJANGO_MCP_URLCONFS = ["fixtures.redaction_views"]
    settings.DJANGO_MCP_MODEL_SEARCH = []
    return Tools(mcp)


def test_a_search_field_a_callers_admin_adds_is_never_searched(fail_closed):
    assert fail_closed.ok("closed_list_library_book", {"q": "ada"})["count"] == 0  # only ^author__email matches
    assert fail_closed.ok("closed_list_library_book", {"q": "volume"})["count"] > 0


def test_our_key_hashes_are_never_searched_nor_sent_whatever_the_settings(fail_closed, settings):
    settings.DJANGO_MCP_REDACT_FIELDS = []
    [key] = User.objects.get(username="alice").mcp_api_keys.all()
    tool = fail_closed.listed["closed_list_auth_user"]
    assert "secret" not in tool["inputSchema"]["properties"]["q"]["description"]
    assert fail_closed.ok("closed_list_auth_user", {"q": key.secret_hash[-12:]})["count"] == 0
    assert fail_closed.ok("closed_list_auth_user", {"q": "alice"})["count"] == 1
    body = fail_closed.mcp.call(view_tool(fail_closed, "redaction/keys/"))["structuredContent"]["body"]
    assert body == {"keys": [{"name": key.name, "secret_hash": MASK}]}
