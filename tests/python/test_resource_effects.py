"""Model resources on the host side (`effects/resources.py`): `resource.object`,
`resource.file` and `resource.objects` through the EffectRunner, with the registry `gather()`
builds, for ModelAdmin sources (read as retrieve reads them: `get_queryset`,
`has_view_permission(request, obj)`, the fields the admin shows) and for
DJANGO_MCP_RESOURCE_MODELS sources (the default manager and the entry's permission).
Files are real files in a scratch MEDIA_ROOT (the `library` fixture's).
"""

import base64
import datetime
import gzip
import json
import uuid
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import connection, models
from django.test.utils import isolate_apps
from django.utils import timezone
from library.admin import BookAdmin
from library.management.commands.demo_seed import TINY_PNG
from library.models import Author, Book, Tag

from django_mcp.effects import EffectRunner
from django_mcp.facts import gather
from django_mcp.facts.registry import Registry
from django_mcp.requests import CallerContext

BOOKS = {"admin": "admin/library.book"}
AUTHORS = {"admin": "admin/library.author"}
SCOPED_BOOKS = {"admin": "scoped/library.book"}
MASK = "********"


def run(caller, *effects, registry=None):
    if registry is None:
        _facts, registry = gather()
    caller = User.objects.get(username=caller) if isinstance(caller, str) else caller
    return EffectRunner(CallerContext(caller, correlation_id="c0ffee"), registry)(list(effects))


def ok(result):
    assert "ok" in result, result
    return result["ok"]


def error(result):
    assert "error" in result, result
    return result["error"]["kind"], result["error"]["message"]


def obj(caller, source, pk, fields, masked=()):
    return run(
        caller, {"kind": "resource.object", "source": source, "pk": pk, "fields": fields, "masked": list(masked)}
    )[0]


def file(caller, source, pk, field="cover", max_bytes=1024):
    return run(caller, {"kind": "resource.file", "source": source, "pk": pk, "field": field, "max_bytes": max_bytes})[0]


def objects(caller, source, offset=0, limit=10, prefix=None):
    return run(
        caller, {"kind": "resource.objects", "source": source, "offset": offset, "limit": limit, "prefix": prefix}
    )[0]


def book(n):
    return Book.objects.get(slug=f"book-{n:02d}")


def with_cover(name, content):
    """A book whose cover is a real file named `name` holding `content`."""
    shelved = book(2)
    shelved.cover.save(name, ContentFile(content))
    return shelved


def staff(name, *codenames):
    person = User.objects.create_user(name, is_staff=True)
    person.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return User.objects.get(pk=person.pk)  # no cached permissions


@pytest.fixture
def model_resources(settings):
    """Book and Author served without an admin: the configured site registers nothing
    (Author with its own permission), plus sessions for character pks."""
    settings.DJANGO_MCP_ADMIN_SITES = [admin.AdminSite(name="empty")]
    settings.DJANGO_MCP_RESOURCE_MODELS = [
        "library.Book",
        {"model": "library.Author", "permission": "library.change_author"},
        "sessions.Session",
    ]


# resource.object


def test_an_admin_object_is_what_retrieve_returns(library):
    pk = book(1).pk
    fields = ["id", "title", "price", "author", "tags", "isbn", "created_at", "cover"]
    retrieved = ok(
        run(
            "alice",
            {"kind": "admin.retrieve", "admin": "admin/library.book", "pk": pk, "fields": fields, "masked": ["price"]},
        )[0]
    )
    assert ok(obj("alice", BOOKS, pk, fields, masked=["price"])) == retrieved
    shown = retrieved["object"]
    assert shown["title"] == book(1).title and shown["price"] == MASK
    assert shown["cover"] == "covers/book-01.png"
    assert "created_at" not in shown  # not editable: the admin does not show it


def test_a_caller_the_admin_refuses_reads_nothing(library):
    pk = book(1).pk
    assert error(obj("bob", BOOKS, pk, ["id", "title"]))[0] == "forbidden"
    assert error(file("bob", BOOKS, pk))[0] == "forbidden"
    assert error(objects("bob", BOOKS))[0] == "forbidden"
    author = Author.objects.get(name="Ada Lovelace")
    assert ok(obj("bob", AUTHORS, author.pk, ["id", "name"])) == {"object": {"id": author.pk, "name": "Ada Lovelace"}}


def test_the_admins_queryset_scopes_every_read(library, settings):
    settings.DJANGO_MCP_ADMIN_SITES = ["fixtures.scoped_admin.site"]  # its Book admin shows books in print
    out_of_print, in_print = book(3), book(1)
    assert (out_of_print.in_print, in_print.in_print) == (False, True)
    assert error(obj("alice", SCOPED_BOOKS, out_of_print.pk, ["id"]))[0] == "not_found"
    assert ok(obj("alice", SCOPED_BOOKS, in_print.pk, ["id"])) == {"object": {"id": in_print.pk}}
    assert error(file("alice", SCOPED_BOOKS, book(21).pk))[0] == "not_found"  # a cover, out of print
    assert ok(file("alice", SCOPED_BOOKS, book(11).pk))["mime_type"] == "image/png"
    listed = ok(objects("alice", SCOPED_BOOKS, limit=100))["objects"]
    assert [o["pk"] for o in listed] == list(
        Book.objects.filter(in_print=True).order_by("pk").values_list("pk", flat=True)
    )


def test_the_object_level_permission_is_asked(library, settings):
    class OwnBooksAdmin(BookAdmin):
        def has_view_permission(self, request, obj=None):
            return obj is None or obj.slug != "book-01"

    site = admin.AdminSite(name="own")
    site.register(Book, OwnBooksAdmin)
    settings.DJANGO_MCP_ADMIN_SITES = [site]
    own = {"admin": "own/library.book"}
    assert error(obj("alice", own, book(1).pk, ["id"]))[0] == "forbidden"
    assert error(file("alice", own, book(1).pk))[0] == "forbidden"
    assert ok(obj("alice", own, book(2).pk, ["id"]))["object"] == {"id": book(2).pk}


@pytest.mark.parametrize("pk", ["abc", "1.5", "", True, None, {"id": 1}, [1], 10**30, "99999"])
def test_a_pk_of_the_wrong_type_or_unknown_is_not_found(library, model_resources, pk):
    for source in ({"model": "library.Book"}, {"model": "sessions.Session"}):
        assert error(obj("alice", source, pk, ["pk"]))[0] == "not_found"
    assert error(file("alice", {"model": "library.Book"}, pk))[0] == "not_found"


def test_a_pk_of_the_wrong_type_is_not_found_through_the_admin(library):
    for pk in ("abc", True, {"id": 1}, "99999"):
        assert error(obj("alice", BOOKS, pk, ["id"]))[0] == "not_found"
        assert error(file("alice", BOOKS, pk))[0] == "not_found"


def test_a_model_resource_shows_the_listed_fields_and_masks(library, model_resources):
    shelved = book(1)
    got = ok(
        obj(
            "alice",
            {"model": "library.Book"},
            str(shelved.pk),
            ["id", "title", "tags", "author", "created_at", "price", "no_such_field", "__str__"],
            masked=["price"],
        )
    )["object"]
    assert got == {
        "id": shelved.pk,
        "title": shelved.title,
        "author": shelved.author_id,
        "price": MASK,
        "tags": sorted(shelved.tags.values_list("pk", flat=True)),
        "created_at": shelved.created_at.isoformat(),
    }


def test_a_model_resource_needs_its_permission(library, model_resources):
    shelved, author = book(1), Author.objects.get(name="Ada Lovelace")
    assert error(obj("bob", {"model": "library.Book"}, shelved.pk, ["id"]))[0] == "forbidden"
    assert error(file("bob", {"model": "library.Book"}, shelved.pk))[0] == "forbidden"
    assert error(objects("bob", {"model": "library.Book"}))[0] == "forbidden"
    # The Author entry names change_author: bob's view_author is not enough, dora's change is.
    assert error(obj("bob", {"model": "library.Author"}, author.pk, ["id"]))[0] == "forbidden"
    dora = staff("dora", "change_author")
    assert ok(obj(dora, {"model": "library.Author"}, author.pk, ["name"]))["object"] == {"name": "Ada Lovelace"}
    reader = staff("reader", "view_book")
    assert ok(obj(reader, {"model": "library.Book"}, shelved.pk, ["id"]))["object"] == {"id": shelved.pk}


def test_only_listed_models_are_reachable(library, model_resources):
    # Tag is neither admin-registered here nor listed: no source reaches it.
    result = obj("alice", {"model": "library.Tag"}, Tag.objects.first().pk, ["id"])
    assert error(result)[0] == "internal"


# resource.file


def test_a_png_cover_is_an_image_blob(library):
    got = ok(file("alice", BOOKS, book(1).pk))
    assert got == {"mime_type": "image/png", "size": len(TINY_PNG), "blob": base64.b64encode(TINY_PNG).decode()}


@pytest.mark.parametrize(
    "name, content, mime_type",
    [
        ("notes.txt", "Café au lait\n".encode(), "text/plain"),
        ("notes.md", b"# Title\n", "text/markdown"),
        ("data.json", b'{"a": [1, 2]}', "application/json"),
        ("data.xml", b"<a>1</a>", "application/xml"),
        ("page.HTML", b"<p>hi</p>", "text/html"),
    ],
)
def test_text_files_come_back_as_text(library, name, content, mime_type):
    shelved = with_cover(name, content)
    got = ok(file("alice", BOOKS, shelved.pk))
    assert got == {"mime_type": mime_type, "size": len(content), "text": content.decode("utf-8")}


@pytest.mark.parametrize(
    "name, content, mime_type",
    [
        ("latin.txt", "Café".encode("latin-1"), "text/plain"),  # not UTF-8: bytes as they are
        ("data.json.gz", gzip.compress(b"{}"), "application/gzip"),
        ("archive.unknownext", b"\x00\x01\x02", "application/octet-stream"),
        ("no-extension", b"plain", "application/octet-stream"),
    ],
)
def test_other_files_come_back_as_blobs(library, name, content, mime_type):
    shelved = with_cover(name, content)
    got = ok(file("alice", BOOKS, shelved.pk))
    assert got == {"mime_type": mime_type, "size": len(content), "blob": base64.b64encode(content).decode()}


def test_a_file_over_the_limit_is_refused_before_it_is_read(library):
    shelved = with_cover("big.txt", b"x" * 2000)
    with mock.patch.object(FileSystemStorage, "open", side_effect=AssertionError("read")):
        assert error(file("alice", BOOKS, shelved.pk, max_bytes=1999)) == (
            "too_large",
            "the file is 2000 bytes; the limit is 1999 bytes",
        )
    assert ok(file("alice", BOOKS, shelved.pk, max_bytes=2000))["size"] == 2000


def test_the_read_is_bounded_when_the_storage_cannot_tell_the_size(library):
    shelved = with_cover("big.bin", b"x" * 2000)
    with mock.patch.object(FileSystemStorage, "size", side_effect=NotImplementedError):
        assert error(file("alice", BOOKS, shelved.pk, max_bytes=100)) == (
            "too_large",
            "the file is more than 100 bytes; the limit is 100 bytes",
        )
        assert ok(file("alice", BOOKS, shelved.pk, max_bytes=2000))["size"] == 2000


def test_no_file_is_not_found(library):
    empty = book(2)
    assert not empty.cover
    assert error(file("alice", BOOKS, empty.pk)) == ("not_found", "no file")
    missing = book(1)
    missing.cover.storage.delete(missing.cover.name)
    assert error(file("alice", BOOKS, missing.pk)) == ("not_found", "no file")


@pytest.mark.parametrize("field", ["title", "author", "tags", "no_such_field", "../../etc/passwd", "books"])
def test_only_file_fields_are_files(library, field):
    assert error(file("alice", BOOKS, book(1).pk, field=field))[0] == "not_found"


def test_a_file_field_the_admin_does_not_show_is_forbidden(library, settings):
    class NoCoverAdmin(BookAdmin):
        exclude = ["cover"]

    site = admin.AdminSite(name="nocover")
    site.register(Book, NoCoverAdmin)
    settings.DJANGO_MCP_ADMIN_SITES = [site]
    assert error(file("alice", {"admin": "nocover/library.book"}, book(1).pk)) == ("forbidden", "forbidden")


def test_a_model_resources_file(library, model_resources):
    got = ok(file("alice", {"model": "library.Book"}, str(book(1).pk)))
    assert (got["mime_type"], base64.b64decode(got["blob"])) == ("image/png", TINY_PNG)


def test_the_storage_name_comes_from_the_row(library, tmp_path, settings):
    """Even a stored name that climbs out of MEDIA_ROOT is refused by the field's storage."""
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    Book.objects.filter(pk=book(1).pk).update(cover="../secret.txt")
    assert error(file("alice", BOOKS, book(1).pk))[0] == "internal"  # SuspiciousFileOperation, logged


# resource.objects


def test_objects_are_paged_in_pk_order_with_labels(library):
    pks = list(Book.objects.order_by("pk").values_list("pk", flat=True))
    first = ok(objects("alice", BOOKS, offset=0, limit=25))
    assert [o["pk"] for o in first["objects"]] == pks[:25] and first["more"] is True
    assert first["objects"][0]["label"] == str(Book.objects.get(pk=pks[0]))
    last = ok(objects("alice", BOOKS, offset=50, limit=25))
    assert [o["pk"] for o in last["objects"]] == pks[50:] and last["more"] is False
    exact = ok(objects("alice", BOOKS, offset=40, limit=20))
    assert len(exact["objects"]) == 20 and exact["more"] is False
    assert ok(objects("alice", BOOKS, offset=500, limit=25)) == {"objects": [], "more": False}
    assert ok(objects("alice", BOOKS, offset=2**64, limit=25)) == {"objects": [], "more": False}


def test_a_page_holds_at_most_100_objects(library):
    Tag.objects.bulk_create(Tag(name=f"tag {n}", slug=f"tag-{n}") for n in range(120))
    page = ok(objects("alice", {"admin": "admin/library.tag"}, limit=1000))
    assert len(page["objects"]) == 100 and page["more"] is True


def test_labels_are_cut_to_200_characters(library, monkeypatch):
    monkeypatch.setattr(Author, "__str__", lambda self: "n" * 300)
    labels = [o["label"] for o in ok(objects("alice", AUTHORS))["objects"]]
    assert labels == ["n" * 200] * Author.objects.count()


def test_model_objects_come_from_the_default_manager(library, model_resources):
    page = ok(objects("alice", {"model": "library.Book"}, limit=100))
    assert [o["pk"] for o in page["objects"]] == list(Book.objects.order_by("pk").values_list("pk", flat=True))


@pytest.mark.parametrize("prefix", ["1", "2", "5", "60", "0", "x", "-1", "1 "])
def test_integer_pks_complete_by_their_decimal_prefix(library, prefix):
    expected = [pk for pk in Book.objects.order_by("pk").values_list("pk", flat=True) if str(pk).startswith(prefix)]
    page = ok(objects("alice", BOOKS, limit=100, prefix=prefix))
    assert [o["pk"] for o in page["objects"]] == expected and page["more"] is False
    if len(expected) > 2:
        page = ok(objects("alice", BOOKS, offset=1, limit=1, prefix=prefix))
        assert [o["pk"] for o in page["objects"]] == expected[1:2] and page["more"] is True


def test_prefix_completion_keeps_to_the_admins_queryset(library, settings):
    settings.DJANGO_MCP_ADMIN_SITES = ["fixtures.scoped_admin.site"]
    expected = [
        pk
        for pk in Book.objects.filter(in_print=True).order_by("pk").values_list("pk", flat=True)
        if str(pk).startswith("1")
    ]
    page = ok(objects("alice", SCOPED_BOOKS, limit=100, prefix="1"))
    assert [o["pk"] for o in page["objects"]] == expected


def test_character_pks_complete_case_sensitively(library, model_resources):
    expires = timezone.now() + datetime.timedelta(days=1)
    for key in ("abc1", "ABC2", "abd", "xyz", "ab%", "a_c"):
        Session.objects.create(session_key=key, session_data="", expire_date=expires)
    sessions = {"model": "sessions.Session"}

    def completed(prefix, offset=0, limit=100):
        return [o["pk"] for o in ok(objects("alice", sessions, offset, limit, prefix))["objects"]]

    assert completed("ab") == ["ab%", "abc1", "abd"]
    assert completed("AB") == ["ABC2"]
    assert completed("ab%") == ["ab%"] and completed("a_") == ["a_c"]  # LIKE wildcards are plain text
    assert completed("ab", offset=1, limit=1) == ["abc1"]
    assert ok(obj("alice", sessions, "abd", ["session_key"]))["object"] == {"session_key": "abd"}


@pytest.mark.django_db(transaction=True)
@isolate_apps("library")
def test_uuid_pks_complete_by_their_hyphenated_form():
    """Neither text nor integer pks are matched on their Python string form (a bounded scan):
    SQLite stores a UUID as 32 hex digits, without the hyphens `str(uuid)` has."""

    class Ticket(models.Model):
        id = models.UUIDField(primary_key=True)
        title = models.CharField(max_length=20)

        class Meta:
            app_label = "library"

        def __str__(self):
            return self.title

    with connection.schema_editor() as editor:
        editor.create_model(Ticket)
    try:
        ids = [
            uuid.UUID("12345678-1234-5678-1234-567812345678"),
            uuid.UUID("12345678-9999-5678-1234-567812345678"),
            uuid.UUID("abcdef00-0000-0000-0000-000000000000"),
        ]
        Ticket.objects.bulk_create(Ticket(id=i, title=f"t{n}") for n, i in enumerate(ids))
        registry = Registry()
        registry.add_model(Ticket, "library.view_ticket")
        alice = User.objects.create_superuser("alice")
        source = {"model": "library.Ticket"}

        def completed(prefix, **kwargs):
            effect = {
                "kind": "resource.objects",
                "source": source,
                "offset": 0,
                "limit": 10,
                "prefix": prefix,
                **kwargs,
            }
            return ok(run(alice, effect, registry=registry)[0])

        assert completed("12345678-") == {
            "objects": [{"pk": str(ids[0]), "label": "t0"}, {"pk": str(ids[1]), "label": "t1"}],
            "more": False,
        }
        assert completed("123456781234") == {"objects": [], "more": False}  # not the database's form
        assert completed("12345678-", limit=1)["more"] is True
        got = run(
            alice,
            {"kind": "resource.object", "source": source, "pk": str(ids[2]), "fields": ["id", "title"], "masked": []},
            registry=registry,
        )[0]
        assert ok(got) == {"object": {"id": str(ids[2]), "title": "t2"}}
        wrong = run(
            alice,
            {"kind": "resource.object", "source": source, "pk": "not-a-uuid", "fields": ["id"], "masked": []},
            registry=registry,
        )[0]
        assert error(wrong)[0] == "not_found"
    finally:
        with connection.schema_editor() as editor:
            editor.delete_model(Ticket)


def test_results_are_json(library, model_resources):
    """Everything the effects return goes to the engine as JSON."""
    results = run(
        "alice",
        {
            "kind": "resource.object",
            "source": {"model": "library.Book"},
            "pk": book(1).pk,
            "fields": ["isbn", "price", "reading_time", "metadata"],
            "masked": [],
        },
        {"kind": "resource.objects", "source": {"model": "library.Book"}, "offset": 0, "limit": 5, "prefix": None},
    )
    assert json.loads(json.dumps(results)) == results
    assert results[0]["ok"]["object"]["isbn"] == str(book(1).isbn)
