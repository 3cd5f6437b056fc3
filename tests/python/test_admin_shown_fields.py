"""Reads show exactly the fields the admin's change page shows the caller: the flattened
`get_fieldsets(request, obj)` of its ModelAdmin, whether it declares `fieldsets`, decides them
per user, or leaves them to `fields`/the form. Objects come from `get_object(request, id)`.

Every read is checked through the endpoint: the get tool, `resources/read` of the object and of
its file field, and the objects create and update return.
"""

import base64
import json

import pytest
from conftest import InProcessMCP, db_dump
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Permission, User
from library.admin import BookAdmin
from library.models import Author, Book


@pytest.fixture(autouse=True)
def admin_surface_only(settings):
    settings.DJANGO_MCP_VIEW_INCLUDE = []
    settings.DJANGO_MCP_MODEL_SEARCH = []


def _site(settings, name, *registrations):
    site = admin.AdminSite(name=name)
    for model, model_admin in registrations:
        site.register(model, model_admin)
    settings.DJANGO_MCP_ADMIN_SITES = [site]
    return site


def _read(mcp, uri):
    reply = mcp.rpc("resources/read", {"uri": uri})
    return reply.get("result"), reply.get("error")


def _object(mcp, uri):
    result, error = _read(mcp, uri)
    assert error is None, error
    return json.loads(result["contents"][0]["text"])


def _ok(mcp, name, arguments):
    result = mcp.call(name, arguments)
    assert result["isError"] is False, result
    return result["structuredContent"]


def _staff(username, *codenames):
    user = User.objects.create_user(username, f"{username}@example.com", "x", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


class UsernameOnlyUserAdmin(UserAdmin):
    """Declares fieldsets and no `fields`: Django's `get_fields` would name every editable field."""

    fieldsets = [(None, {"fields": ["username"]})]


def test_fields_outside_every_fieldset_are_never_read(client, make_key, settings):
    _site(settings, "narrow", (User, UsernameOnlyUserAdmin))
    mcp = InProcessMCP(client, make_key("alice"))
    bob = User.objects.get(username="bob")
    shown = {"id", "username"}

    assert set(_ok(mcp, "narrow_get_auth_user", {"pk": bob.pk})["object"]) == shown
    assert set(_object(mcp, f"django-mcp://model/auth.User/{bob.pk}")) == shown
    updated = _ok(mcp, "narrow_update_auth_user", {"pk": bob.pk, "fields": {"username": "robert"}})
    assert set(updated["object"]) == shown and updated["object"]["username"] == "robert"


class PerUserBookAdmin(BookAdmin):
    """Superusers see every field; everyone else a fieldset without the price and the cover."""

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return [(None, {"fields": ["title", "slug", "pages", "author"]})]


def test_a_per_user_get_fieldsets_decides_what_each_caller_reads(client, library, make_key, settings):
    _site(settings, "peruser", (Book, PerUserBookAdmin))
    _staff("dave", "view_book", "change_book")
    book = Book.objects.exclude(cover="").order_by("pk").first()
    assert book is not None and book.price is not None
    alice = InProcessMCP(client, make_key("alice"))
    dave_mcp = InProcessMCP(client, make_key("dave"))
    object_uri = f"django-mcp://model/library.Book/{book.pk}"
    cover_uri = f"django-mcp://field/library.Book/{book.pk}/cover"

    assert {"price", "cover", "isbn"} <= set(_ok(alice, "peruser_get_library_book", {"pk": book.pk})["object"])
    assert _read(alice, cover_uri)[1] is None

    shown = {"id", "title", "slug", "pages", "author"}
    assert set(_ok(dave_mcp, "peruser_get_library_book", {"pk": book.pk})["object"]) == shown
    assert set(_object(dave_mcp, object_uri)) == shown
    before = db_dump("library_")
    _result, error = _read(dave_mcp, cover_uri)
    assert error is not None and error["code"] == -32002, error
    assert db_dump("library_") == before
    updated = _ok(dave_mcp, "peruser_update_library_book", {"pk": book.pk, "fields": {"pages": 321}})
    assert set(updated["object"]) == shown and updated["object"]["pages"] == 321


class FewFieldsBookAdmin(BookAdmin):
    fieldsets = [
        ("Book", {"fields": ["title", "slug", "pages", "price", "author"]}),
        ("Dates", {"fields": [("published", "status")]}),
    ]


def test_created_objects_come_back_with_the_fieldsets_fields_only(client, library, make_key, settings):
    _site(settings, "few", (Book, FewFieldsBookAdmin))
    mcp = InProcessMCP(client, make_key("alice"))
    author = Author.objects.order_by("pk").first()
    created = _ok(
        mcp,
        "few_create_library_book",
        {
            "title": "Shown",
            "slug": "shown",
            "pages": 10,
            "price": "1.50",
            "author": author.pk,
            "published": "2020-01-02",
            "status": "draft",
        },
    )["object"]
    assert set(created) == {"id", "title", "slug", "pages", "price", "author", "published", "status"}
    assert Book.objects.get(pk=created["id"]).isbn is not None  # there, but not shown


class PublishedOnlyBookAdmin(BookAdmin):
    """Its change, delete and history pages find objects through `get_object`, which hides drafts;
    `get_queryset` (the changelist) still holds them."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        return None if obj is None or obj.status == Book.Status.DRAFT else obj


def test_objects_are_found_through_the_admins_get_object(client, library, make_key, settings):
    _site(settings, "published", (Book, PublishedOnlyBookAdmin))
    mcp = InProcessMCP(client, make_key("alice"))
    draft = Book.objects.filter(status=Book.Status.DRAFT).order_by("pk").first()
    shown = Book.objects.exclude(status=Book.Status.DRAFT).order_by("pk").first()
    assert draft is not None and shown is not None

    assert _ok(mcp, "published_get_library_book", {"pk": shown.pk})["object"]["id"] == shown.pk
    before = db_dump("library_", "django_admin_log")
    for name, arguments in [
        ("published_get_library_book", {"pk": draft.pk}),
        ("published_update_library_book", {"pk": draft.pk, "fields": {"pages": 1}}),
        ("published_delete_library_book", {"pk": draft.pk}),
    ]:
        result = mcp.call(name, arguments)
        assert result["isError"] is True, (name, result)
        assert "exists that you can see" in result["content"][0]["text"], (name, result)
    _result, error = _read(mcp, f"django-mcp://model/library.Book/{draft.pk}")
    assert error is not None, error
    assert db_dump("library_", "django_admin_log") == before


def test_a_file_field_in_the_fieldsets_is_readable(client, library, make_key, settings):
    class CoverBookAdmin(BookAdmin):
        fieldsets = [(None, {"fields": ["title", "cover"]})]

    _site(settings, "covers", (Book, CoverBookAdmin))
    mcp = InProcessMCP(client, make_key("alice"))
    book = Book.objects.exclude(cover="").order_by("pk").first()
    result, error = _read(mcp, f"django-mcp://field/library.Book/{book.pk}/cover")
    assert error is None, error
    content = result["contents"][0]
    data = content["text"].encode() if "text" in content else base64.b64decode(content["blob"])
    with book.cover.open("rb") as handle:
        assert data == handle.read()
