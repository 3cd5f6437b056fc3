"""Admin actions through the `admin.action` effect (`effects/admin_actions.py`): run as the
changelist runs them once confirmed, on `get_queryset(request).filter(pk__in=pks)`, offered
only when `get_actions` (so `allowed_permissions` → `has_<perm>_permission`) offers them, in
one transaction, reporting what the action told the user.
"""

import pytest
from conftest import db_dump as full_dump
from django.contrib import admin, messages
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.test.utils import CaptureQueriesContext
from library.admin import BookAdmin
from library.models import Author, Book
from test_admin_tools import Tools

from django_mcp.effects import EffectRunner
from django_mcp.facts import changelist
from django_mcp.facts.admin import collect_admins
from django_mcp.models import MCPAPIKey
from django_mcp.requests import CallerContext

BOOKS = "admin/library.book"


# A site whose Book admin has actions of every behaviour.


def archive(modeladmin, request, queryset):
    queryset.update(status=Book.Status.ARCHIVED)


class ActionBookAdmin(BookAdmin):
    actions = ["mark_published", archive, "ask_first", "export", "explode", "refuse", "say_nothing"]

    @admin.action(description="Archive, after a page of questions")
    def ask_first(self, request, queryset):
        queryset.update(status=Book.Status.ARCHIVED)
        return HttpResponse("<form>Which shelf?</form>")

    @admin.action(description="Export")
    def export(self, request, queryset):
        self.message_user(request, f"Exported {queryset.count()} books.")
        return HttpResponseRedirect("/exports/42/")

    @admin.action(description="Fail halfway")
    def explode(self, request, queryset):
        queryset.update(status=Book.Status.ARCHIVED)
        raise RuntimeError("database password is hunter2")

    @admin.action(description="Refuse politely")
    def refuse(self, request, queryset):
        self.message_user(request, "Archived books cannot be reprinted.", messages.WARNING)
        self.message_user(request, "Nothing was reprinted.", messages.ERROR)

    @admin.action(description="Say nothing", permissions=["view"])
    def say_nothing(self, request, queryset):
        pass


site = admin.AdminSite(name="actions")
site.register(Book, ActionBookAdmin)
ACTION_BOOKS = "actions/library.book"


@pytest.fixture
def actions_site(settings):
    settings.DJANGO_MCP_ADMIN_SITES = [site]


def db_dump():
    """Every table's rows, less the API keys' (a call records their last use)."""
    return {table: rows for table, rows in full_dump().items() if table != "django_mcp_mcpapikey"}


@pytest.fixture
def tools(mcp):
    """alice, the superuser, as a strict MCP client (`test_admin_tools.Tools`)."""
    return Tools(mcp)


def user(name):
    return User.objects.get(username=name)


def staff(name, *codenames):
    person = User.objects.create_user(name, is_staff=True)
    person.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=person.pk)  # no cached permissions


def run(caller, *effects):
    registry, _admins = collect_admins()
    caller = user(caller) if isinstance(caller, str) else caller
    return EffectRunner(CallerContext(caller, correlation_id="c0ffee"), registry)(list(effects))


def action(caller, name, pks, admin_id=BOOKS):
    return run(caller, {"kind": "admin.action", "admin": admin_id, "action": name, "pks": list(pks)})[0]


def ok(result):
    assert "ok" in result, result
    return result["ok"]


def books(*slugs_or_numbers):
    return [Book.objects.get(slug=f"book-{n:02d}").pk for n in slugs_or_numbers]


# mark_published


def test_action_tools_follow_the_admins_actions(tools, library):
    tool = tools.listed["mark_published_library_book"]
    assert tool["title"] == "Mark selected books as published"
    assert tool["annotations"]["destructiveHint"] is True and "readOnlyHint" not in tool["annotations"]
    assert tool["inputSchema"]["required"] == ["pks"]
    assert {"delete_selected_library_book", "delete_selected_library_author", "delete_selected_auth_user"} <= set(
        tools.listed
    )


def test_mark_published_updates_the_selected_books(tools, library):
    drafts = list(Book.objects.filter(status="draft").order_by("pk")[:3])
    others = Book.objects.exclude(pk__in=[b.pk for b in drafts])
    untouched = rows(others)
    result = tools.ok("mark_published_library_book", {"pks": [b.pk for b in drafts]})
    assert result == {"updated": 3, "message": "3 book(s) marked as published."}
    assert set(Book.objects.filter(pk__in=[b.pk for b in drafts]).values_list("status", flat=True)) == {"published"}
    assert rows(others) == untouched


def rows(queryset):
    return list(queryset.order_by("pk").values())


def test_unknown_pks_are_not_counted(tools, library):
    assert tools.ok("mark_published_library_book", {"pks": [*books(1, 2), 999999]})["updated"] == 2


def test_actions_respect_get_queryset(tools, library, settings):
    settings.DJANGO_MCP_ADMIN_SITES = ["fixtures.scoped_admin.site"]  # its Book admin shows books in print
    in_print, out_of_print = Book.objects.get(slug="book-01"), Book.objects.get(slug="book-03")
    assert in_print.in_print and not out_of_print.in_print and out_of_print.status != "published"
    result = tools.ok("scoped_mark_published_library_book", {"pks": [in_print.pk, out_of_print.pk]})
    assert result == {"updated": 1, "message": "1 book(s) marked as published."}
    assert Book.objects.get(pk=in_print.pk).status == "published"
    assert Book.objects.get(pk=out_of_print.pk).status == out_of_print.status
    # delete_selected too: a book outside get_queryset survives.
    result = tools.ok("scoped_delete_selected_library_book", {"pks": [in_print.pk, out_of_print.pk]})
    assert result == {"updated": 1, "message": "Successfully deleted 1 book."}
    assert list(Book.objects.filter(pk__in=[in_print.pk, out_of_print.pk])) == [out_of_print]


# delete_selected


def test_delete_selected_deletes_and_logs_as_the_admin_does(tools, library):
    doomed = list(Book.objects.filter(slug__in=["book-04", "book-05", "book-06"]).order_by("pk"))
    alice = user("alice")
    result = tools.ok("delete_selected_library_book", {"pks": [b.pk for b in doomed]})
    assert result == {"updated": 3, "message": "Successfully deleted 3 books."}
    assert not Book.objects.filter(pk__in=[b.pk for b in doomed]).exists()
    assert Book.objects.count() == 57
    entries = LogEntry.objects.filter(action_flag=DELETION).order_by("object_id")
    assert sorted((e.user_id, e.object_id, e.object_repr) for e in entries) == sorted(
        (alice.pk, str(b.pk), str(b)) for b in doomed
    )
    assert {e.content_type.model_class() for e in entries} == {Book}


def test_delete_selected_refuses_protected_objects_and_deletes_nothing(tools, library):
    turing = Author.objects.get(name="Alan Turing")  # books PROTECT their author
    lonely = Author.objects.create(name="Nobody", email="n@example.com")
    before = db_dump()
    message = tools.error("delete_selected_library_author", {"pks": [turing.pk, lonely.pk]})
    assert message.startswith("Nothing was deleted: these related objects are protected")
    assert "Book: The" in message and "<a" not in message and message.endswith("and 10 more.")
    assert db_dump() == before
    assert tools.ok("delete_selected_library_author", {"pks": [lonely.pk]}) == {
        "updated": 1,
        "message": "Successfully deleted 1 author.",
    }


def test_delete_selected_needs_permission_for_what_it_cascades_to(mcp_as, make_key, library):
    # Deleting a user deletes their MCP keys, which this user may not delete.
    staff("dora", "view_user", "delete_user")
    dora = Tools(mcp_as(make_key("dora")))
    victim = user("carol")
    MCPAPIKey.objects.create_key(victim, name="k")
    before = db_dump()
    assert dora.error("delete_selected_auth_user", {"pks": [victim.pk]}) == (
        "You do not have permission to do this to every selected object "
        "(or to the related objects it would also delete)."
    )
    assert action(user("dora"), "delete_selected", [victim.pk], "admin/auth.user")["error"]["kind"] == "forbidden"
    assert db_dump() == before
    keyless = User.objects.create_user("temp")
    assert dora.ok("delete_selected_auth_user", {"pks": [keyless.pk]})["updated"] == 1
    assert not User.objects.filter(username="temp").exists()


# Who may run what: allowed_permissions through has_<perm>_permission


def gates(caller, *names, admin_id=BOOKS):
    checks = [{"gate": "admin.action", "admin": admin_id, "action": n} for n in names]
    return ok(run(caller, {"kind": "permissions", "checks": checks})[0])


def test_an_action_whose_permissions_the_user_lacks_is_not_theirs(mcp_as, bob_key, library):
    bob = user("bob")
    bob.user_permissions.add(Permission.objects.get(codename="view_book"))
    bob = user("bob")
    registry, _ = collect_admins()
    _site, book_admin = registry.get(BOOKS)
    assert changelist.actions(book_admin, CallerContext(bob).request()) == []
    assert gates(bob, "mark_published", "delete_selected") == [False, False]
    client = Tools(mcp_as(bob_key))
    assert "list_library_book" in client.listed
    assert not {"mark_published_library_book", "delete_selected_library_book"} & set(client.listed)
    before = db_dump()
    for name in ("mark_published_library_book", "delete_selected_library_book"):
        assert client.refused(name, {"pks": books(1)}, -32002)["data"] == {"target": name}
        assert action(bob, name.removesuffix("_library_book"), books(1))["error"]["kind"] == "forbidden"
    assert db_dump() == before


def test_each_action_needs_its_own_permission(mcp_as, make_key, library):
    staff("edith", "view_book", "change_book")
    edith = Tools(mcp_as(make_key("edith")))
    assert "mark_published_library_book" in edith.listed and "delete_selected_library_book" not in edith.listed
    assert edith.ok("mark_published_library_book", {"pks": books(1)})["updated"] == 1
    edith.refused("delete_selected_library_book", {"pks": books(1)}, -32002)
    assert Book.objects.filter(slug="book-01").exists()


def test_staff_without_view_or_change_may_run_nothing(mcp_as, make_key, library):
    # has_delete_permission alone does not open the changelist, so no action runs.
    deleter = staff("dan", "delete_book")
    assert gates(deleter, "delete_selected") == [False]
    assert action(deleter, "delete_selected", books(1))["error"]["kind"] == "forbidden"
    Tools(mcp_as(make_key("dan"))).refused("delete_selected_library_book", {"pks": books(1)}, -32002)
    assert Book.objects.filter(slug="book-01").exists()


def test_an_unknown_action_is_forbidden(library):
    assert action("alice", "drop_table", books(1))["error"]["kind"] == "forbidden"
    assert action("alice", "get_queryset", books(1))["error"]["kind"] == "forbidden"


def test_a_user_who_is_not_staff_runs_nothing(mcp_as, make_key, library):
    carol = user("carol")
    carol.user_permissions.add(*Permission.objects.filter(codename__in=["view_book", "change_book"]))
    assert action(user("carol"), "mark_published", books(1))["error"]["kind"] == "forbidden"
    Tools(mcp_as(make_key("carol"))).refused("mark_published_library_book", {"pks": books(1)}, -32002)


# What an action answers


def test_an_action_without_a_description_is_named_by_django(tools, library, actions_site):
    _registry, admins = collect_admins()
    facts = next(a for a in admins if a["id"] == ACTION_BOOKS)
    assert {a["name"]: a["description"] for a in facts["actions"]} == {
        "delete_selected": "Delete selected books",
        "mark_published": "Mark selected books as published",
        "archive": "Archive",
        "ask_first": "Archive, after a page of questions",
        "export": "Export",
        "explode": "Fail halfway",
        "refuse": "Refuse politely",
        "say_nothing": "Say nothing",
    }
    assert tools.ok("actions_archive_library_book", {"pks": books(1, 2)}) == {"updated": 2, "message": None}
    assert set(Book.objects.filter(slug__in=["book-01", "book-02"]).values_list("status", flat=True)) == {"archived"}


def test_an_action_that_sends_the_browser_on_is_refused_and_rolled_back(tools, library, actions_site):
    # An action that redirects (a merge form, a wizard) has not done its work yet.
    before = db_dump()
    assert tools.error("actions_export_library_book", {"pks": books(1, 2, 3)}) == (
        "The action 'export' continues on another page of the Django admin, which MCP cannot show; nothing was changed."
    )
    assert db_dump() == before


def test_warnings_and_errors_say_so(tools, library, actions_site):
    assert tools.ok("actions_refuse_library_book", {"pks": books(1)}) == {
        "updated": 1,
        "message": "Warning: Archived books cannot be reprinted.\nError: Nothing was reprinted.",
    }


def test_an_action_that_insists_on_a_page_is_refused_and_rolled_back(tools, library, actions_site):
    before = db_dump()
    assert tools.error("actions_ask_first_library_book", {"pks": books(1, 2)}) == (
        "The action 'ask_first' needs a confirmation page that MCP cannot show; nothing was changed."
    )
    assert db_dump() == before


def test_an_action_that_fails_is_rolled_back_and_leaks_nothing(tools, library, actions_site, caplog):
    before = db_dump()
    result = action("alice", "explode", books(1, 2), ACTION_BOOKS)
    assert result["error"] == {"kind": "internal", "message": "internal error (correlation id c0ffee)"}
    assert db_dump() == before
    text = tools.error("actions_explode_library_book", {"pks": books(1, 2)})
    assert "hunter2" not in text and text.startswith("internal error (correlation id ")
    assert db_dump() == before
    assert "hunter2" in caplog.text  # the server's log keeps the traceback


def test_an_action_allowed_by_view_permission(mcp_as, make_key, library, actions_site):
    viewer = staff("vera", "view_book")
    assert gates(viewer, "say_nothing", "mark_published", admin_id=ACTION_BOOKS) == [True, False]
    vera = Tools(mcp_as(make_key("vera")))
    # Actions without allowed_permissions are offered to whoever sees the changelist.
    offered = {n for n in vera.listed if n.startswith("actions_") and not n.startswith(("actions_list", "actions_get"))}
    assert offered == {
        f"actions_{a}_library_book" for a in ("archive", "ask_first", "export", "explode", "refuse", "say_nothing")
    }
    assert vera.ok("actions_say_nothing_library_book", {"pks": books(1)}) == {"updated": 1, "message": None}


@pytest.mark.parametrize("pks", [[], ["abc"], ["1 OR 1=1"]])
def test_bad_selections_touch_nothing(library, pks):
    with CaptureQueriesContext(connection) as queries:
        result = action("alice", "mark_published", pks)
    assert result["error"]["kind"] == "validation", result
    assert not any(q["sql"].startswith("UPDATE") for q in queries)


@pytest.mark.parametrize("pks, message", [([], "pks: needs at least 1 item"), (["abc"], "pks[0]: expected integer")])
def test_bad_selections_are_refused_before_the_host(tools, library, pks, message):
    assert message in tools.error("mark_published_library_book", {"pks": pks})


def test_the_action_sees_the_changelists_confirmed_post(tools, library, actions_site):
    seen = {}

    def spy(modeladmin, request, queryset):
        seen.update(method=request.method, post=dict(request.POST.lists()), user=request.user.username)

    ActionBookAdmin.actions = [*ActionBookAdmin.actions, spy]
    try:
        tools.ok("actions_spy_library_book", {"pks": books(1, 2)})
    finally:
        ActionBookAdmin.actions = ActionBookAdmin.actions[:-1]
    assert seen == {
        "method": "POST",
        "user": "alice",
        "post": {
            "action": ["spy"],
            "_selected_action": [str(pk) for pk in books(1, 2)],
            "select_across": ["0"],
            "index": ["0"],
            "post": ["yes"],
        },
    }
