"""Record the engine transcripts from the real Django host (the demo project, in-process).

    .venv/bin/python tests/transcripts/record.py

Rewrites every `*.transcript` here and the facts files they load. Read the diff before
committing: a transcript is the engine's behaviour, checked by a person once.
"""

import datetime
import json
import os
import sys
import tempfile
from contextlib import nullcontext
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "demo"))
WORKDIR = Path(tempfile.mkdtemp(prefix="django-mcp-record-"))
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "demo_project.settings",
        "DEMO_DB": str(WORKDIR / "db.sqlite3"),
        "DEMO_MEDIA": str(WORKDIR / "media"),
        "DEMO_DEBUG": "0",
    }
)

import django  # noqa: E402
import time_machine  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from django_mcp import server  # noqa: E402
from django_mcp.models import MCPAPIKey  # noqa: E402
from django_mcp.transcript import Recorder  # noqa: E402


def fixed_key(username, key_id, **kwargs):
    """A key with a stable id, so recorded principals do not change between recordings."""
    key, secret = MCPAPIKey.objects.create_key(User.objects.get(username=username), name="transcripts", **kwargs)
    MCPAPIKey.objects.filter(pk=key.pk).update(key_id=key_id)
    return f"{key_id}.{secret}"


def rpc(id_, method, params=None):
    message = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message)


def call(id_, name, arguments):
    return rpc(id_, "tools/call", {"name": name, "arguments": arguments})


class Scenario:
    def __init__(self, name, title, facts, settings=None):
        self.name, self.title, self.facts, self.settings = name, title, facts, settings or {}
        self.steps = []

    def say(self, comment, body, credential="alice", headers=None):
        self.steps.append((comment, body, credential, headers or {}))
        return self


def scenarios():
    yield (
        Scenario(
            "protocol-basics", "JSON-RPC framing, negotiation and the methods every client uses first.", "library.json"
        )
        .say(
            "initialize echoes a revision it speaks",
            rpc(
                1,
                "initialize",
                {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
            ),
        )
        .say("the oldest handshake revision is still spoken", rpc(2, "initialize", {"protocolVersion": "2024-11-05"}))
        .say(
            "an unknown revision gets our latest; the client decides",
            rpc(3, "initialize", {"protocolVersion": "1999-01-01"}),
        )
        .say("ping", rpc(4, "ping"))
        .say(
            "a notification is accepted with no reply (HTTP 202)",
            json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        )
        .say(
            "a response from the client is accepted and dropped", json.dumps({"jsonrpc": "2.0", "id": 9, "result": {}})
        )
        .say("malformed JSON: -32700, HTTP 400", '{"jsonrpc": "2.0", "id": 5,')
        .say("a batch: -32600", json.dumps([{"jsonrpc": "2.0", "id": 6, "method": "ping"}]))
        .say("a null id: -32600", json.dumps({"jsonrpc": "2.0", "id": None, "method": "ping"}))
        .say(
            "params that are not an object: -32602",
            json.dumps({"jsonrpc": "2.0", "id": 7, "method": "ping", "params": [1]}),
        )
        .say("an unknown method: -32601", rpc(8, "resources/subscribe"))
        .say(
            "an unsupported MCP-Protocol-Version header: -32600, HTTP 400",
            rpc(10, "ping"),
            headers={"MCP-Protocol-Version": "2099-01-01"},
        )
        # The host answers every other method without a key (401) before the engine steps.
        .say("ping without a key: answered", rpc(11, "ping"), credential=None)
    )
    stateless = {"MCP-Protocol-Version": "2026-07-28"}
    meta = {
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        }
    }
    yield (
        Scenario(
            "stateless",
            "2026-07-28 beside the handshake revisions: _meta on every request, headers that must agree.",
            "library-page-size-3.json",
            {"DJANGO_MCP_PAGE_SIZE": 3},
        )
        .say(
            "server/discover: every revision, the capabilities, cacheable by anyone",
            rpc(1, "server/discover", meta),
            headers={**stateless, "Mcp-Method": "server/discover"},
        )
        .say(
            "tools/list: resultType, server info and a private cache hint",
            rpc(2, "tools/list", meta),
            headers={**stateless, "Mcp-Method": "tools/list"},
        )
        .say(
            "a tool call names its tool in Mcp-Name",
            rpc(3, "tools/call", {**meta, "name": "list_library_tag", "arguments": {"page_size": 1}}),
            headers={**stateless, "Mcp-Method": "tools/call", "Mcp-Name": "list_library_tag"},
        )
        .say(
            "Mcp-Name that disagrees with the body: -32020, HTTP 400",
            rpc(4, "tools/call", {**meta, "name": "list_library_tag"}),
            headers={**stateless, "Mcp-Method": "tools/call", "Mcp-Name": "list_library_book"},
        )
        .say("no _meta: -32602, HTTP 400", rpc(5, "tools/list"), headers={**stateless, "Mcp-Method": "tools/list"})
        .say(
            "a revision we do not speak: -32022 with the ones we do",
            rpc(
                6,
                "server/discover",
                {"_meta": {**meta["_meta"], "io.modelcontextprotocol/protocolVersion": "2099-01-01"}},
            ),
            headers={"MCP-Protocol-Version": "2099-01-01", "Mcp-Method": "server/discover"},
        )
        .say(
            "ping is gone in 2026-07-28: -32601, HTTP 404",
            rpc(7, "ping", meta),
            headers={**stateless, "Mcp-Method": "ping"},
        )
    )
    yield (
        Scenario(
            "tools-list-paged",
            "tools/list in pages of three for a superuser: the host grants every admin gate.",
            "library-page-size-3.json",
            {"DJANGO_MCP_PAGE_SIZE": 3},
        )
        .say("the first page carries a cursor", rpc(1, "tools/list"))
        .say("the next page", rpc(2, "tools/list", {"cursor": "o3"}))
        .say("the last page (61 tools) has no nextCursor at all", rpc(3, "tools/list", {"cursor": "o60"}))
        .say("a cursor we never issued: -32602", rpc(4, "tools/list", {"cursor": "bogus"}))
    )
    yield (
        Scenario(
            "tools-permissions",
            "What a user may see and call: Django permissions and the key's allowlist.",
            "library.json",
        )
        .say("bob may view authors only: the host denies the other gates", rpc(1, "tools/list"), credential="bob")
        .say(
            "so calling a book tool is forbidden (-32002) after the authorize effect fails",
            call(2, "list_library_book", {}),
            credential="bob",
        )
        .say("a key allowed only list_library_author sees just that tool", rpc(3, "tools/list"), credential="scoped")
        .say(
            "and is out of scope (-32003) for anything else, before any effect",
            call(4, "get_library_author", {"pk": 1}),
            credential="scoped",
        )
    )
    yield (
        Scenario(
            "admin-list",
            "list_library_book: arguments validated in the engine, the page fetched by the host.",
            "library.json",
        )
        .say(
            "search, a list_filter value, ordering by two columns, a page",
            call(
                1,
                "list_library_book",
                {"q": "Machines", "filters": {"status": "published"}, "ordering": "-price,title", "page_size": 3},
            ),
        )
        .say("the second page of everything", call(2, "list_library_book", {"page": 2, "page_size": 2}))
        .say(
            "a page number given as a string: a tool error naming it, no effect",
            call(3, "list_library_book", {"page": "2"}),
        )
        .say(
            "an ORM lookup smuggled into filters is not a declared filter",
            call(4, "list_library_book", {"filters": {"author__password__startswith": "pbkdf2"}}),
        )
        .say("ordering by a column the changelist does not show", call(5, "list_library_book", {"ordering": "summary"}))
        .say("an unknown tool: -32602", call(6, "list_library_nothing", {}))
        .say(
            "the original's dotted name is accepted as an alias", call(7, "admin.list:library.Author", {"page_size": 1})
        )
    )
    yield (
        Scenario(
            "admin-retrieve",
            "get_<app>_<model>: one object, the fields the admin shows, secrets masked.",
            "library.json",
        )
        .say(
            "a book with tags (many-to-many as pks), a decimal, a uuid, a duration and a file",
            call(1, "get_library_book", {"pk": 1}),
        )
        .say("a pk nobody can see", call(2, "get_library_book", {"pk": 99999}))
        .say("a pk of the wrong type never reaches the database", call(3, "get_library_book", {"pk": "abc"}))
        .say("a user: the password hash is masked", call(4, "get_auth_user", {"pk": 1}))
    )
    yield (
        Scenario(
            "admin-writes",
            "create, update, delete and an action: the admin's forms, save hooks and actions run by the host.",
            "library.json",
        )
        .say(
            "create a tag through the admin's add form",
            call(1, "create_library_tag", {"name": "Poetry", "slug": "poetry"}),
        )
        .say(
            "a partial update: only the name changes",
            call(2, "update_library_tag", {"pk": 6, "fields": {"name": "Verse"}}),
        )
        .say(
            "the form's own validation: a slug that is already taken",
            call(3, "create_library_tag", {"name": "Again", "slug": "poetry"}),
        )
        .say(
            "an argument the add form does not have never reaches the host",
            call(4, "create_library_tag", {"name": "x", "slug": "x", "colour": "red"}),
        )
        .say("delete it", call(5, "delete_library_tag", {"pk": 6}))
        .say("an author with books is protected", call(6, "delete_library_author", {"pk": 1}))
        .say("an admin action on two books", call(7, "mark_published_library_book", {"pks": [1, 2]}))
        .say(
            "bob may not add books: the gate fails before any work",
            call(8, "create_library_book", {"title": "x"}),
            credential="bob",
        )
    )
    yield (
        Scenario(
            "resources-prompts",
            "Model resources, action prompts and completion: the host reads, the engine renders.",
            "library.json",
        )
        .say("the templates this caller may read", rpc(1, "resources/templates/list"))
        .say("one book as its model resource", rpc(2, "resources/read", {"uri": "django-mcp://model/library.Book/1"}))
        .say(
            "a pk nobody can see: -32602 with the uri",
            rpc(3, "resources/read", {"uri": "django-mcp://model/library.Book/99999"}),
        )
        .say(
            "an action's prompt, rendered by the engine",
            rpc(4, "prompts/get", {"name": "mark_published_library_book", "arguments": {"pks": "1,2"}}),
        )
        .say(
            "pks completed through get_queryset",
            rpc(
                5,
                "completion/complete",
                {
                    "ref": {"type": "ref/resource", "uri": "django-mcp://model/library.Book/{pk}"},
                    "argument": {"name": "pk", "value": "1"},
                },
            ),
        )
    )
    yield (
        Scenario("views", "Routed views: a typed path, the view's own answer, a gate held.", "library.json")
        .say("a JSON view with an int path argument", call(1, "get_library_book_json", {"path": {"pk": 2}}))
        .say(
            "a path the converter would not take never reaches the host",
            call(2, "get_library_book_json", {"path": {"pk": "two"}}),
        )
        .say(
            "bob is not an editor: the view's user_passes_test gate refuses",
            call(3, "invoke_library_drafts", {"method": "GET"}),
            credential="bob",
        )
        .say(
            "a view that takes any method, called with neither a method nor a body: a GET",
            call(4, "invoke_library_stats", {}),
        )
    )
    yield (
        Scenario(
            "drf",
            "DRF: a ViewSet's tools run through DRF's own dispatch; its paginator and filters are arguments.",
            "library.json",
        )
        .say(
            "a page of the list, filtered by django-filter, searched and ordered",
            call(
                1,
                "list_api_book",
                {"filters": {"status": "published"}, "q": "Volume", "ordering": "-pages", "page_size": 2},
            ),
        )
        .say(
            "a filter the filterset does not declare never reaches the host",
            call(2, "list_api_book", {"filters": {"author__email": "ada@example.com"}}),
        )
        .say(
            "create: perform_create fills the slug",
            call(
                3, "create_api_book", {"body": {"title": "Sea Stories", "pages": 120, "price": "9.50", "author_id": 1}}
            ),
        )
        .say(
            "the serializer's own validation, in DRF's words",
            call(4, "create_api_book", {"body": {"title": "Ghost", "pages": 1, "price": "1.00", "author_id": 99999}}),
        )
        .say(
            "a partial update refused by an object permission",
            call(5, "update_api_book", {"path": {"pk": 3}, "body": {"pages": 1}}),
        )
        .say("an @action with a hyphenated url_path", call(6, "api_book_mark_published", {"path": {"pk": 1}}))
        .say(
            "bob may not add books: DjangoModelPermissions refuses before any work",
            call(7, "create_api_book", {"body": {"title": "x", "pages": 1, "price": "1", "author_id": 1}}),
            credential="bob",
        )
        .say(
            "set_tag takes POST and DELETE: without a method or a body the call is a GET, refused naming them",
            call(8, "api_book_set_tag", {"path": {"pk": 1}}),
        )
    )
    yield (
        Scenario(
            "guest-trap",
            "A panicking guest traps; the host starts a fresh instance and serves on.",
            "library-test-hooks.json",
            {"DJANGO_MCP_TEST_HOOKS": True},
        )
        .say("debug/panic exists only with test hooks on", rpc(1, "debug/panic"))
        .say("the next request is served by a fresh instance", rpc(2, "ping"))
    )


#: The clock while recording: what a reply stamps with the time (a user's date_joined, a
#: book's created_at, one created by a call) is the same in every recording.
INSTANT = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


@time_machine.travel(INSTANT, tick=False)
def main():
    call_command("migrate", verbosity=0)
    call_command("demo_seed", verbosity=0)
    credentials = {
        "alice": fixed_key("alice", "transcript-key-alice0000"),
        "bob": fixed_key("bob", "transcript-key-bob000000"),
        "scoped": fixed_key("alice", "transcript-key-scoped000", allowed_tools=["list_library_author"]),
        None: None,
    }
    client = Client()
    for old in HERE.glob("*.transcript"):
        old.unlink()
    for old in (HERE / "facts").glob("*.json"):
        old.unlink()
    # Eager: the facts files keep every admin's forms, and the transcripts their steps.
    server.state.eager_forms = True
    for scenario in scenarios():
        with override_settings(**scenario.settings) if scenario.settings else nullcontext():
            runtime = server.state.get_runtime()
            recorder = Recorder(HERE / f"{scenario.name}.transcript", HERE / "facts", scenario.facts, scenario.title)
            runtime.recorder = recorder
            runtime.reload()
            for comment, body, who, headers in scenario.steps:
                recorder.comment(comment)
                extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
                if credentials[who]:
                    extra["HTTP_AUTHORIZATION"] = f"Bearer {credentials[who]}"
                client.post("/mcp/", body, content_type="application/json", **extra)
            runtime.recorder = None
            recorder.save()
        print(f"recorded {scenario.name}.transcript ({len(scenario.steps)} messages)")


if __name__ == "__main__":
    main()
