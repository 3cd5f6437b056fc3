"""Claims of docs/security.md and README.md that no other test proved, each proved here
through the public surface (the HTTP endpoint, in process) where one exists.

The module is also a URLconf (walked through DJANGO_MCP_URLCONFS) of the views and DRF views
the claims need, and holds an admin site (DJANGO_MCP_ADMIN_SITES) whose save fails in the
database. The audit of every claim is in the closing note of issue 17.
"""

import json
import logging

import pytest
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_protect

from conftest import InProcessMCP, db_dump, rpc_error
from django_mcp import engine, server
from library.models import Tag

LEAKED = "claims-detail-7f3a"  # a message that must never reach a client


# --- the views the claims need (this module is their URLconf) ----------------------------


class MarkingMiddleware:
    """A project middleware: marks every request it sees."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.claims_marked = True
        return self.get_response(request)


@login_required
def middleware_probe(request):
    return JsonResponse({"marked": getattr(request, "claims_marked", False)})


@csrf_protect
@login_required
def csrf_guarded(request):
    return JsonResponse({"method": request.method, "user": request.user.get_username()})


@login_required
def suspicious(request):
    raise SuspiciousOperation(f"forged header {LEAKED}")


@login_required
def bad_request(request):
    raise BadRequest("the shelf number is missing")


try:
    from rest_framework import permissions
    from rest_framework.authentication import BaseAuthentication
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework.response import Response
    from rest_framework.views import APIView
except ImportError:  # DRF is optional
    drf_urls = []
else:

    class WriteThenRefuse(APIView):
        """Writes, then answers 400: the write must not survive."""

        permission_classes = [permissions.IsAuthenticated]

        def post(self, request):
            Tag.objects.create(name="Written then refused", slug="claims-refused")
            return Response({"detail": "refused after writing"}, status=400)

    class RefuseEveryone(BaseAuthentication):
        def authenticate(self, request):
            raise AuthenticationFailed("this authentication class must not run")

    class WhoAmI(APIView):
        authentication_classes = [RefuseEveryone]
        permission_classes = [permissions.IsAuthenticated]

        def get(self, request):
            return Response({"user": request.user.get_username()})

    drf_urls = [
        path("claims/write-then-refuse/", WriteThenRefuse.as_view(), name="claims-write-then-refuse"),
        path("claims/who-am-i/", WhoAmI.as_view(), name="claims-who-am-i"),
    ]

urlpatterns = [
    path("claims/middleware/", middleware_probe, name="claims-middleware"),
    path("claims/csrf/", csrf_guarded, name="claims-csrf"),
    path("claims/suspicious/", suspicious, name="claims-suspicious"),
    path("claims/bad-request/", bad_request, name="claims-bad-request"),
    *drf_urls,
]


# --- an admin site whose save fails in the database ------------------------------------

site = admin.AdminSite(name="claims")


class DuplicatingTagAdmin(admin.ModelAdmin):
    fields = ["name", "slug"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        Tag.objects.create(name=obj.name, slug=obj.slug)  # unique slug: IntegrityError


site.register(Tag, DuplicatingTagAdmin)


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def claims_views(settings):
    settings.DJANGO_MCP_URLCONFS = ["test_security_claims"]
    server.reset()


@pytest.fixture
def audit(caplog):
    caplog.set_level(logging.INFO, logger="django_mcp.audit")
    return lambda: [json.loads(r.getMessage()) for r in caplog.records if r.name == "django_mcp.audit"]


def tool_named(mcp, suffix):
    """The one listed tool whose name ends with `suffix` (names follow the URL names)."""
    [name] = [t["name"] for t in mcp.all_tools() if t["name"].endswith(suffix)]
    return name


def view_answer(mcp, suffix, method="GET", **arguments):
    """A view tool's `{status, headers, body}` and whether it is a tool error; `method` is
    sent when the tool takes one (a view that takes any method is an `invoke_` tool)."""
    name = tool_named(mcp, suffix)
    if "method" in _schema(mcp, name):
        arguments["method"] = method
    result = mcp.call(name, arguments)
    assert "structuredContent" in result, result
    return result["structuredContent"], result["isError"]


# --- security.md, "What runs in the host": views and DRF --------------------------------


def test_views_run_without_the_projects_middleware(mcp, claims_views, settings):
    # security.md:71, README.md:127: views run "without middleware".
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "test_security_claims.MarkingMiddleware"]
    answer, failed = view_answer(mcp, "claims_middleware")
    assert not failed and answer["status"] == 200
    assert answer["body"] == {"marked": False}


def test_views_run_without_csrf_checks(mcp, claims_views):
    # security.md:72, README.md:122: "without CSRF checks" / "no CSRF failure".
    answer, failed = view_answer(mcp, "claims_csrf", "POST")
    assert not failed and answer["status"] == 200
    assert answer["body"] == {"method": "POST", "user": "alice"}


def _schema(mcp, name):
    [tool] = [t for t in mcp.all_tools() if t["name"] == name]
    return tool["inputSchema"].get("properties", {})


def test_a_suspicious_operation_is_just_bad_request(mcp, claims_views):
    # security.md:122-123: "`SuspiciousOperation` is just "Bad Request"".
    answer, failed = view_answer(mcp, "claims_suspicious")
    assert failed is True
    assert (answer["status"], answer["body"]) == (400, "Bad Request")


def test_a_bad_request_message_is_shown_as_django_shows_it(mcp, claims_views):
    # security.md:121-122: BadRequest messages are excepted from "never sent".
    answer, failed = view_answer(mcp, "claims_bad_request")
    assert failed is True
    assert (answer["status"], answer["body"]) == (400, "the shelf number is missing")


def test_a_drf_write_answered_400_is_rolled_back(mcp, claims_views):
    # security.md:76-77, README.md:160-161: rolled back "on an answer of 400 or more".
    pytest.importorskip("rest_framework")
    before = db_dump("library_")
    answer, failed = view_answer(mcp, "claims_write_then_refuse", "POST", body={})
    assert failed is True
    assert answer["status"] == 400
    assert db_dump("library_") == before
    assert not Tag.objects.filter(slug="claims-refused").exists()


def test_drf_authentication_classes_are_not_run(mcp, claims_views):
    # README.md:162-163: "DRF's `authentication_classes` are not run: the MCP credential decides".
    pytest.importorskip("rest_framework")
    answer, failed = view_answer(mcp, "claims_who_am_i")
    assert not failed and answer["body"] == {"user": "alice"}


# --- security.md:124, README.md: a database integrity error is a generic `conflict` ------


def test_an_integrity_error_is_a_generic_conflict_and_rolls_back(mcp, settings):
    settings.DJANGO_MCP_ADMIN_SITES = ["test_security_claims.site"]
    server.reset()
    before = db_dump("library_", "django_admin_log")
    result = mcp.call(tool_named(mcp, "create_library_tag"), {"name": "Claims", "slug": "claims-unique"})
    assert result["isError"] is True, result
    text = result["content"][0]["text"]
    assert "integrity constraint failed" in text
    for leak in ("UNIQUE", "library_tag", "IntegrityError", "INSERT"):
        assert leak not in text
    assert db_dump("library_", "django_admin_log") == before


# --- security.md:100: `secret_hash` is always redacted from MCP results ------------------
# The key model is never served at all (facts/admin.py PRIVATE_APPS): not as admin tools
# (test_admin_tools.py::test_the_superuser_sees_every_verb_and_action_of_every_admin lists
# the exact set), and not when a setting names it, as proved here.


def test_the_key_model_is_never_served_even_when_a_setting_names_it(mcp, settings, alice_key, caplog):
    from django_mcp.models import MCPAPIKey

    settings.DJANGO_MCP_MODEL_SEARCH = [
        {"model": "django_mcp.MCPAPIKey", "search_fields": ["name"], "fields": ["key_id", "name", "secret_hash"]},
    ]
    settings.DJANGO_MCP_RESOURCE_MODELS = ["django_mcp.MCPAPIKey"]
    server.reset()
    key = MCPAPIKey.objects.get(key_id=alice_key.split(".")[0])
    with caplog.at_level(logging.WARNING, logger="django_mcp.facts"):
        tools = [t["name"] for t in mcp.all_tools()]
    assert not [name for name in tools if "mcpapikey" in name.lower()]
    assert sum("never through MCP" in r.getMessage() for r in caplog.records) == 2
    templates = mcp.rpc("resources/templates/list")["result"]["resourceTemplates"]
    assert not [t for t in templates if "MCPAPIKey" in t["uriTemplate"]]
    uri = f"django-mcp://model/django_mcp.MCPAPIKey/{key.pk}"
    response = mcp.post({"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": uri}})
    assert response.json()["error"]["code"] == -32602
    assert key.secret_hash.split("$", 1)[1].encode() not in response.content


# --- security.md:94-95: a secret over 128 characters never reaches the hasher ------------


@pytest.mark.parametrize("length, hashed", [(128, True), (129, False), (4000, False)])
def test_a_secret_over_128_characters_never_reaches_the_hasher(client, alice_key, monkeypatch, length, hashed):
    from django_mcp import models

    calls = []
    original = models.hash_secret
    monkeypatch.setattr(models, "hash_secret", lambda secret: calls.append(len(secret)) or original(secret))
    monkeypatch.setattr(models, "check_password", lambda *a: calls.append("slow") or False)
    credential = alice_key.split(".")[0] + "." + "a" * length
    response = InProcessMCP(client, credential).post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    rpc_error(response, status=401, code=-32001)
    assert response["WWW-Authenticate"].startswith("Bearer ")
    assert calls == ([length] if hashed else [])


# --- security.md:103-104: the session id is not a credential -----------------------------


def test_a_session_id_is_no_credential_and_every_request_is_authenticated_again(mcp, mcp_as, bob_key):
    initialized = mcp.post(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "claims", "version": "1"},
            },
        }
    )
    session = initialized["Mcp-Session-Id"]
    assert session
    # Alice's session without a credential: refused.
    anonymous = mcp_as(None).post(
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers={"Mcp-Session-Id": session}
    )
    rpc_error(anonymous, status=401, code=-32001)
    # Alice's session with Bob's key: Bob's tools, not Alice's.
    as_bob = mcp_as(bob_key).post(
        {"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, headers={"Mcp-Session-Id": session}
    )
    names = {t["name"] for t in as_bob.json()["result"]["tools"]}
    assert "list_library_author" in names and "list_library_book" not in names


# --- security.md:133 and :111-112: the order of the HTTP checks, each audited ------------


def test_the_http_checks_come_in_their_documented_order_and_each_is_audited(client, library, audit):
    huge = 4 * 1024 * 1024 + 1
    forged_session = "not-signed"
    cases = [
        # (method, body, headers/content type, expected status, audited reason)
        (
            "GET",
            "x" * huge,
            {"HTTP_ORIGIN": "https://evil.example", "content_type": "text/plain"},
            405,
            "method not allowed",
        ),
        (
            "POST",
            "x" * huge,
            {"HTTP_ORIGIN": "https://evil.example", "content_type": "text/plain"},
            403,
            "foreign origin",
        ),
        ("POST", "x" * huge, {"content_type": "text/plain"}, 413, "body too large"),
        ("POST", b"\xff\xfe", {"content_type": "text/plain", "HTTP_MCP_SESSION_ID": forged_session}, 415, "media type"),
        (
            "POST",
            b"\xff\xfe",
            {"HTTP_MCP_SESSION_ID": forged_session, "HTTP_AUTHORIZATION": "Bearer nope"},
            400,
            "invalid utf-8",
        ),
        (
            "POST",
            "{}",
            {"HTTP_MCP_SESSION_ID": forged_session, "HTTP_AUTHORIZATION": "Bearer nope"},
            404,
            "unknown session",
        ),
        ("POST", "{}", {"HTTP_AUTHORIZATION": "Bearer nope"}, 401, "credential malformed"),
    ]
    for method, body, extra, status, reason in cases:
        extra = dict(extra)
        content_type = extra.pop("content_type", "application/json")
        response = client.generic(method, "/mcp/", body, content_type=content_type, **extra)
        assert response.status_code == status, (reason, response.status_code, response.content)
        line = audit()[-1]
        assert (line["method"], line["wire_status"], line["error_message"]) == ("<pre-dispatch>", status, reason)


# --- security.md:113: the audit line never holds the arguments or the results ------------


def test_the_audit_line_holds_neither_arguments_nor_results(mcp, audit):
    needle = "zebra-needle-4417"
    result = mcp.call("list_library_book", {"q": needle})
    assert result["isError"] is False
    title = Tag.objects.first().name  # a value a result carries
    tags = mcp.call("list_library_tag", {})
    assert tags["isError"] is False and title in json.dumps(tags)
    for line in audit():
        text = json.dumps(line)
        assert needle not in text and title not in text, line


# --- security.md:34-36 and :119-120: a trap drops the instance, is logged, the client
#     gets -32603 with the correlation id -------------------------------------------------


def test_a_trapped_instance_is_dropped_and_a_fresh_one_serves_the_next_step(mcp, settings, monkeypatch, caplog):
    settings.DJANGO_MCP_TEST_HOOKS = True
    server.reset()
    assert mcp.rpc("ping")["result"] == {}  # the pool holds an instance of this catalogue
    built = []
    original = engine.EngineInstance.__init__

    def counted(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(engine.EngineInstance, "__init__", counted)
    assert mcp.rpc("ping")["result"] == {}
    assert built == []  # reused while it is sound
    with caplog.at_level(logging.ERROR, logger="django_mcp.server"):
        reply = mcp.rpc("debug/panic")
    assert reply["error"]["code"] == -32603 and reply["error"]["message"] == "Internal error"
    correlation_id = reply["error"]["data"]["correlation_id"]
    assert any(r.name == "django_mcp.server" and correlation_id in r.getMessage() for r in caplog.records)
    assert mcp.rpc("ping")["result"] == {}
    assert built == [1]  # the one that trapped was not given back


# --- security.md:29: a request may take at most 8 effect rounds --------------------------


def scripted_engine(monkeypatch, rounds):
    """Every step of the engine scripted: effect rounds (an empty `authorize`, which the host
    answers true) until `rounds` have been asked for, then a done reply. Returns the inputs
    the steps were given."""
    steps = []

    def step(self, message):
        steps.append(message)
        if len(steps) > rounds:
            return {
                "done": {
                    "reply": b'{"jsonrpc":"2.0","id":1,"result":{}}',
                    "http_status": 200,
                    "audit": {"method": "ping", "target": None, "outcome": "allow"},
                }
            }
        return {"effects": [{"kind": "authorize", "checks": []}], "state": "scripted"}

    monkeypatch.setattr(engine.EngineRuntime, "_step", step)
    return steps


def test_a_request_that_never_ends_is_stopped_after_max_rounds(mcp, monkeypatch):
    steps = scripted_engine(monkeypatch, rounds=10**9)
    reply = mcp.rpc("ping")
    assert reply["error"]["code"] == -32603 and set(reply["error"]["data"]) == {"correlation_id"}
    assert engine.MAX_ROUNDS == 8
    assert len(steps) == 1 + engine.MAX_ROUNDS  # the request, then one step per round


def test_a_request_of_fewer_rounds_finishes(mcp, monkeypatch):
    steps = scripted_engine(monkeypatch, rounds=engine.MAX_ROUNDS - 1)
    assert mcp.rpc("ping") == {"jsonrpc": "2.0", "id": 1, "result": {}}
    assert len(steps) == engine.MAX_ROUNDS


def test_a_request_of_exactly_max_rounds_finishes(mcp, monkeypatch):
    scripted_engine(monkeypatch, rounds=engine.MAX_ROUNDS)
    assert mcp.rpc("ping") == {"jsonrpc": "2.0", "id": 1, "result": {}}


# --- security.md:37-38: the continuation state never leaves the process ------------------


def test_the_continuation_state_never_reaches_the_client(mcp, monkeypatch):
    states = []
    original = engine.EngineInstance.step_json

    def spied(self, message):
        output = original(self, message)
        if "state" in output:
            states.append(output["state"])
        return output

    monkeypatch.setattr(engine.EngineInstance, "step_json", spied)
    response = mcp.post(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get_library_book", "arguments": {"pk": 1}},
        }
    )
    assert response.json()["result"]["isError"] is False
    assert states  # the call did wait on the host
    body = response.content.decode()
    for state in states:
        assert state not in body and json.dumps(state) not in body
        assert not any(name.lower().startswith("mcp-") and state in value for name, value in response.items())


# --- README.md:74-75: "arguments are judged only for callers who may use the tool" -------


def test_arguments_are_judged_only_for_callers_who_may_use_the_tool(mcp_as, bob_key, alice_key):
    bad = {"page_size": "many", "ordering": "secret_hash", "nope": 1}
    as_bob = mcp_as(bob_key).rpc("tools/call", {"name": "list_library_book", "arguments": bad})
    assert as_bob["error"]["code"] == -32002 and "result" not in as_bob
    assert "page_size" not in json.dumps(as_bob) and "nope" not in json.dumps(as_bob)
    as_alice = mcp_as(alice_key).call("list_library_book", bad)
    assert as_alice["isError"] is True and "Invalid arguments" in as_alice["content"][0]["text"]
