"""OpenTelemetry: real requests through the HTTP endpoint (and STDIO) recorded by the SDK's
in-memory exporter: the span tree, its names and attributes after the semantic conventions
for MCP, the parent an incoming `traceparent` names, and errors."""

import io
import json
import logging

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from servers import DEMO, demo_probe
from django_mcp.models import MCPAPIKey
from django_mcp.transport import stdio

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"


class _Collecting(SimpleSpanProcessor):
    """Exports only while a test here collects: the provider is the process's (it can be set
    once), and the rest of the suite should not fill the exporter."""

    on = False

    def on_end(self, span):
        if self.on:
            super().on_end(span)


_exporter = InMemorySpanExporter()
_processor = _Collecting(_exporter)


@pytest.fixture
def spans(settings):
    """The spans finished during the test, oldest first (telemetry on, as a project with an
    SDK configured would have it)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(_processor)
        trace.set_tracer_provider(provider)
    settings.DJANGO_MCP_TELEMETRY = {"opentelemetry": True}
    _exporter.clear()
    _processor.on = True
    yield _exporter.get_finished_spans
    _processor.on = False
    _exporter.clear()


@pytest.fixture
def audit(caplog):
    caplog.set_level(logging.INFO, logger="django_mcp.audit")
    return lambda: [json.loads(r.getMessage()) for r in caplog.records if r.name == "django_mcp.audit"]


def _request_span(spans):
    [root] = [s for s in spans() if s.kind is SpanKind.SERVER]
    return root


def _children(spans, parent):
    return [s for s in spans() if s.parent is not None and s.parent.span_id == parent.context.span_id]


def test_a_tool_call_is_a_server_span_with_a_child_per_step_and_effect(mcp, spans, audit, alice_key):
    result = mcp.call("list_library_author", {"page_size": 2})
    assert result["isError"] is False
    root = _request_span(spans)
    assert root.name == "tools/call list_library_author"
    [line] = audit()
    from django.contrib.auth.models import User

    assert dict(root.attributes) == {
        "mcp.method.name": "tools/call",
        "jsonrpc.request.id": "1",
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "list_library_author",
        "network.transport": "tcp",
        "network.protocol.name": "http",
        "client.address": "127.0.0.1",
        "django_mcp.outcome": "allow",
        "django_mcp.correlation_id": line["correlation_id"],
        "django_mcp.key_id": alice_key.split(".")[0],
        "enduser.id": str(User.objects.get(username="alice").pk),
        "http.response.status_code": 200,
    }
    assert root.status.status_code is StatusCode.UNSET
    children = sorted(_children(spans, root), key=lambda s: s.start_time)
    names = [s.name for s in children]
    # The engine asks for a batch of effects, the host carries them out, the engine resumes.
    assert names == ["engine.step", "effect authorize", "effect admin.list", "engine.step"]
    assert all(s.kind is SpanKind.INTERNAL and s.context.trace_id == root.context.trace_id for s in children)
    effect = next(s for s in children if s.name == "effect admin.list")
    assert effect.attributes["django_mcp.effect.kind"] == "admin.list"
    # Children nest inside the request in time, one after another.
    assert root.start_time <= children[0].start_time and children[-1].end_time <= root.end_time
    assert all(a.end_time <= b.start_time for a, b in zip(children, children[1:]))


def test_the_traceparent_header_of_the_http_request_is_the_parent(mcp, spans):
    mcp.rpc("tools/list", headers={"traceparent": TRACEPARENT, "tracestate": "rojo=00f067aa0ba902b7"})
    root = _request_span(spans)
    assert format(root.context.trace_id, "032x") == TRACE_ID
    assert format(root.parent.span_id, "016x") == PARENT_ID
    assert root.parent.is_remote
    assert root.context.trace_state.get("rojo") == "00f067aa0ba902b7"
    assert root.name == "tools/list"
    assert all(s.context.trace_id == root.context.trace_id for s in spans())


def test_a_trace_context_in_params_meta_is_the_parent_and_the_header_is_linked(mcp, spans):
    meta_parent = "0af7651916cd43dd8448eb211c80319c"
    mcp.post(
        {
            "jsonrpc": "2.0",
            "id": 5,
            "method": "tools/call",
            "params": {
                "name": "list_library_tag",
                "arguments": {},
                "_meta": {"traceparent": f"00-{meta_parent}-b7ad6b7169203331-01"},
            },
        },
        headers={"traceparent": TRACEPARENT},
    )
    root = _request_span(spans)
    assert format(root.context.trace_id, "032x") == meta_parent
    assert format(root.parent.span_id, "016x") == "b7ad6b7169203331"
    [link] = root.links
    assert (format(link.context.trace_id, "032x"), format(link.context.span_id, "016x")) == (TRACE_ID, PARENT_ID)


def test_the_session_and_protocol_version_a_client_sends_are_attributes(mcp, spans):
    response = mcp.post(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        }
    )
    session = response["Mcp-Session-Id"]
    mcp.rpc("tools/list", headers={"Mcp-Session-Id": session, "MCP-Protocol-Version": "2025-11-25"})
    initialize, listing = sorted((s for s in spans() if s.kind is SpanKind.SERVER), key=lambda s: s.start_time)
    assert initialize.name == "initialize" and "mcp.session.id" not in initialize.attributes
    assert listing.attributes["mcp.session.id"] == session
    assert listing.attributes["mcp.protocol.version"] == "2025-11-25"


def test_a_malformed_traceparent_starts_a_new_trace(mcp, spans):
    mcp.rpc("ping", headers={"traceparent": "00-not-a-trace-01"})
    root = _request_span(spans)
    assert root.parent is None
    assert root.name == "ping"


def test_a_tool_whose_result_is_an_error_sets_error_status(mcp, spans, audit):
    result = mcp.call("get_library_book", {"pk": 99999})
    assert result["isError"] is True
    root = _request_span(spans)
    assert root.name == "tools/call get_library_book"
    assert root.status.status_code is StatusCode.ERROR
    assert root.attributes["error.type"] == "tool_error"
    assert root.attributes["django_mcp.outcome"] == "handler_error"
    # The audit line's fixed words, not the client's message (which may quote arguments).
    assert root.status.description == audit()[0]["error_message"] == "not_found"
    assert "rpc.response.status_code" not in root.attributes
    effect = next(s for s in _children(spans, root) if s.name.startswith("effect admin.retrieve"))
    assert effect.status.status_code is StatusCode.ERROR
    assert effect.attributes["error.type"] == "not_found"


def test_an_unknown_tool_is_a_json_rpc_error_and_its_name_stays_out_of_the_span_name(mcp, spans):
    reply = mcp.rpc("tools/call", {"name": "no_such_tool_" + "x" * 40, "arguments": {}})
    assert reply["error"]["code"] == -32602
    root = _request_span(spans)
    assert root.name == "tools/call"
    assert root.attributes["gen_ai.tool.name"].startswith("no_such_tool_")
    assert (root.attributes["error.type"], root.attributes["rpc.response.status_code"]) == ("-32602", "-32602")
    assert root.status.status_code is StatusCode.ERROR


def test_a_made_up_method_is_named_other(mcp, spans):
    assert mcp.rpc("made/up")["error"]["code"] == -32601
    root = _request_span(spans)
    assert root.name == root.attributes["mcp.method.name"] == "_OTHER"


def test_a_denied_call_says_who_was_denied(mcp_as, bob_key, spans):
    from django.contrib.auth.models import User

    reply = mcp_as(bob_key).rpc("tools/call", {"name": "delete_library_author", "arguments": {"pk": 1}})
    assert "error" in reply or reply["result"]["isError"] is True
    root = _request_span(spans)
    assert root.attributes["enduser.id"] == str(User.objects.get(username="bob").pk)
    assert root.status.status_code is StatusCode.ERROR


def test_an_engine_trap_fails_its_step_span_and_the_request(mcp, spans, settings):
    settings.DJANGO_MCP_TEST_HOOKS = True
    assert mcp.rpc("debug/panic")["error"]["code"] == -32603
    root = _request_span(spans)
    [step] = [s for s in _children(spans, root) if s.name == "engine.step"]
    assert step.status.status_code is StatusCode.ERROR
    assert step.attributes["error.type"] == "engine_trap"
    assert root.attributes["error.type"] == "-32603"
    assert root.attributes["django_mcp.outcome"] == "handler_error"


def test_a_rate_limited_request_is_an_error_span(mcp, spans, settings):
    from django.core.cache import caches

    caches["default"].clear()
    settings.DJANGO_MCP_RATE_LIMITS = {"key": "1/h"}
    mcp.rpc("ping")
    assert mcp.post({"jsonrpc": "2.0", "id": 9, "method": "ping"}).status_code == 429
    root = sorted((s for s in spans() if s.kind is SpanKind.SERVER), key=lambda s: s.start_time)[-1]
    assert root.attributes["django_mcp.outcome"] == "rate_limited"
    assert root.attributes["error.type"] == "-32005"
    assert root.attributes["http.response.status_code"] == 429
    assert _children(spans, root) == []  # refused before the engine ran


def test_stdio_requests_are_spans_over_a_pipe(alice_key, spans):
    key = MCPAPIKey.objects.get(key_id=alice_key.split(".")[0])
    message = {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "list_library_tag", "arguments": {}},
    }
    stdio.serve(key, stdin=io.StringIO(json.dumps(message) + "\n"), stdout=io.StringIO())
    root = _request_span(spans)
    assert root.name == "tools/call list_library_tag"
    assert root.attributes["network.transport"] == "pipe"
    assert "http.response.status_code" not in root.attributes
    assert _children(spans, root)


def test_the_official_sdks_client_span_is_the_served_requests_parent(live_demo, spans, tmp_path):
    """The `mcp` SDK puts its client span's context in `params._meta`; a server of its own
    (uvicorn, an SDK writing its spans to a file: telemetry_settings.py) parents its request
    span there, across the two processes."""
    import anyio
    import httpx2
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client

    from servers import serve_uvicorn

    spans_file = tmp_path / "spans.jsonl"
    env = {
        **live_demo["env"],
        "DJANGO_SETTINGS_MODULE": "fixtures.telemetry_settings",
        "TELEMETRY_SPANS_FILE": str(spans_file),
    }

    async def call(url):
        headers = {"Authorization": f"Bearer {live_demo['keys']['alice']}"}
        transport = streamable_http_client(url, http_client=httpx2.AsyncClient(headers=headers, timeout=30))
        async with Client(transport, mode="legacy") as client:
            result = await client.call_tool("list_library_tag", {})
            assert result.is_error is False

    with serve_uvicorn("demo_project.asgi:application", DEMO, env, tmp_path / "server.log") as url:
        anyio.run(call, url)
    [sent] = [s for s in spans() if s.name == "MCP send tools/call list_library_tag"]
    served = [json.loads(line) for line in spans_file.read_text().splitlines()]
    [request] = [s for s in served if s["kind"] == "SpanKind.SERVER" and s["name"] == "tools/call list_library_tag"]
    assert request["context"]["trace_id"] == f"0x{sent.context.trace_id:032x}"
    assert request["parent_id"] == f"0x{sent.context.span_id:016x}"
    children = [s["name"] for s in served if s["parent_id"] == request["context"]["span_id"]]
    assert children.count("engine.step") == 2 and "effect admin.list" in children


def test_switched_off_nothing_is_recorded(mcp, spans, settings):
    settings.DJANGO_MCP_TELEMETRY = {"opentelemetry": False}
    mcp.call("list_library_tag")
    assert spans() == ()


def test_off_nothing_is_imported_and_on_without_the_package_the_check_says_what_to_install(tmp_path):
    """In a fresh process: telemetry off imports neither package while serving; switched on
    where a package is missing, `manage.py check` names the extra to install."""
    report = demo_probe(
        tmp_path,
        "import json, sys\n"
        "import django\n"
        "from django.conf import settings\n"
        "django.setup()\n"
        "from django.test import Client, override_settings\n"
        "with override_settings(DJANGO_MCP_TELEMETRY={'opentelemetry': False, 'prometheus': False}, ALLOWED_HOSTS=['*']):\n"  # noqa: E501
        "    r = Client().post('/mcp/', {'jsonrpc': '2.0', 'id': 1, 'method': 'ping'}, content_type='application/json')\n"  # noqa: E501
        "    assert r.status_code == 200, r.content\n"
        "    imported = sorted({m.split('.')[0] for m in sys.modules if m.startswith(('opentelemetry', 'prometheus_client'))})\n"  # noqa: E501
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'prometheus_client':\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from django.core import checks\n"
        "with override_settings(DJANGO_MCP_TELEMETRY={'prometheus': True}):\n"
        "    errors = [e.id + ': ' + e.msg for e in checks.run_checks() if e.id.startswith('django_mcp')]\n"
        "with override_settings(DJANGO_MCP_TELEMETRY={'prometheus': None}):\n"
        "    quiet = [e.id for e in checks.run_checks() if e.id.startswith('django_mcp')]\n"
        "print(json.dumps({'imported': imported, 'errors': errors, 'quiet': quiet}))\n",
    )
    assert report["imported"] == []
    assert report["errors"] == [
        "django_mcp.E027: DJANGO_MCP_TELEMETRY['prometheus'] is on but prometheus_client is not installed: "
        "pip install 'django-mcp-framework[prometheus]'"
    ]
    assert report["quiet"] == []


def test_a_project_that_does_not_use_either_package_never_imports_it(tmp_path):
    """In a fresh process of a project without telemetry settings (both packages installed, as
    here): serving and the system checks import neither; a part is on by default only where
    the project itself imported its package."""
    report = demo_probe(
        tmp_path,
        "import json, sys\n"
        "import django\n"
        "django.setup()\n"
        "from django.core import checks\n"
        "from django.test import Client, override_settings\n"
        "assert not [e for e in checks.run_checks() if e.id.startswith('django_mcp')]\n"
        "with override_settings(ALLOWED_HOSTS=['*']):\n"
        "    for method in ('initialize', 'ping'):\n"
        "        r = Client().post('/mcp/', {'jsonrpc': '2.0', 'id': 1, 'method': method, 'params': {}}, content_type='application/json')\n"  # noqa: E501
        "        assert r.status_code == 200, r.content\n"
        "imported = sorted({m.split('.')[0] for m in sys.modules if m.startswith(('opentelemetry', 'prometheus_client'))})\n"  # noqa: E501
        "from django_mcp import telemetry\n"
        "import prometheus_client\n"
        "print(json.dumps({'imported': imported, 'prometheus': telemetry.wanted('prometheus')}))\n",
    )
    assert report == {"imported": [], "prometheus": True}


def test_a_malformed_setting_is_a_check_error_and_serves_with_the_default(mcp, settings):
    from django.core import checks

    settings.DJANGO_MCP_TELEMETRY = ["opentelemetry"]
    assert mcp.call("list_library_tag")["isError"] is False
    assert [e.id for e in checks.run_checks() if e.id == "django_mcp.E027"] == ["django_mcp.E027"]
    settings.DJANGO_MCP_METRICS_TOKEN = ""
    settings.DJANGO_MCP_TELEMETRY = {}
    assert [e.id for e in checks.run_checks() if e.id == "django_mcp.E027"] == ["django_mcp.E027"]
