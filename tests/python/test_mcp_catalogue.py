"""`manage.py mcp_catalogue`: what a caller is offered, as the endpoint lists it for them, and
what loading the catalogue left out, with the reasons start-up logs."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from conftest import InProcessMCP
from servers import ROOT
from django_mcp.management.commands.mcp_catalogue import JSON_KEYS_HELP, Command
from django_mcp.models import MCPAPIKey

KEYS = [
    "caller",
    "counts",
    "tools_by_surface",
    "tools_by_app",
    "tools_list",
    "tools",
    "largest_tools",
    "left_out",
    "discovery",
]
KEY_ADMIN_LEFT_OUT = "admin/django_mcp.mcpapikey: never served: a key must not be able to mint keys"


def catalogue(*args):
    out = StringIO()
    call_command("mcp_catalogue", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def catalogue_text(*args):
    out = StringIO()
    call_command("mcp_catalogue", *args, stdout=out)
    return out.getvalue()


def key_id(credential):
    return credential.partition(".")[0]


def compact(item):
    return json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.mark.parametrize("username", ["alice", "bob"])
def test_a_caller_is_offered_what_the_endpoint_lists_for_them(client, make_key, username):
    credential = make_key(username)
    endpoint = InProcessMCP(client, credential)
    listed = endpoint.pages("tools/list")
    tools = [tool for page in listed for tool in page["tools"]]
    templates = [t for page in endpoint.pages("resources/templates/list") for t in page["resourceTemplates"]]
    prompts = [p for page in endpoint.pages("prompts/list") for p in page["prompts"]]
    for report in [catalogue("--key", key_id(credential)), catalogue("--user", username)]:
        assert [tool["name"] for tool in report["tools"]] == [tool["name"] for tool in tools]
        assert report["counts"] == {"tools": len(tools), "resource_templates": len(templates), "prompts": len(prompts)}
        assert sum(report["tools_by_surface"].values()) == sum(report["tools_by_app"].values()) == len(tools)
    # Each descriptor's bytes are those the endpoint sent.
    sent = b"".join(
        endpoint.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": params}).content
        for params in [{}] + [{"cursor": page["nextCursor"]} for page in listed if "nextCursor" in page]
    )
    assert [tool["bytes"] for tool in report["tools"]] == [len(compact(tool)) for tool in tools]
    assert all(compact(tool) in sent for tool in tools)
    assert report["tools_list"]["bytes"] == sum(len(compact(tool)) for tool in tools)
    assert report["tools_list"]["estimated_tokens"] == -(-report["tools_list"]["bytes"] // 4)
    largest = sorted(report["tools"], key=lambda tool: -tool["bytes"])[:10]
    assert [tool["bytes"] for tool in report["largest_tools"]] == [tool["bytes"] for tool in largest]


def test_bob_who_may_view_authors_only_is_offered_only_author_admin_tools(bob_key):
    report = catalogue("--user", "bob")
    admin_tools = {tool["name"] for tool in report["tools"] if tool["surface"] in ("admin", "search")}
    assert admin_tools == {"list_library_author", "get_library_author", "search_library_author"}
    assert report["caller"] == {"user": "bob", "key": None, "allowed_tools": [], "assumed_superuser": False}
    assert report["tools_by_app"] == {"-": 2, "library": len(report["tools"]) - 2}  # "-": Django's generic views
    text = catalogue_text("--user", "bob")
    assert text.startswith("Offered to bob (no key, so no allowed_tools):")
    assert "list_library_book" not in text


def test_a_key_is_offered_only_its_allowed_tools(make_key):
    allowed = ["list_library_book", "get_library_author", "list_api_tag"]
    report = catalogue("--key", key_id(make_key("alice", allowed_tools=allowed)))
    assert sorted(tool["name"] for tool in report["tools"]) == sorted(allowed)
    assert report["caller"]["allowed_tools"] == allowed
    assert report["tools_by_surface"] == {"admin": 2, "views": 0, "drf": 1, "search": 0, "custom": 0}
    assert report["counts"]["prompts"] == report["counts"]["resource_templates"] == 0


def test_without_a_caller_it_is_what_a_superuser_is_offered(library, alice_key):
    from django.contrib.auth.models import User

    users = User.objects.count()
    report = catalogue()
    assert report["caller"]["assumed_superuser"] is True
    assert report["tools"] == catalogue("--user", "alice")["tools"]  # alice is a superuser
    assert User.objects.count() == users
    assert catalogue_text().startswith("Offered to a superuser (no --user or --key given):")


def test_the_key_admin_is_listed_as_left_out_with_the_reason(library):
    report = catalogue()
    assert {"source": "facts", "message": KEY_ADMIN_LEFT_OUT} in report["left_out"]
    assert not [tool for tool in report["tools"] if "mcpapikey" in tool["name"]]
    assert f"[facts] {KEY_ADMIN_LEFT_OUT}" in catalogue_text()


def test_a_left_out_list_filter_and_views_are_listed_with_their_reasons(library, settings):
    settings.DJANGO_MCP_REDACT_FIELDS = ["library.Book.in_print"]
    settings.DJANGO_MCP_VIEW_EXCLUDE = ["library:stats", "api:tag-*"]
    settings.DJANGO_MCP_REQUIRE_AUTH = True
    messages = [warning["message"] for warning in catalogue()["left_out"]]
    assert "admin/library.book: list_filter entry 'in_print' left out: it filters on a redacted field" in messages
    assert (
        "not serving the view library.views.library_stats at 'library/stats/': "
        "DJANGO_MCP_VIEW_EXCLUDE pattern 'library:stats' matches it"
    ) in messages
    assert [m for m in messages if m.startswith("not serving the DRF route of ") and "'api:tag-*' matches it" in m]
    assert [m for m in messages if "library.views.books_by_year" in m and "no authorization gate was recognised" in m]
    assert KEY_ADMIN_LEFT_OUT in messages
    text = catalogue_text()
    assert "[engine] admin/library.book: list_filter entry 'in_print' left out" in text


def test_json_has_the_documented_keys(library):
    report = catalogue()
    assert list(report) == KEYS
    assert set(report["tools"][0]) == {"name", "surface", "app", "bytes"}
    assert set(report["tools_list"]) == {"bytes", "estimated_tokens", "token_estimate"}
    parser_help = Command().create_parser("manage.py", "mcp_catalogue").format_help()
    readme = (ROOT / "README.md").read_text().split("### See what you serve", 1)[1].split("\n## ", 1)[0]
    for key in KEYS:
        assert f"  {key} " in JSON_KEYS_HELP and f"  {key} " in parser_help
        assert f"`{key}`" in readme, key
    assert "bytes / 4" in parser_help and "bytes / 4" in readme


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--user", "nobody"], "user not found: 'nobody'"),
        (["--key", "A" * 24], f"key not found: '{'A' * 24}'"),
    ],
)
def test_an_unknown_user_or_key_is_named(library, args, error):
    with pytest.raises(CommandError, match=error):
        catalogue(*args)


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_a_revoked_or_expired_key_is_offered_nothing(make_key, state):
    key = MCPAPIKey.objects.get(key_id=key_id(make_key("alice")))
    if state == "revoked":
        key.revoke()
    else:
        key.expires_at = timezone.now() - timedelta(days=1)
        key.save(update_fields=["expires_at"])
    with pytest.raises(CommandError, match=f"key {key.key_id} is {state}: it is offered nothing"):
        catalogue("--key", key.key_id)


def test_over_the_discovery_threshold_it_says_so_and_reports_the_tools_behind_it(client, make_key, settings):
    credential = make_key("alice")
    usable = [tool["name"] for tool in InProcessMCP(client, credential).all_tools()]  # discovery off
    settings.DJANGO_MCP_DISCOVERY = "auto"
    served = [tool["name"] for tool in InProcessMCP(client, credential).all_tools()]
    assert len(usable) > 40 and set(served) == {"find_tools", "describe_tools", "call_read_only_tool", "call_tool"}
    report = catalogue("--key", key_id(credential))
    assert [tool["name"] for tool in report["tools"]] == usable
    assert report["discovery"]["applies"] is True and report["discovery"]["listed"] == served
    assert report["discovery"]["mode"] == "auto" and report["discovery"]["threshold"] == 40
    assert KEY_ADMIN_LEFT_OUT in [warning["message"] for warning in report["left_out"]]
    assert "Discovery (auto, threshold 40) applies: tools/list answers find_tools" in catalogue_text("--user", "alice")
    settings.DJANGO_MCP_DISCOVERY = "off"
    assert catalogue("--user", "alice")["discovery"]["applies"] is False
