"""Search tools on the host side: DJANGO_MCP_MODEL_SEARCH as facts for the engine
(`facts/search.py`) and as system checks, and the `model.search` effect (`effects/search.py`)
through the EffectRunner with the registry `gather()` builds.

Results carry only the entry's `fields`; secrets are never returned, searched nor filtered
on; a model with a ModelAdmin is searched through its `get_queryset`.
"""

import json
import logging

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.core import checks
from django.db import connection
from django.test.utils import CaptureQueriesContext
from library.models import Author, Book

from django_mcp import server
from django_mcp.effects import EffectRunner
from django_mcp.facts import gather
from django_mcp.identity import Identity
from django_mcp.requests import CallerContext

MASK = "********"
BOOKS = {
    "model": "library.Book",
    "search_fields": ["title", "summary", "author__name"],
    "filter_fields": ["status", "in_print", "author", "published", "tags"],
    "fields": ["id", "title", "status", "published", "author", "tags"],
}


def facts():
    return json.loads(gather()[0])


def searches():
    return {search["model"]: search for search in facts()["searches"]}


@pytest.fixture
def warnings(caplog):
    caplog.set_level(logging.WARNING, logger="django_mcp.facts")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "django_mcp.facts"]


@pytest.fixture
def no_admin(settings):
    """A configured admin site that registers nothing: searches go through default managers."""
    settings.DJANGO_MCP_ADMIN_SITES = [admin.AdminSite(name="empty")]


def errors():
    return [e.msg for e in checks.run_checks() if e.id == "django_mcp.E019"]


# Facts


def test_no_searches_by_default(db, settings):
    del settings.DJANGO_MCP_MODEL_SEARCH
    assert facts()["searches"] == []


def test_a_string_entry_gets_the_defaults(library, settings):
    settings.DJANGO_MCP_MODEL_SEARCH = ["library.tag", "sessions.Session"]
    assert facts()["searches"] == [
        {
            "model": "library.Tag",
            "admin": "admin/library.tag",
            "search_fields": [],
            "filter_fields": [],
            "fields": None,  # the engine chooses them
            "permission": "library.view_tag",
        },
        {
            "model": "sessions.Session",
            "admin": None,
            "search_fields": [],
            "filter_fields": [],
            "fields": None,
            "permission": "sessions.view_session",
        },
    ]
    assert engine_fields("library.Tag") == ["id"]
    assert engine_fields("sessions.Session") == ["session_key"]


def test_a_dict_entry_defaults_its_fields_to_the_pk_and_its_own_search_and_filter_fields(library, settings):
    settings.DJANGO_MCP_MODEL_SEARCH = [
        {
            "model": "library.Book",
            "search_fields": ["title", "author__name"],
            "filter_fields": ["status", "author", "author__name", "tags"],
            "permission": "library.change_book",
        }
    ]
    assert searches()["library.Book"] == {
        "model": "library.Book",
        "admin": "admin/library.book",
        "search_fields": ["title", "author__name"],
        "filter_fields": ["status", "author", "author__name", "tags"],
        "fields": None,
        "permission": "library.change_book",
    }
    assert engine_fields("library.Book") == ["author", "id", "status", "tags", "title"]  # never `price`…


def test_explicit_fields_are_the_only_result_fields(db, settings):
    settings.DJANGO_MCP_MODEL_SEARCH = [BOOKS, {"model": "auth.User", "fields": ["id", "username"]}]
    got = searches()
    assert got["library.Book"]["fields"] == BOOKS["fields"]
    assert got["auth.User"]["fields"] == ["id", "username"]


def test_the_models_their_paths_cross_are_described(db, settings, no_admin):
    # Tag has no forward relation: Book and Author are described only because the paths cross them.
    settings.DJANGO_MCP_MODEL_SEARCH = [{"model": "library.Tag", "search_fields": ["books__author__name"]}]
    got = facts()
    assert got["searches"][0]["admin"] is None
    assert {"library.Tag", "library.Book", "library.Author"} <= {model["label"] for model in got["models"]}


def test_the_admin_is_the_first_configured_site_that_registers_the_model(db, settings):
    settings.DJANGO_MCP_ADMIN_SITES = ["fixtures.scoped_admin.site", "django.contrib.admin.site"]
    settings.DJANGO_MCP_MODEL_SEARCH = ["library.Book", "library.Author"]
    got = searches()
    assert got["library.Book"]["admin"] == "scoped/library.book"
    assert got["library.Author"]["admin"] == "admin/library.author"


BAD_ENTRIES = [
    ("library.Nope", "'library.Nope' is not an installed model"),
    (42, "42 is neither"),
    ({"search_fields": ["title"]}, "None is neither"),
    ({"model": "library.Book", "searchfields": ["title"]}, "unknown keys ['searchfields']"),
    ({"model": "library.Book", "search_fields": ["nope"]}, "library.Book has no field 'nope'"),
    ({"model": "library.Book", "search_fields": ["author"]}, "'author' is a relation"),
    ({"model": "library.Book", "search_fields": ["title__name"]}, "title is not a relation"),
    ({"model": "library.Book", "filter_fields": ["author__books"]}, "follows a reverse relation"),
    ({"model": "library.Book", "fields": ["author__name"]}, "'author__name' is not a field of library.Book"),
    ({"model": "library.Book", "fields": "title"}, "fields must be a list of field names"),
    ({"model": "library.Book", "permission": "view_book"}, "is not an 'app_label.codename' string"),
    ("django_mcp.MCPAPIKey", "never through MCP"),
    ({"model": "auth.User", "search_fields": ["mcp_api_keys__name"]}, "never served through MCP"),
    # Secrets: never returned, and never searched nor filtered on (an oracle for the hash).
    ({"model": "auth.User", "fields": ["id", "password"]}, "auth.User.password is a secret"),
    ({"model": "auth.User", "filter_fields": ["password"]}, "auth.User.password is a secret"),
    ({"model": "library.Book", "search_fields": ["author__email"]}, "library.Author.email is a secret"),
    ({"model": "admin.LogEntry", "filter_fields": ["user__password"]}, "'user__password': auth.User.password is a"),
    ({"model": "library.Author", "fields": ["id", "email"]}, "'email': library.Author.email is a secret"),
    (
        {"model": "auth.User", "search_fields": ["mcp_api_keys__secret_hash"]},
        "'mcp_api_keys__secret_hash': django_mcp.MCPAPIKey.secret_hash is a secret",
    ),
]


@pytest.mark.parametrize("entry, logged", BAD_ENTRIES)
def test_a_bad_entry_is_left_out_with_a_warning_and_is_a_check_error(db, settings, warnings, entry, logged):
    settings.DJANGO_MCP_REDACT_FIELDS = ["library.Author.email"]
    settings.DJANGO_MCP_MODEL_SEARCH = [entry, "library.Tag"]
    assert [search["model"] for search in facts()["searches"]] == ["library.Tag"]
    assert any(logged in message for message in warnings()), warnings()
    reported = errors()
    assert len(reported) == 1 and logged in reported[0], reported


def test_a_second_entry_for_a_model_is_left_out(db, settings, warnings):
    settings.DJANGO_MCP_MODEL_SEARCH = [{"model": "library.Book", "search_fields": ["title"]}, "library.book"]
    assert [search["search_fields"] for search in facts()["searches"]] == [["title"]]
    assert any("a second entry for library.Book" in message for message in warnings())
    assert errors() == ["DJANGO_MCP_MODEL_SEARCH: library.Book is listed twice."]


def test_a_setting_that_is_not_a_list_gives_nothing(db, settings):
    settings.DJANGO_MCP_MODEL_SEARCH = "library.Book"
    assert facts()["searches"] == []
    assert len(errors()) == 1


def test_the_demo_settings_pass_the_checks(settings):
    assert settings.DJANGO_MCP_MODEL_SEARCH and errors() == []


# The effect


def run(caller, *effects):
    _facts, registry = gather()
    caller = User.objects.get(username=caller) if isinstance(caller, str) else caller
    return EffectRunner(CallerContext(caller, correlation_id="c0ffee"), registry)(list(effects))


def engine_fields(model):
    """The result fields the engine chose for the entry of `model`: its search tool's output,
    as the server lists it to alice (in the schema's order: by name)."""
    identity, params = Identity(User.objects.get(username="alice")), {}
    while True:
        message = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": params})
        result = json.loads(server.handle(message, identity=identity, transport="stdio").reply)["result"]
        for tool in result["tools"]:
            if tool["name"] == f"search_{model.lower().replace('.', '_')}":
                return list(tool["outputSchema"]["properties"]["results"]["items"]["properties"])
        params = {"cursor": result["nextCursor"]}


def search_effect(model="library.Book", **arguments):
    """The effect the engine sends for the entry of `model` (as the facts describe it)."""
    entry = searches()[model]
    effect = {
        "kind": "model.search",
        "model": model,
        "admin": entry["admin"],
        "q": None,
        "search_fields": entry["search_fields"],
        "filters": [],
        "ordering": [],
        "page": 1,
        "page_size": 100,
        "fields": entry["fields"] if entry["fields"] is not None else engine_fields(model),
        "masked": [],
    }
    return {**effect, **arguments}


def search(caller="alice", model="library.Book", **arguments):
    result = run(caller, search_effect(model, **arguments))[0]
    assert "ok" in result, result
    return result["ok"]


def ids(found):
    return [row["id"] for row in found["results"]]


def error(result):
    assert "error" in result, result
    return result["error"]


@pytest.fixture
def books(library, settings):
    settings.DJANGO_MCP_MODEL_SEARCH = [BOOKS, "library.Author"]


def test_results_carry_the_entry_fields_as_json(books):
    first = Book.objects.order_by("title", "pk").first()
    found = search(page_size=1)
    assert found["count"] == Book.objects.count()
    assert found["results"] == [
        {
            "id": first.pk,
            "title": first.title,
            "status": first.status,
            "published": first.published and first.published.isoformat(),
            "author": first.author_id,
            "tags": sorted(first.tags.values_list("pk", flat=True)),
        }
    ]
    # A field the entry does not allow is not read, whatever the effect asks for.
    assert search(page_size=1, fields=["id", "price", "metadata"])["results"] == [{"id": first.pk}]


def test_every_word_of_q_must_be_in_a_search_field_across_relations(books):
    found = search(q="ada ENGINES")
    expected = Book.objects.filter(author__name="Ada Lovelace", title__contains="Engines")
    assert found["count"] == expected.count() > 0
    assert set(ids(found)) == set(expected.values_list("pk", flat=True))
    assert search(q="engines curious")["count"] == 2  # The Curious Engines, Volumes 13 and 43
    assert search(q='"engines curious"')["count"] == 0  # a quoted phrase is one word


def test_a_to_many_search_field_gives_each_object_once(library, settings):
    settings.DJANGO_MCP_MODEL_SEARCH = [{"model": "library.Author", "search_fields": ["books__title"]}]
    found = search(model="library.Author", q="Volume")
    assert sorted(ids(found)) == sorted(Author.objects.values_list("pk", flat=True))
    assert found["count"] == Author.objects.count()


def test_filters_are_exact_and_null_means_none(books):
    alan = Author.objects.get(name="Alan Turing")
    found = search(
        filters=[
            {"path": "status", "value": "published"},
            {"path": "author", "value": alan.pk},
            {"path": "in_print", "value": True},
        ]
    )
    expected = Book.objects.filter(status="published", author=alan, in_print=True)
    assert found["count"] == expected.count() > 0
    assert set(ids(found)) == set(expected.values_list("pk", flat=True))
    assert search(filters=[{"path": "status", "value": "draft"}, {"path": "author", "value": alan.pk}])["count"] == 0
    unpublished = search(filters=[{"path": "published", "value": None}])
    assert unpublished["count"] == Book.objects.filter(published__isnull=True).count() > 0
    assert all(row["published"] is None for row in unpublished["results"])
    tagged = search(filters=[{"path": "tags", "value": Book.tags.through.objects.first().tag_id}])
    assert len(set(ids(tagged))) == len(ids(tagged)) == tagged["count"] > 0


def test_ordering_and_pages(books):
    everything = list(Book.objects.order_by("-published", "title", "pk").values_list("pk", flat=True))
    found = search(ordering=["-published", "title"], page=2, page_size=7)
    assert ids(found) == everything[7:14] and found["count"] == len(everything)
    assert ids(search(ordering=["-published", "title"], page=9, page_size=7)) == everything[56:]
    assert search(page=100, page_size=7) == {"results": [], "count": len(everything)}
    # Without an ordering: the admin's (title), then the pk.
    assert ids(search(page_size=5)) == list(Book.objects.order_by("title", "pk").values_list("pk", flat=True)[:5])


def test_only_the_entry_result_fields_order(books):
    result = error(run("alice", search_effect(ordering=["price"]))[0])
    assert (result["kind"], result["fields"]) == ("validation", {"ordering": ["price is not a field to order by."]})


def test_masked_fields_are_never_revealed(books):
    rows = search(masked=["title", "published"], page_size=60)["results"]
    assert {row["title"] for row in rows} == {MASK}
    assert {row["published"] for row in rows} == {MASK}  # an empty value too: emptiness is information


def test_the_admin_get_queryset_scopes_the_search(books, settings):
    settings.DJANGO_MCP_ADMIN_SITES = ["fixtures.scoped_admin.site"]  # its Book admin shows books in print
    found = search(page_size=100)
    assert found["count"] == Book.objects.filter(in_print=True).count() < Book.objects.count()
    assert set(ids(found)) == set(Book.objects.filter(in_print=True).values_list("pk", flat=True))
    # Grace Hopper's books are all out of print: not even a search finds them.
    assert search(q="Grace")["count"] == 0 < Book.objects.filter(author__name="Grace Hopper").count()
    assert search(filters=[{"path": "in_print", "value": False}])["count"] == 0


def test_the_entry_permission_and_the_admin_view_permission_are_checked_again(books, settings):
    assert error(run("bob", search_effect())[0])["kind"] == "forbidden"  # no view_book
    assert search("bob", model="library.Author")["count"] == Author.objects.count()
    assert error(run("carol", search_effect(model="library.Author"))[0])["kind"] == "forbidden"
    # Holding the entry's permission is not enough when the admin refuses the caller.
    settings.DJANGO_MCP_MODEL_SEARCH = [{**BOOKS, "permission": "library.view_author"}]
    assert error(run("bob", search_effect())[0])["kind"] == "forbidden"


def test_the_admin_sites_has_permission_is_checked_again(books, settings):
    # Bob may view authors, but the admin site lets in staff only.
    User.objects.filter(username="bob").update(is_staff=False)
    assert error(run("bob", search_effect(model="library.Author"))[0])["kind"] == "forbidden"
    settings.DJANGO_MCP_ADMIN_SITES = ["fixtures.closed_admin.site"]  # refuses even a superuser
    assert error(run("alice", search_effect())[0])["kind"] == "forbidden"


def test_without_an_admin_the_default_manager_and_the_permission(books, settings, no_admin):
    assert searches()["library.Book"]["admin"] is None
    reader = User.objects.create_user("reader")  # not staff: no admin site involved
    assert error(run(reader, search_effect())[0])["kind"] == "forbidden"
    reader.user_permissions.add(Permission.objects.get(codename="view_book"))
    reader = User.objects.get(pk=reader.pk)  # no cached permissions
    assert search(reader, q="Grace")["count"] == Book.objects.filter(author__name="Grace Hopper").count()


def test_an_unknown_search_is_not_found(books):
    assert error(run("alice", {**search_effect(), "model": "library.Tag"})[0])["kind"] == "not_found"


@pytest.mark.parametrize(
    "path, value",
    [
        ("author", "abc"),
        ("published", "last tuesday"),
        ("in_print", "maybe"),
        ("author", [1]),
    ],
)
def test_a_bad_filter_value_is_a_validation_error_before_anything_is_read(books, path, value):
    effect = search_effect(filters=[{"path": path, "value": value}])
    with CaptureQueriesContext(connection) as queries:
        result, skipped = run("alice", effect, search_effect())
    failed = error(result)
    assert failed == {
        "kind": "validation",
        "message": f"filters.{path}: not a value this field accepts",
        "fields": {f"filters.{path}": ["Not a value this field accepts."]},
    }
    assert skipped["error"]["kind"] == "skipped"
    assert not [q["sql"] for q in queries if "library_book" in q["sql"]]


def test_a_filter_the_entry_does_not_declare_is_refused(books):
    result = error(run("alice", search_effect(filters=[{"path": "price", "value": "9.99"}]))[0])
    assert result["kind"] == "validation" and result["fields"] == {"filters.price": ["Not a filter of this search."]}


def test_many_to_many_values_cost_no_query_per_row(books):
    _facts, registry = gather()
    runner = EffectRunner(CallerContext(User.objects.get(username="alice")), registry)

    def queries(page_size):
        with CaptureQueriesContext(connection) as captured:
            [result] = runner([search_effect(page_size=page_size)])
        assert len(result["ok"]["results"]) == page_size
        return len(captured)

    # The count, the page and one prefetch of the tags, however long the page.
    assert queries(2) == queries(50) <= 3
