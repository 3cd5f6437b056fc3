"""The admins' add and change forms are built when a request first needs them, not at
start-up (issue 23), and a client is told the same, byte for byte, as when they are built
with the facts (`server.eager_forms`, what `mcp_catalogue` uses).

The engine's side (every step that needs a descriptor asks for the forms first; the prompts
of long choice lists land where the eager load puts them) is held on the demo's and the
third-party project's facts by component/tests/deferred_forms.rs.
"""

import json
from contextlib import nullcontext
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from conftest import InProcessMCP, _restart_sequences
from django_mcp import server
from django_mcp.facts import forms as form_facts


@pytest.fixture
def built(monkeypatch):
    """The admins whose forms were built, in order, once per build."""
    admins = []
    admin_forms = form_facts.admin_forms

    def counted(model_admin, request):
        admins.append(model_admin.model._meta.label)
        return admin_forms(model_admin, request)

    monkeypatch.setattr(form_facts, "admin_forms", counted)
    return admins


def told(client, alice_key, *, eager):
    """What a client is told by a catalogue derived with the forms eager or deferred: every
    tools/list page, prompts/list, a create and an update, and find_tools; the database as
    it was before."""
    mcp = InProcessMCP(client, alice_key)
    with server.eager_forms() if eager else nullcontext():
        server.reset()
        replies = [page for page in mcp.pages()]
        replies.append(mcp.rpc("prompts/list"))
        with transaction.atomic():
            replies.append(
                mcp.rpc(
                    "tools/call",
                    {"name": "create_library_author", "arguments": {"name": "Ann", "email": "ann@example.com"}},
                )
            )
            arguments = {"pk": 1, "fields": {"title": "Retitled"}}
            replies.append(mcp.rpc("tools/call", {"name": "update_library_book", "arguments": arguments}))
            replies.append(mcp.rpc("tools/call", {"name": "update_library_book", "arguments": {"pk": 1}}))
            transaction.set_rollback(True)
        _restart_sequences()
        if any(tool["name"] == "find_tools" for tool in replies[0]["tools"]):
            replies.append(mcp.rpc("tools/call", {"name": "find_tools", "arguments": {"query": "create a book"}}))
    return json.dumps(replies)


@pytest.mark.parametrize("discovery", ["off", "always"])
def test_deferred_forms_tell_a_client_what_eager_ones_do(client, alice_key, settings, discovery):
    settings.DJANGO_MCP_DISCOVERY = discovery
    settings.DJANGO_MCP_PAGE_SIZE = 7
    eager = told(client, alice_key, eager=True)
    assert '"structuredContent"' in eager and "Retitled" in eager
    assert told(client, alice_key, eager=False) == eager


def test_no_form_is_built_until_a_request_needs_one(client, alice_key, built):
    mcp = InProcessMCP(client, alice_key)
    mcp.rpc(
        "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    )
    assert mcp.call("list_library_book", {})["structuredContent"]["count"] > 0
    assert built == []
    created = mcp.call("create_library_author", {"name": "Ann", "email": "ann@example.com"})
    assert created["structuredContent"]["object"]["name"] == "Ann"
    assert built == ["library.Author"]


def test_an_admins_forms_are_built_once_per_set_of_facts(client, alice_key, built, settings):
    settings.DJANGO_MCP_DISCOVERY = "off"
    mcp = InProcessMCP(client, alice_key)
    mcp.pages()
    mcp.pages()
    mcp.call("update_library_book", {"pk": 1, "fields": {"title": "Retitled"}})
    assert sorted(built) == sorted(set(built)) and "library.Book" in built
    server.reset()  # the facts are gathered again: so are the forms, when needed
    built.clear()
    mcp.call("update_library_book", {"pk": 1, "fields": {"title": "Again"}})
    assert built == ["library.Book"]


def test_a_form_that_cannot_be_built_is_offered_to_nobody_and_reported(client, alice_key, monkeypatch, settings):
    from library.admin import AuthorAdmin

    settings.DJANGO_MCP_DISCOVERY = "off"

    def broken(self, request, obj=None, change=False, **kwargs):
        raise RuntimeError("no form today")

    monkeypatch.setattr(AuthorAdmin, "get_form", broken)
    mcp = InProcessMCP(client, alice_key)
    names = [tool["name"] for page in mcp.pages() for tool in page["tools"]]
    assert "list_library_author" in names
    assert "create_library_author" not in names and "update_library_author" not in names
    error = mcp.rpc(
        "tools/call", {"name": "create_library_author", "arguments": {"name": "Ann", "email": "ann@example.com"}}
    )["error"]
    assert error["code"] == -32602
    assert error["message"] == (
        "Invalid params: tool 'create_library_author' is unavailable: its admin form could not be built"
    )
    out = StringIO()
    call_command("mcp_catalogue", "--json", stdout=out)
    messages = [warning["message"] for warning in json.loads(out.getvalue())["left_out"]]
    assert "admin/library.author: its add form could not be built; no create tool" in messages
