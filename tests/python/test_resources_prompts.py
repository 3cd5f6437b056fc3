"""Model resources, file resources, admin-action and user prompts, and completion — through
the official `mcp` SDK over HTTP (uvicorn) and STDIO, and in-process for the refusals:
the same fields, redaction and permissions as the admin's retrieve, always through
`get_queryset`."""

import base64
import json
import sys

import anyio
import pytest
from django.test import override_settings
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference, ResourceTemplateReference

from conftest import InProcessMCP, db_dump
from servers import DEMO
from django_mcp import server
from test_mcp_clients import http_client

BOOK = "django-mcp://model/library.Book/{pk}"
COVER = "django-mcp://field/library.Book/{pk}/cover"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def everything(client):
    """What one client sees and reads; returns facts for the assertions."""
    templates = [t.uri_template for t in (await client.list_resource_templates()).resource_templates]
    assert {BOOK, COVER, "django-mcp://model/auth.User/{pk}"} <= set(templates)

    book = json.loads((await client.read_resource("django-mcp://model/library.Book/1")).contents[0].text)
    assert book["id"] == 1 and "title" in book

    user = json.loads((await client.read_resource("django-mcp://model/auth.User/1")).contents[0].text)
    assert user["password"] == "********"

    listed = await client.call_tool("list_library_book", {"page_size": 50})
    covered = [r["id"] for r in listed.structured_content["results"]]
    cover = None
    for pk in covered:
        try:
            cover = (await client.read_resource(COVER.replace("{pk}", str(pk)))).contents[0]
            break
        except MCPError:
            continue  # a book without a cover
    assert cover is not None and cover.mime_type == "image/png"
    assert base64.b64decode(cover.blob).startswith(PNG_MAGIC)

    got = await client.call_tool("get_library_book", {"pk": 1})
    links = [c for c in got.content if c.type == "resource_link"]
    assert [str(link.uri) for link in links] == ["django-mcp://model/library.Book/1"]

    prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert {"mark_published_library_book", "delete_selected_library_book"} <= set(prompts)
    assert [a.name for a in prompts["mark_published_library_book"].arguments] == ["pks"]
    rendered = await client.get_prompt("mark_published_library_book", {"pks": "1, 2"})
    text = rendered.messages[0].content.text
    assert "mark_published_library_book" in text and '{"pks":[1,2]}' in text

    pks = await client.complete(ResourceTemplateReference(type="ref/resource", uri=BOOK), {"name": "pk", "value": "1"})
    assert pks.completion.values and all(v.startswith("1") for v in pks.completion.values)
    picks = await client.complete(
        PromptReference(type="ref/prompt", name="mark_published_library_book"), {"name": "pks", "value": "3, 1"}
    )
    assert picks.completion.values and all(v.startswith("1") for v in picks.completion.values)

    first = await client.list_resources()
    return {"objects": [str(r.uri) for r in first.resources], "cursor": first.next_cursor}


def test_resources_prompts_and_completion_over_http(live_demo):
    async def main():
        async with http_client(live_demo, live_demo["keys"]["alice"]) as client:
            return await everything(client)

    listed = anyio.run(main)
    assert listed["objects"] and all(u.startswith("django-mcp://model/") for u in listed["objects"])
    assert listed["cursor"]


def test_resources_prompts_and_completion_over_stdio(live_demo):
    params = StdioServerParameters(
        command=sys.executable,
        args=["manage.py", "mcp_server"],
        cwd=str(DEMO),
        env={**live_demo["env"], "DJANGO_MCP_KEY": live_demo["keys"]["alice"]},
    )

    async def main():
        async with Client(stdio_client(params), mode="legacy") as client:
            return await everything(client)

    assert anyio.run(main)["objects"]


def test_a_view_only_user_sees_only_what_they_may_read(client, bob_key):
    bob = InProcessMCP(client, bob_key)
    templates = {t["uriTemplate"] for t in bob.rpc("resources/templates/list")["result"]["resourceTemplates"]}
    assert templates == {"django-mcp://model/library.Author/{pk}"}
    assert bob.rpc("resources/read", {"uri": "django-mcp://model/library.Book/1"})["error"]["code"] == -32002
    assert (
        json.loads(
            bob.rpc("resources/read", {"uri": "django-mcp://model/library.Author/1"})["result"]["contents"][0]["text"]
        )["id"]
        == 1
    )
    prompts = bob.rpc("prompts/list")["result"]["prompts"]
    assert "mark_published_library_book" not in {p["name"] for p in prompts}


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_resource_pages_list_each_object_a_caller_may_read_once(mcp_as, make_key, settings, who):
    # Every object of every model template the caller may read, in template order and by pk
    # as the admin's get_queryset gives them, a few to a page.
    from django.contrib import admin as django_admin
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    settings.DJANGO_MCP_PAGE_SIZE = 2
    caller = mcp_as(make_key(who))
    templates = [
        t["uriTemplate"] for page in caller.pages("resources/templates/list") for t in page["resourceTemplates"]
    ]
    request = RequestFactory().get("/")
    request.user = User.objects.get(username=who)
    by_label = {model._meta.label: model_admin for model, model_admin in django_admin.site._registry.items()}

    def pks(template):
        model_admin = by_label[template.split("/")[3]]
        return model_admin.get_queryset(request).order_by("pk").values_list("pk", flat=True)

    pages = caller.pages("resources/list")
    listed = [r["uri"] for page in pages for r in page["resources"]]
    assert listed == [t.replace("{pk}", str(pk)) for t in templates for pk in pks(t)]
    assert len(listed) > 2 and all(len(page["resources"]) <= 2 for page in pages)


LISTS = [("prompts/list", "prompts", "name"), ("resources/templates/list", "resourceTemplates", "uriTemplate")]


@pytest.mark.parametrize("method, key, name", LISTS)
@pytest.mark.parametrize("page_size", [1, 2, 3])
def test_prompts_and_templates_page_through_what_the_caller_may_use(
    mcp_as, make_key, settings, method, key, name, page_size
):
    # Pages are filled a window of gates at a time: every page but the last is full, none is
    # empty, and together they are the one-page list, for every caller and for a key allowed
    # items far apart.
    settings.DJANGO_MCP_PAGE_SIZE = 100
    names = lambda pages: [[item[name] for item in page[key]] for page in pages]  # noqa: E731
    alice = mcp_as(make_key("alice"))
    everything = names(alice.pages(method))[0]
    assert len(everything) > 3
    scattered = everything[::3]
    allowed = mcp_as(make_key("alice", allowed_tools=scattered))
    for caller, expected in [(alice, everything), (allowed, scattered), (mcp_as(make_key("bob")), None)]:
        settings.DJANGO_MCP_PAGE_SIZE = 100
        expected = expected if expected is not None else names(caller.pages(method))[0]
        settings.DJANGO_MCP_PAGE_SIZE = page_size
        pages = names(caller.pages(method))
        assert [item for page in pages for item in page] == expected
        assert all(len(page) == page_size for page in pages[:-1]) and len(pages[-1]) <= page_size
        assert pages[-1] or pages == [[]]


@pytest.mark.parametrize(
    "uri, why",
    [
        ("django-mcp://model/library.Book/99999", "unknown"),
        ("django-mcp://model/library.Book/abc", "unknown"),
        ("django-mcp://model/library.Nothing/1", "unknown"),
        ("django-mcp://field/library.Book/1/title", "unknown"),  # not a file field
        ("django-mcp://field/library.Book/1/../../etc/passwd", "unknown"),
        ("file:///etc/passwd", "unknown"),
    ],
)
def test_unknown_uris_and_pks_are_invalid_params_and_touch_nothing(mcp, uri, why):
    before = db_dump("library", "auth")
    error = mcp.rpc("resources/read", {"uri": uri})["error"]
    assert error["code"] == -32602 and error["data"] == {"uri": uri}
    assert db_dump("library", "auth") == before


def test_a_file_over_the_limit_is_refused_with_its_size(mcp):
    from library.models import Book

    book = Book.objects.exclude(cover="").first()
    with override_settings(DJANGO_MCP_FIELD_RESOURCE_MAX_BYTES=10):
        server.reset()
        try:
            error = mcp.rpc("resources/read", {"uri": COVER.replace("{pk}", str(book.pk))})["error"]
        finally:
            server.reset()
    assert error["code"] == -32602 and "limit is 10 bytes" in error["message"]


def test_resources_respect_a_tenant_restricted_get_queryset(mcp):
    from library.models import Book

    hidden = Book.objects.filter(in_print=False).first()
    shown = Book.objects.filter(in_print=True).first()
    with override_settings(DJANGO_MCP_ADMIN_SITES=["fixtures.scoped_admin.site"]):
        server.reset()
        try:
            read = lambda pk: mcp.rpc("resources/read", {"uri": BOOK.replace("{pk}", str(pk))})  # noqa: E731
            assert read(hidden.pk)["error"]["code"] == -32602
            assert json.loads(read(shown.pk)["result"]["contents"][0]["text"])["id"] == shown.pk
            completed = mcp.rpc(
                "completion/complete",
                {"ref": {"type": "ref/resource", "uri": BOOK}, "argument": {"name": "pk", "value": ""}},
            )["result"]["completion"]
            assert str(hidden.pk) not in completed["values"] and str(shown.pk) in completed["values"]
        finally:
            server.reset()


def test_user_prompts_render_their_body_and_check_arguments(mcp, client, bob_key):
    prompts = [
        {
            "name": "summarise",
            "description": "Summarise a book",
            "body": "Summarise {title} for {audience}; keep {other}.",
            "arguments": [
                {"name": "title", "description": "", "required": True},
                {"name": "audience", "description": "", "required": False},
            ],
        },
        {
            "name": "editors_only",
            "description": "For editors",
            "body": "x",
            "arguments": [],
            "permission": "library.change_book",
        },
    ]
    with override_settings(DJANGO_MCP_PROMPTS=prompts):
        server.reset()
        try:
            got = mcp.rpc("prompts/get", {"name": "summarise", "arguments": {"title": "Dune", "audience": "kids"}})[
                "result"
            ]
            assert got["messages"][0]["content"]["text"] == "Summarise Dune for kids; keep {other}."
            assert mcp.rpc("prompts/get", {"name": "summarise", "arguments": {}})["error"]["code"] == -32602
            bob = InProcessMCP(client, bob_key)
            assert "editors_only" not in {p["name"] for p in bob.rpc("prompts/list")["result"]["prompts"]}
            assert bob.rpc("prompts/get", {"name": "editors_only"})["error"]["code"] == -32002
        finally:
            server.reset()


def test_resources_disabled_removes_model_resources_and_prompts(mcp):
    with override_settings(DJANGO_MCP_RESOURCES_DISABLED=True):
        server.reset()
        try:
            capabilities = mcp.rpc("initialize", {"protocolVersion": "2025-11-25"})["result"]["capabilities"]
            assert set(capabilities) == {"tools"}
            assert mcp.rpc("resources/read", {"uri": "django-mcp://model/library.Book/1"})["error"]["code"] == -32602
            got = mcp.call("get_library_book", {"pk": 1})
            assert [c["type"] for c in got["content"]] == ["text"]
        finally:
            server.reset()


def test_completion_refuses_items_outside_the_keys_allowlist(mcp_as, make_key, caplog):
    # A key allowed one tool must not learn user pks through the user template, nor book pks
    # through an action prompt: refused as resources/read and prompts/get refuse, and audited.
    scoped = mcp_as(make_key("alice", allowed_tools=["list_library_author"]))
    before = db_dump("library", "auth")
    references = [
        ({"type": "ref/resource", "uri": "django-mcp://model/auth.User/{pk}"}, "pk"),
        ({"type": "ref/prompt", "name": "mark_published_library_book"}, "pks"),
    ]
    for reference, argument in references:
        with caplog.at_level("INFO", logger="django_mcp.audit"):
            reply = scoped.rpc("completion/complete", {"ref": reference, "argument": {"name": argument, "value": ""}})
        assert reply["error"]["code"] == -32003 and "result" not in reply, reply
        audit = json.loads(caplog.records[-1].getMessage())
        assert (audit["method"], audit["outcome"]) == ("completion/complete", "out_of_scope")
        assert audit["target"] == reference.get("uri", reference.get("name"))
    assert db_dump("library", "auth") == before
