"""Admin writes (create, update, delete) over the demo library, as MCP clients call them:
through the ModelAdmin's own form, save hooks, permissions and history — and nothing at all
changed when a write fails (`db_dump` before and after).

Most tests call the tools over MCP (`Tools` checks every result against the tool's
`outputSchema`). The host side of the contract (the effects' `fields` maps, refusals the
engine's schemas already prevent) is tested on the effects directly at the end.
"""

import base64
import datetime
import re
import uuid
from decimal import Decimal

import pytest
from conftest import db_dump
from django import forms as django_forms
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from library.admin import BookAdmin
from library.models import Author, Book, Tag
from test_admin_tools import MASK, Tools

from django_mcp.effects import EffectRunner
from django_mcp.facts.admin import collect_admins, privileged_request
from django_mcp.facts.forms import admin_forms
from django_mcp.requests import CallerContext


@pytest.fixture(autouse=True)
def admin_surface_only(settings):
    """These tests are about the admin's tools; the demo's routed views (open to any caller
    unless gated) and search tools have their own tests (test_views.py, test_search.py)."""
    settings.DJANGO_MCP_VIEW_INCLUDE = []
    settings.DJANGO_MCP_MODEL_SEARCH = []


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
#: How the history names the caller: conftest's keys are all named "test".
VIA = "Via MCP (key 'test')."
TRACKED = ("library_", "django_admin_log")


class Writes(Tools):
    """The write tools of one admin site, for one credential."""

    def __init__(self, mcp, site="admin"):
        super().__init__(mcp)
        self.prefix = "" if site == "admin" else f"{site}_"

    def name(self, verb, model):
        return f"{self.prefix}{verb}_{model._meta.app_label}_{model._meta.model_name}"

    def create(self, model, data):
        return self.ok(self.name("create", model), data)["object"]

    def update(self, model, pk, fields):
        return self.ok(self.name("update", model), {"pk": pk, "fields": fields})["object"]

    def delete(self, model, pk):
        return self.ok(self.name("delete", model), {"pk": pk})

    def fails(self, verb, model, arguments):
        """The message of a refused write (a tool error)."""
        return self.error(self.name(verb, model), arguments)


@pytest.fixture
def alice(mcp, library):
    return Writes(mcp)


@pytest.fixture
def staff(mcp_as, make_key):
    """A staff user holding the model permissions named: staff("view_book", "change_book")."""

    def make(*codenames, username="dora", site="admin"):
        user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
        return Writes(mcp_as(make_key(username)), site=site)

    return make


def book_row(pk):
    """Every column of one book, and its tags."""
    book = Book.objects.filter(pk=pk).values().get()
    book["tags"] = sorted(Book.objects.get(pk=pk).tags.values_list("pk", flat=True))
    return book


def history(model, pk):
    return list(
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id=str(pk))
        .order_by("pk")
        .values_list("action_flag", "user__username", "change_message")
    )


def names_fields(message, *fields):
    """A validation message names each field (the engine's `fields.x: …` or the form's `x: …`)."""
    assert message.startswith("Invalid"), message
    for field in fields:
        assert re.search(rf"(^|[ .;]){field}:", message), (field, message)


# --- create -----------------------------------------------------------------------------


def test_create_a_book_with_every_field_type(alice):
    author = Author.objects.get(name="Alan Turing")
    tags = list(Tag.objects.order_by("pk")[:2])
    isbn = uuid.uuid4()
    data = {
        "title": "On Computable Numbers",
        "slug": "computable",
        "summary": "Entscheidungsproblem.",
        "status": "published",
        "pages": 36,
        "price": "12.50",
        "rating": 4.5,
        "in_print": False,
        "published": "1936-11-12",
        "isbn": str(isbn),
        "author": author.pk,
        "tags": [t.pk for t in tags],
        "cover": {"name": "turing.png", "content": base64.b64encode(PNG).decode()},
        "metadata": {"journal": "PLMS", "series": [2, 42]},
        "reading_time": "PT1H30M",
        "website": "https://example.com/turing",
    }
    created = alice.create(Book, data)

    book = Book.objects.get(slug="computable")
    assert created["id"] == book.pk
    assert (book.title, book.summary, book.status, book.pages) == (
        "On Computable Numbers",
        "Entscheidungsproblem.",
        "published",
        36,
    )
    assert (book.price, book.rating, book.in_print, book.published) == (
        Decimal("12.50"),
        4.5,
        False,
        datetime.date(1936, 11, 12),
    )
    assert (book.isbn, book.author, book.website) == (isbn, author, "https://example.com/turing")
    assert sorted(book.tags.values_list("pk", flat=True)) == [t.pk for t in tags]
    assert book.metadata == {"journal": "PLMS", "series": [2, 42]}
    assert book.reading_time == datetime.timedelta(hours=1, minutes=30)
    assert book.cover.name.startswith("covers/turing") and book.cover.read() == PNG
    # The result is the object in the JSON shapes of the protocol.
    assert created["price"] == "12.50" and created["published"] == "1936-11-12"
    assert created["reading_time"] == "P0DT01H30M00S" and created["tags"] == [t.pk for t in tags]
    assert created["cover"] == book.cover.name and created["isbn"] == str(isbn)
    assert history(Book, book.pk) == [(ADDITION, "alice", f"Added. {VIA}")]


def test_create_fills_what_the_add_form_prefills(alice):
    author = Author.objects.first()
    created = alice.create(Book, {"title": "Defaults", "slug": "defaults", "pages": 1, "price": 3, "author": author.pk})
    book = Book.objects.get(pk=created["id"])
    assert (book.status, book.in_print, book.metadata, book.tags.count()) == ("draft", True, {}, 0)
    assert book.isbn and book.rating is None and book.reading_time is None and not book.cover


def test_create_an_author_and_a_tag(alice):
    author = alice.create(Author, {"name": "Edsger Dijkstra", "email": "ewd@example.com", "birth_date": "1930-05-11"})
    assert author["birth_date"] == "1930-05-11"
    assert Author.objects.get(pk=author["id"]).birth_date == datetime.date(1930, 5, 11)
    tag = alice.create(Tag, {"name": "Logic", "slug": "logic"})
    assert Tag.objects.get(pk=tag["id"]).slug == "logic"


def test_create_a_user_through_the_user_creation_form(alice):
    created = alice.create(
        User,
        {
            "username": "erin",
            "usable_password": "true",
            "password1": "a-Long-passphrase-42",
            "password2": "a-Long-passphrase-42",
        },
    )
    user = User.objects.get(username="erin")
    assert created["id"] == user.pk and created["password"] == MASK
    assert user.password.startswith("md5$")  # conftest's hasher: hashed, not stored as sent
    assert "a-Long-passphrase-42" not in user.password
    assert user.check_password("a-Long-passphrase-42")
    assert history(User, user.pk) == [(ADDITION, "alice", f"Added. {VIA}")]


def test_a_user_whose_passwords_differ_is_not_created(alice):
    before = db_dump("auth_", "django_admin_log")
    message = alice.fails(
        "create", User, {"username": "erin", "password1": "a-Long-passphrase-42", "password2": "another-passphrase-42"}
    )
    names_fields(message, "password2")
    assert db_dump("auth_", "django_admin_log") == before


def test_a_user_without_a_usable_password(alice):
    alice.create(User, {"username": "robot", "usable_password": "false"})
    assert not User.objects.get(username="robot").has_usable_password()


# --- update -----------------------------------------------------------------------------


def test_update_changes_only_the_fields_sent(alice):
    book = (
        Book.objects.filter(cover__gt="", published__isnull=False, reading_time__isnull=False)
        .exclude(metadata={})
        .first()
    )
    assert book is not None and book.tags.exists()
    before = book_row(book.pk)
    dump = db_dump("library_")

    updated = alice.update(Book, book.pk, {"title": "A New Title"})

    assert book_row(book.pk) == {**before, "title": "A New Title"}
    assert updated["title"] == "A New Title" and updated["id"] == book.pk
    assert [t for t, rows in db_dump("library_").items() if rows != dump[t]] == ["library_book"]
    assert history(Book, book.pk) == [(CHANGE, "alice", f"Changed Title. {VIA}")]


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"price": "99.95", "pages": 12}, {"price": Decimal("99.95"), "pages": 12}),
        ({"price": 7.5}, {"price": Decimal("7.50")}),
        (
            {"rating": None, "published": None, "reading_time": None},
            {"rating": None, "published": None, "reading_time": None},
        ),
        ({"in_print": False, "status": "archived"}, {"in_print": False, "status": "archived"}),
        ({"metadata": [1, "two", None]}, {"metadata": [1, "two", None]}),
        ({"metadata": {}}, {"metadata": {}}),
        ({"metadata": "just text"}, {"metadata": "just text"}),
        ({"reading_time": "P1DT02H00M05S"}, {"reading_time": datetime.timedelta(days=1, hours=2, seconds=5)}),
        ({"summary": ""}, {"summary": ""}),
        ({"website": ""}, {"website": ""}),
    ],
)
def test_update_one_kind_of_field_at_a_time(alice, fields, expected):
    book = Book.objects.filter(rating__isnull=False, published__isnull=False, reading_time__isnull=False).first()
    before = book_row(book.pk)
    alice.update(Book, book.pk, fields)
    assert book_row(book.pk) == {**before, **expected}


def test_update_many_to_many(alice):
    book = Book.objects.filter(tags__isnull=False).distinct().first()
    before = book_row(book.pk)
    others = sorted(Tag.objects.exclude(pk__in=before["tags"]).values_list("pk", flat=True))
    assert sorted(alice.update(Book, book.pk, {"tags": others})["tags"]) == others
    assert book_row(book.pk) == {**before, "tags": others}
    assert alice.update(Book, book.pk, {"tags": []})["tags"] == []
    assert book_row(book.pk) == {**before, "tags": []}
    assert [m for _flag, _user, m in history(Book, book.pk)] == [f"Changed Tags. {VIA}"] * 2


def test_update_the_foreign_key(alice):
    book = Book.objects.first()
    other = Author.objects.exclude(pk=book.author_id).first()
    before = book_row(book.pk)
    assert alice.update(Book, book.pk, {"author": other.pk})["author"] == other.pk
    assert book_row(book.pk) == {**before, "author_id": other.pk}


def test_update_replaces_and_clears_a_file(alice):
    book = Book.objects.filter(cover__gt="").first()
    before = book_row(book.pk)
    alice.update(Book, book.pk, {"cover": {"name": "new.txt", "content": base64.b64encode(b"hello").decode()}})
    book.refresh_from_db()
    assert book.cover.name.startswith("covers/new") and book.cover.read() == b"hello"
    assert alice.update(Book, book.pk, {"cover": None})["cover"] is None
    assert book_row(book.pk) == {**before, "cover": ""}


def test_update_a_user_keeps_its_exact_dates(alice):
    user = User.objects.get(username="carol")
    User.objects.filter(pk=user.pk).update(last_login=timezone.now().replace(microsecond=123456))
    before = User.objects.filter(pk=user.pk).values().get()
    alice.update(User, user.pk, {"first_name": "Carol"})
    assert User.objects.filter(pk=user.pk).values().get() == {**before, "first_name": "Carol"}
    assert history(User, user.pk) == [(CHANGE, "alice", f"Changed First name. {VIA}")]


def test_update_a_split_date_time(alice):
    user = User.objects.get(username="carol")
    before = User.objects.filter(pk=user.pk).values().get()
    result = alice.update(User, user.pk, {"date_joined": "2001-02-03T04:05:06.789+02:00", "last_login": None})
    expected = datetime.datetime(2001, 2, 3, 2, 5, 6, 789000, tzinfo=datetime.timezone.utc)
    assert User.objects.filter(pk=user.pk).values().get() == {**before, "date_joined": expected, "last_login": None}
    assert datetime.datetime.fromisoformat(result["date_joined"]) == expected and result["last_login"] is None


def test_update_the_groups_of_a_user(alice):
    group = Group.objects.create(name="editors")
    user = User.objects.get(username="carol")
    assert alice.update(User, user.pk, {"groups": [group.pk]})["groups"] == [group.pk]
    assert list(user.groups.all()) == [group]


# --- validation: field-level messages, nothing changed -------------------------------------


@pytest.mark.parametrize(
    "fields, named",
    [
        # refused by the engine's schema …
        ({"slug": "not a slug"}, ["slug"]),
        ({"pages": -1}, ["pages"]),
        ({"price": "12345.678"}, ["price"]),
        ({"status": "lost"}, ["status"]),
        ({"created_at": "2020-01-01T00:00:00Z"}, ["created_at"]),
        # … or by the admin's form
        ({"author": 999999, "tags": [999999]}, ["author", "tags"]),
        ({"title": ""}, ["title"]),
        ({"published": "1999-02-30"}, ["published"]),
        ({"website": "not a url"}, ["website"]),
        ({"metadata": None}, ["metadata"]),  # JSON, but NOT NULL in the database
        ({"title": "ok", "cover": {"name": "x.png", "content": "%%%not base64%%%"}}, ["cover"]),
    ],
)
def test_an_invalid_update_names_the_fields_and_changes_nothing(alice, fields, named):
    book = Book.objects.filter(tags__isnull=False).first()
    before = db_dump(*TRACKED)
    names_fields(alice.fails("update", Book, {"pk": book.pk, "fields": fields}), *named)
    assert db_dump(*TRACKED) == before


def test_an_invalid_create_names_the_fields_and_changes_nothing(alice):
    before = db_dump(*TRACKED)
    message = alice.fails(
        "create",
        Book,
        {
            "title": "T",
            "slug": "t",
            "pages": 1,
            "price": "1.00",
            "author": 999999,
            "tags": [1, 999999],
            "metadata": {"a": 1},
        },
    )
    names_fields(message, "author", "tags")
    names_fields(alice.fails("create", Book, {"title": "T"}), "slug")  # required arguments
    assert db_dump(*TRACKED) == before


def test_a_duplicate_unique_value_is_a_validation_error(alice):
    before = db_dump(*TRACKED)
    message = alice.fails("create", Tag, {"name": "Again", "slug": "fiction"})
    names_fields(message, "slug")
    assert "already exists" in message
    assert db_dump(*TRACKED) == before


def test_fields_read_only_for_the_caller_are_refused(library, settings, staff):
    settings.DJANGO_MCP_ADMIN_SITES = ["fixtures.guarded_admin.site"]
    dora = staff("view_book", "change_book", "add_book", site="guarded")
    book = Book.objects.exclude(status="archived").first()
    before = db_dump(*TRACKED)
    # slug: read-only for everyone but superusers, so the schema (built for a superuser) has it.
    message = dora.fails("update", Book, {"pk": book.pk, "fields": {"title": "New", "slug": "new"}})
    assert message == "Invalid: slug: This field is read-only."
    message = dora.fails(
        "create", Book, {"title": "New", "slug": "new", "pages": 1, "price": 1, "author": book.author_id}
    )
    assert message == "Invalid: slug: This field is read-only."
    # isbn: read-only once the book exists, for everyone: not even in the update schema.
    names_fields(dora.fails("update", Book, {"pk": book.pk, "fields": {"isbn": str(uuid.uuid4())}}), "isbn")
    assert db_dump(*TRACKED) == before
    # What is not read-only still changes, and the read-only fields keep their values.
    row = book_row(book.pk)
    dora.update(Book, book.pk, {"title": "New"})
    assert book_row(book.pk) == {**row, "title": "New"}


def test_a_failing_save_rolls_everything_back_and_says_nothing_of_why(alice, monkeypatch):
    from library.admin import BookAdmin

    def save_related(self, request, form, formsets, change):
        super(BookAdmin, self).save_related(request, form, formsets, change)
        raise RuntimeError("boom after the m2m were saved")

    monkeypatch.setattr(BookAdmin, "save_related", save_related, raising=False)
    book = Book.objects.first()
    before = db_dump(*TRACKED)
    for name, arguments in [
        ("update_library_book", {"pk": book.pk, "fields": {"title": "X", "tags": [Tag.objects.first().pk]}}),
        (
            "create_library_book",
            {
                "title": "T",
                "slug": "t",
                "pages": 1,
                "price": 1,
                "author": book.author_id,
                "tags": [Tag.objects.first().pk],
            },
        ),
    ]:
        assert re.fullmatch(r"internal error \(correlation id [0-9a-f]{32}\)", alice.error(name, arguments))
    assert db_dump(*TRACKED) == before


# --- delete -----------------------------------------------------------------------------


def test_delete_a_book(alice):
    book = Book.objects.filter(tags__isnull=False).first()
    tags = db_dump("library_tag")
    assert alice.delete(Book, book.pk) == {"deleted": True, "pk": book.pk}
    assert not Book.objects.filter(pk=book.pk).exists()
    assert not Book.tags.through.objects.filter(book_id=book.pk).exists()
    assert db_dump("library_tag") == tags
    assert history(Book, book.pk) == [(DELETION, "alice", f"Deleted. {VIA}")]


def test_a_protected_author_is_not_deleted(alice):
    author = Author.objects.filter(books__isnull=False).first()
    before = db_dump(*TRACKED)
    message = alice.fails("delete", Author, {"pk": author.pk})
    assert message.startswith(f"cannot delete author “{author.name}”: 20 related object(s) protect it (Book: ")
    assert "<a" not in message
    assert db_dump(*TRACKED) == before


def test_an_author_without_books_is_deleted(alice):
    author = Author.objects.create(name="Nobody", email="n@example.com")
    assert alice.delete(Author, author.pk) == {"deleted": True, "pk": author.pk}
    assert not Author.objects.filter(pk=author.pk).exists()


def test_deleting_what_would_cascade_to_objects_you_may_not_delete_is_forbidden(staff, make_key):
    from django_mcp.models import MCPAPIKey

    make_key("carol")  # deleting carol deletes her MCP key too
    carol = User.objects.get(username="carol")
    dora = staff("view_user", "delete_user")
    before = db_dump("auth_", "django_admin_log")
    assert "permission" in dora.fails("delete", User, {"pk": carol.pk})
    assert db_dump("auth_", "django_admin_log") == before
    assert MCPAPIKey.objects.filter(user_id=carol.pk).count() == 1
    # Who may delete the keys too deletes both.
    dora = staff("view_user", "delete_user", "delete_mcpapikey")
    assert dora.delete(User, carol.pk) == {"deleted": True, "pk": carol.pk}
    assert not MCPAPIKey.objects.filter(user_id=carol.pk).exists()


def test_an_unknown_pk_is_a_tool_error(alice):
    assert "No book with pk 999999" in alice.fails("update", Book, {"pk": 999999, "fields": {"title": "X"}})
    assert "No book with pk 999999" in alice.fails("delete", Book, {"pk": 999999})


# --- permissions ------------------------------------------------------------------------


def test_a_view_only_user_can_neither_create_update_nor_delete(staff):
    viewer = staff("view_book", "view_author")
    assert {n for n in viewer.listed if not n.startswith(("list_", "get_"))} == set()
    book = Book.objects.first()
    before = db_dump(*TRACKED)
    for name, arguments in [
        ("create_library_book", {"title": "T", "slug": "t", "pages": 1, "price": 1, "author": book.author_id}),
        ("update_library_book", {"pk": book.pk, "fields": {"title": "T"}}),
        ("delete_library_book", {"pk": book.pk}),
        ("delete_library_author", {"pk": book.author_id}),
    ]:
        assert viewer.refused(name, arguments, -32002)["data"] == {"target": name}
    assert db_dump(*TRACKED) == before


def test_each_permission_allows_just_its_own_write(staff):
    author = Author.objects.first()
    adder = staff("add_author")
    assert adder.name("create", Author) in adder.listed and adder.name("update", Author) not in adder.listed
    adder.create(Author, {"name": "New", "email": "new@example.com"})
    adder.refused("update_library_author", {"pk": author.pk, "fields": {"name": "X"}}, -32002)
    changer = staff("change_author", username="eve")
    changer.update(Author, author.pk, {"name": "Renamed"})
    changer.refused("delete_library_author", {"pk": author.pk}, -32002)
    assert history(Author, author.pk) == [(CHANGE, "eve", f"Changed Name. {VIA}")]


def test_object_level_permissions(library, settings, staff):
    settings.DJANGO_MCP_ADMIN_SITES = ["fixtures.guarded_admin.site"]
    dora = staff("view_book", "change_book", "delete_book", site="guarded")
    archived = Book.objects.filter(status="archived").first()
    in_print = Book.objects.filter(in_print=True).exclude(status="archived").first()
    out_of_print = Book.objects.filter(in_print=False).exclude(pk=archived.pk).first()  # archived too
    before = db_dump(*TRACKED)
    assert (
        dora.fails("update", Book, {"pk": archived.pk, "fields": {"title": "X"}})
        == "You do not have permission to change this book."
    )
    assert "permission" in dora.fails("delete", Book, {"pk": in_print.pk})
    assert db_dump(*TRACKED) == before
    dora.update(Book, in_print.pk, {"title": "Allowed"})
    dora.delete(Book, out_of_print.pk)
    assert Book.objects.get(pk=in_print.pk).title == "Allowed"
    assert not Book.objects.filter(pk=out_of_print.pk).exists()


# --- the host side of the contract: the effects, as the engine asks them -------------------


def run(user, effect, client="test"):
    registry, _facts = collect_admins()
    [result] = EffectRunner(CallerContext(user, client=client), registry)([effect])
    return result


def effect_error(result, kind):
    assert "error" in result, result
    assert result["error"]["kind"] == kind, result
    return result["error"]


def update_effect(model, pk, data, admin="admin"):
    return {
        "kind": "admin.update",
        "admin": f"{admin}/{model._meta.label_lower}",
        "pk": pk,
        "data": data,
        "fields": [f.name for f in model._meta.concrete_fields],
        "masked": [],
    }


def test_validation_errors_map_each_field_to_its_messages(library):
    alice = User.objects.get(username="alice")
    book = Book.objects.first()
    before = db_dump(*TRACKED)
    effect = update_effect(Book, book.pk, {"slug": "not a slug", "pages": -1, "author": 0})
    failure = effect_error(run(alice, effect), "validation")
    assert set(failure["fields"]) == {"slug", "pages", "author"}
    assert all(isinstance(m, str) and m for messages in failure["fields"].values() for m in messages)
    assert failure["message"] == "invalid input: slug, pages, author"
    assert db_dump(*TRACKED) == before


def test_fields_outside_the_callers_form_are_refused_by_name(library):
    alice = User.objects.get(username="alice")
    book, carol = Book.objects.first(), User.objects.get(username="carol")
    before = db_dump("library_", "auth_", "django_admin_log")
    effect = update_effect(Book, book.pk, {"title": "X", "created_at": "2020-01-01", "id": 5})
    failure = effect_error(run(alice, effect), "validation")
    assert failure["fields"] == {name: ["This field is not in the form."] for name in ("created_at", "id")}
    failure = effect_error(run(alice, update_effect(User, carol.pk, {"password": "plain"})), "validation")
    assert failure["fields"] == {"password": ["This field is read-only."]}  # the disabled hash field
    effect = update_effect(Book, book.pk, {"cover": "covers/someone-elses.png"})
    failure = effect_error(run(alice, effect), "validation")
    assert list(failure["fields"]) == ["cover"]
    assert db_dump("library_", "auth_", "django_admin_log") == before


def test_a_file_sent_back_by_its_own_name_is_kept(library):
    alice = User.objects.get(username="alice")
    book = Book.objects.filter(cover__gt="").first()
    before = book_row(book.pk)
    assert "ok" in run(alice, update_effect(Book, book.pk, {"cover": before["cover"], "pages": 7}))
    assert book_row(book.pk) == {**before, "pages": 7}


def test_forbidden_at_the_effect_too(library):
    """The engine checks the class-level gate first; the effects check again, and per object."""
    bob = User.objects.get(username="bob")
    author = Author.objects.first()
    before = db_dump(*TRACKED)
    effect_error(run(bob, update_effect(Author, author.pk, {"name": "X"})), "forbidden")
    effect_error(
        run(
            bob,
            {
                "kind": "admin.create",
                "admin": "admin/library.author",
                "data": {"name": "X"},
                "fields": ["id"],
                "masked": [],
            },
        ),
        "forbidden",
    )
    effect_error(run(bob, {"kind": "admin.delete", "admin": "admin/library.author", "pk": author.pk}), "forbidden")
    User.objects.filter(username="carol").update(is_superuser=True)  # but not staff: the site says no
    effect_error(run(User.objects.get(username="carol"), update_effect(Author, author.pk, {"name": "X"})), "forbidden")
    assert db_dump(*TRACKED) == before


def test_delete_answers_the_real_pk_and_a_bad_pk_is_not_found(library):
    alice = User.objects.get(username="alice")
    tag = Tag.objects.create(name="Temp", slug="temp")
    assert run(alice, {"kind": "admin.delete", "admin": "admin/library.tag", "pk": str(tag.pk)}) == {
        "ok": {"deleted": True, "pk": tag.pk}
    }
    effect_error(run(alice, {"kind": "admin.delete", "admin": "admin/library.tag", "pk": "not-a-pk"}), "not_found")


def test_without_a_client_name_history_still_says_mcp(library):
    alice = User.objects.get(username="alice")
    result = run(
        alice,
        {
            "kind": "admin.create",
            "admin": "admin/library.author",
            "fields": ["id"],
            "masked": [],
            "data": {"name": "Anon", "email": "a@example.com"},
        },
        client=None,
    )
    assert history(Author, result["ok"]["object"]["id"]) == [(ADDITION, "alice", "Added. Via MCP.")]


# --- facts --------------------------------------------------------------------------------


#: What the engine reads for a key a form field's facts leave out (docs/engine-protocol.md).
FORM_FIELD_DEFAULTS = {
    "label": "",
    "help_text": "",
    "required": False,
    "disabled": False,
    "max_length": None,
    "min_length": None,
    "min_value": None,
    "max_value": None,
    "max_digits": None,
    "decimal_places": None,
    "choices": None,
    "related_model": None,
    "multiple": False,
    "nullable": False,
    "pattern": None,
}


def _fields(forms, which):
    """One form's field facts as the engine reads them: a change form given as "add" is the
    add form's, and a key left out holds its default."""
    fields = forms["add"] if forms[which] == "add" else forms[which]
    return None if fields is None else [{**FORM_FIELD_DEFAULTS, **field} for field in fields]


def _forms(model):
    from django.contrib import admin as django_admin

    forms = admin_forms(django_admin.site._registry[model], privileged_request(django_admin.site))
    return {which: _fields(forms, which) for which in ("add", "change")}


def test_book_form_facts(library):
    from django.contrib import admin as django_admin

    facts = admin_forms(django_admin.site._registry[Book], privileged_request(django_admin.site))
    assert facts["change"] == "add"  # described once
    # Keys that hold the engine's default are left out: a third of the facts' size.
    assert not [
        value for field in facts["add"] for value in field.values() if value is None or value is False or value == ""
    ]
    assert set(facts["add"][0]) == {"name", "kind", "label", "required", "max_length"}
    forms = _forms(Book)
    by_name = {f["name"]: f for f in forms["add"]}
    assert list(by_name) == [
        "title",
        "slug",
        "summary",
        "status",
        "pages",
        "price",
        "rating",
        "in_print",
        "published",
        "isbn",
        "author",
        "tags",
        "cover",
        "metadata",
        "reading_time",
        "website",
    ]
    kinds = {name: f["kind"] for name, f in by_name.items()}
    assert kinds == {
        "title": "CharField",
        "slug": "SlugField",
        "summary": "CharField",
        "status": "TypedChoiceField",
        "pages": "IntegerField",
        "price": "DecimalField",
        "rating": "FloatField",
        "in_print": "BooleanField",
        "published": "DateField",
        "isbn": "UUIDField",
        "author": "ModelChoiceField",
        "tags": "ModelMultipleChoiceField",
        "cover": "FileField",
        "metadata": "JSONField",
        "reading_time": "DurationField",
        "website": "URLField",
    }
    assert by_name["status"]["choices"] == [["draft", "Draft"], ["published", "Published"], ["archived", "Archived"]]
    assert by_name["status"]["required"] is False  # the add form pre-fills the default
    assert by_name["title"]["required"] is True and by_name["title"]["max_length"] == 200
    assert by_name["pages"]["min_value"] == 0
    assert (by_name["price"]["max_digits"], by_name["price"]["decimal_places"]) == (6, 2)
    assert (by_name["author"]["related_model"], by_name["author"]["choices"]) == ("library.Author", None)
    assert by_name["author"]["multiple"] is False
    assert by_name["tags"]["related_model"] == "library.Tag" and by_name["tags"]["multiple"] is True
    assert [n for n, f in by_name.items() if f["nullable"]] == ["rating", "published", "reading_time"]
    assert all(f["disabled"] is False and f["pattern"] is None for f in by_name.values())


def test_user_form_facts(library):
    forms = _forms(User)
    assert [f["name"] for f in forms["add"]] == ["username", "usable_password", "password1", "password2"]
    change = {f["name"]: f for f in forms["change"]}
    assert "password" not in change  # the read-only hash field is disabled
    assert change["date_joined"]["kind"] == change["last_login"]["kind"] == "SplitDateTimeField"
    assert change["last_login"]["nullable"] is True
    assert "<" not in {f["name"]: f for f in forms["add"]}["password1"]["help_text"]


def test_per_object_read_only_fields_leave_the_change_form(library, settings):
    from fixtures.guarded_admin import site

    model_admin = site._registry[Book]
    forms = admin_forms(model_admin, privileged_request(site))
    assert forms["change"] != "add"
    assert "isbn" in [f["name"] for f in forms["add"]]
    assert "isbn" not in [f["name"] for f in forms["change"]]
    assert "slug" in [f["name"] for f in forms["change"]]  # read-only only for non-superusers


class _BookForm(django_forms.ModelForm):
    """A custom admin form: a field of its own (read-only in one admin), one redeclared."""

    note = django_forms.CharField(required=False, help_text="<b>not</b> saved")
    title = django_forms.CharField(max_length=50, label="Heading")

    class Meta:
        model = Book
        exclude = ["metadata"]


class _SomeBookFields(django_forms.ModelForm):
    class Meta:
        model = Book
        fields = ["title", "pages", "author", "summary"]
        labels = {"title": "Heading"}


class _OwnForm(BookAdmin):
    form = _BookForm


class _OwnFormReadOnly(BookAdmin):
    form = _BookForm
    readonly_fields = ["note", "created_at"]


class _SomeFields(BookAdmin):
    form = _SomeBookFields
    readonly_fields = ["summary", "since_2000"]


class _Excluding(BookAdmin):
    exclude = ["summary", "tags"]
    readonly_fields = ["isbn", "price"]


class _Declared(BookAdmin):
    fields = ["title", ("slug", "pages"), "price", "author", "created_at"]
    readonly_fields = ["created_at"]


class _Fieldsets(BookAdmin):
    fieldsets = [("Main", {"fields": ["title", "slug"]}), ("More", {"fields": [("pages", "price"), "author"]})]


@pytest.mark.parametrize(
    "admin_class", [BookAdmin, _OwnForm, _OwnFormReadOnly, _SomeFields, _Excluding, _Declared, _Fieldsets]
)
def test_forms_from_declarations_alone_are_described_as_the_views_build_them(db, monkeypatch, admin_class):
    """An admin that overrides none of the hooks its forms are built through gets one form
    for both views, built once; its facts are those of the forms the add and change views
    build (the exact path, taken by any admin that overrides one)."""
    from django.contrib import admin as django_admin

    from django_mcp.facts import forms as form_facts

    model_admin, request = admin_class(Book, django_admin.site), privileged_request(django_admin.site)
    assert form_facts.forms_from_declarations(admin_class)
    shared = admin_forms(model_admin, request)
    assert shared["add"] and shared["change"] == "add"
    monkeypatch.setattr(form_facts, "forms_from_declarations", lambda admin_class: False)
    exact = admin_forms(model_admin, request)
    assert isinstance(exact["change"], list)
    assert all(_fields(shared, which) == _fields(exact, which) for which in ("add", "change"))


class _LooserForm(django_forms.ModelForm):
    """A form whose instances differ from its class: it loosens a field when built."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].required = False

    class Meta:
        model = Book
        fields = ["title", "pages"]


class _ReorderedForm(django_forms.ModelForm):
    field_order = ["pages", "title"]

    class Meta:
        model = Book
        fields = ["title", "summary", "pages"]


class _Looser(BookAdmin):
    form = _LooserForm


class _Reordered(BookAdmin):
    form = _ReorderedForm


@pytest.mark.parametrize("admin_class", [BookAdmin, _OwnForm, _OwnFormReadOnly, _SomeFields, _Declared, _Fieldsets])
def test_forms_built_as_declared_are_described_without_building_them(db, monkeypatch, admin_class):
    """A form class that keeps ModelForm's own `__init__`, field order and initial lookup is
    described from its class: the facts are those of the built form."""
    from django.contrib import admin as django_admin

    from django_mcp.facts import forms as form_facts

    model_admin, request = admin_class(Book, django_admin.site), privileged_request(django_admin.site)
    assert form_facts.built_as_declared(form_facts.add_form(model_admin, request))
    unbuilt = admin_forms(model_admin, request)
    monkeypatch.setattr(form_facts, "built_as_declared", lambda form_class: False)
    assert unbuilt == admin_forms(model_admin, request)


@pytest.mark.parametrize(
    "admin_class, expected",
    [
        (_Looser, [("title", False), ("pages", True)]),
        (_Reordered, [("pages", True), ("title", True), ("summary", False)]),
    ],
)
def test_a_form_that_changes_when_built_is_described_as_built(db, admin_class, expected):
    from django.contrib import admin as django_admin

    from django_mcp.facts import forms as form_facts

    model_admin, request = admin_class(Book, django_admin.site), privileged_request(django_admin.site)
    assert not form_facts.built_as_declared(form_facts.add_form(model_admin, request))
    fields = _fields(admin_forms(model_admin, request), "add")
    assert [(f["name"], f["required"]) for f in fields] == expected


class _FewerFieldsOnceSaved(BookAdmin):
    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["fields"] = ["title", "pages"]
        return super().get_form(request, obj, change=change, **kwargs)


class _FewerFieldsetsOnceSaved(BookAdmin):
    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": ["title", "pages"] if obj else ["title", "pages", "price"]})]


class _ViewOnly(BookAdmin):
    def has_change_permission(self, request, obj=None):
        return False


class _Prefilled(BookAdmin):
    def get_changeform_initial_data(self, request):
        return {"title": "Untitled"}


@pytest.mark.parametrize(
    "admin_class, add, change",
    [  # add None: BookAdmin's add form
        (_FewerFieldsOnceSaved, None, ["title", "pages"]),
        (_FewerFieldsetsOnceSaved, ["title", "pages", "price"], ["title", "pages"]),
        (_ViewOnly, None, []),
    ],
)
def test_an_admin_that_decides_its_form_per_object_gets_each_form_it_builds(db, admin_class, add, change):
    """An admin that overrides a hook its forms are built through takes the exact path: its
    add and change forms are built (and described) each as its own view builds it."""
    from django.contrib import admin as django_admin

    from django_mcp.facts.forms import forms_from_declarations

    assert not forms_from_declarations(admin_class)
    forms = admin_forms(admin_class(Book, django_admin.site), privileged_request(django_admin.site))
    assert isinstance(forms["change"], list)
    book_form = [f["name"] for f in _forms(Book)["add"]]
    assert [f["name"] for f in forms["add"]] == (add or book_form)
    assert [f["name"] for f in forms["change"]] == change


def test_initial_data_of_its_own_makes_the_add_form_differ(db):
    from django.contrib import admin as django_admin

    forms = admin_forms(_Prefilled(Book, django_admin.site), privileged_request(django_admin.site))
    title = {which: next(f for f in _fields(forms, which) if f["name"] == "title") for which in ("add", "change")}
    assert (title["add"]["required"], title["change"]["required"]) == (False, True)


def test_a_form_that_cannot_be_built_is_none(library, caplog):
    from django.contrib import admin as django_admin

    class Broken(django_admin.ModelAdmin):
        fields = ["no_such_field"]

    forms = admin_forms(Broken(Tag, django_admin.site), privileged_request(django_admin.site))
    assert forms == {"add": None, "change": None}
    assert "could not be built" in caplog.text


def test_regex_and_choice_facts():
    from django import forms

    from django_mcp.facts.forms import field_facts

    assert field_facts("code", forms.RegexField(r"^[A-Z]{3}$"))["pattern"] == "^[A-Z]{3}$"
    grouped = forms.ChoiceField(choices=[("Audio", [("cd", "CD"), ("lp", "Vinyl")]), ("x", "Other")])
    assert field_facts("media", grouped)["choices"] == [["cd", "CD"], ["lp", "Vinyl"], ["x", "Other"]]
    typed = forms.TypedChoiceField(choices=[("", "---"), (1, "One")], coerce=int, empty_value=None, required=False)
    facts = field_facts("n", typed)
    assert facts["nullable"] is True and facts["choices"] == [[1, "One"]]
    assert field_facts("d", forms.DecimalField(min_value=Decimal("0.5"), max_value=Decimal("10")))["min_value"] == 0.5
    assert field_facts("f", forms.Field())["kind"] == "CharField"
    assert field_facts("b", forms.NullBooleanField())["kind"] == "NullBooleanField"
    assert field_facts("i", forms.GenericIPAddressField())["kind"] == "GenericIPAddressField"
