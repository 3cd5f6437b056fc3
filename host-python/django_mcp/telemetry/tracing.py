"""OpenTelemetry spans: one SERVER span per MCP message, named and attributed as the
OpenTelemetry semantic conventions for MCP say (`{mcp.method.name} {target}`), with a child
span for each engine step and each effect the host carries out.

Its parent is the trace context the client put in `params._meta` (as the conventions ask),
linked to the ambient one; else the ambient span (an HTTP server span of the project's own
instrumentation); else the W3C `traceparent` / `tracestate` headers of the HTTP request.
Extracted with the propagators the project configured (W3C trace context by default).
"""

import contextlib
import contextvars
import importlib.metadata

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Link, SpanKind, StatusCode

from django_mcp.telemetry import labels

tracer = trace.get_tracer("django_mcp", importlib.metadata.version("django-mcp-framework"))

#: The span of the request being handled, which its audit line completes.
_request_span = contextvars.ContextVar("django_mcp_request_span", default=None)

#: Where a request names its target, by method (the conventions' attribute for each).
TARGETS = {
    "tools/call": "gen_ai.tool.name",
    "prompts/get": "gen_ai.prompt.name",
    "resources/read": "mcp.resource.uri",
    "resources/subscribe": "mcp.resource.uri",
    "resources/unsubscribe": "mcp.resource.uri",
}
#: The targets low in cardinality enough for a span name (a resource URI is not).
NAMED_TARGETS = ("tools/call", "prompts/get")


@contextlib.contextmanager
def request(peeked, transport, facts):
    method = labels.method(peeked.method)
    attributes = {"mcp.method.name": method}
    if peeked.id is not None:
        attributes["jsonrpc.request.id"] = str(peeked.id)
    if method in TARGETS and peeked.target is not None:
        attributes[TARGETS[method]] = peeked.target
    if method == "tools/call":
        attributes["gen_ai.operation.name"] = "execute_tool"
    if transport == "http":
        attributes.update({"network.transport": "tcp", "network.protocol.name": "http"})
        for attribute, fact in (
            ("mcp.session.id", "session_id"),
            ("mcp.protocol.version", "protocol_version"),
            ("client.address", "client_address"),
        ):
            if facts.get(fact):
                attributes[attribute] = facts[fact]
    else:
        attributes["network.transport"] = "pipe"
    parent, links = _parent(peeked.meta, facts.get("carrier"))
    span = tracer.start_span(
        _name(method, peeked.target), context=parent, kind=SpanKind.SERVER, attributes=attributes, links=links
    )
    token = _request_span.set(span)
    try:
        with trace.use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
            try:
                yield span
            except Exception as exc:
                # The host answers every failure it knows; what is left is a bug, named by type.
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(StatusCode.ERROR)
                raise
    finally:
        _request_span.reset(token)


def _parent(meta, carrier):
    """The request span's parent context (None: the current one), and its links."""
    # What the transport brought: the current span (the project's HTTP instrumentation), else
    # the HTTP request's headers.
    transport = None
    if not trace.get_current_span().get_span_context().is_valid and carrier:
        transport = _extract(carrier)
    message = (
        _extract({k: v for k, v in meta.items() if isinstance(v, str)})
        if (isinstance(meta, dict) and "traceparent" in meta)
        else None
    )
    if message is None:
        return transport, []
    linked = trace.get_current_span(transport).get_span_context()
    return message, [Link(linked)] if linked.is_valid else []


def _extract(carrier):
    """The context a carrier holds, or None when it holds no valid span context."""
    try:
        context = propagate.extract(carrier)
    except (ValueError, TypeError):
        return None
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def _name(method, target):
    return f"{method} {target}" if method in NAMED_TARGETS and target else method


def audited(entry):
    """Complete the request's span from its audit line (audit.record)."""
    span = _request_span.get()
    if span is None or not span.is_recording():
        return
    method, target, code = labels.method(entry["method"]), entry["target"], entry["error_code"]
    # A tool or prompt the request did not reach (unknown, say) would make names unbounded.
    span.update_name(_name(method, target if code is None else None))
    attributes = {"django_mcp.outcome": entry["outcome"], "django_mcp.correlation_id": entry["correlation_id"]}
    if entry["user_id"] is not None:
        attributes["enduser.id"] = str(entry["user_id"])
    if entry["key_id"] is not None:
        attributes["django_mcp.key_id"] = entry["key_id"]
    if entry["wire_status"] is not None:
        attributes["http.response.status_code"] = entry["wire_status"]
    error_type = labels.error_type(method, entry["outcome"], code)
    if code is not None:
        attributes["rpc.response.status_code"] = str(code)
    if error_type is not None:
        attributes["error.type"] = error_type
    span.set_attributes(attributes)
    if error_type is not None:
        # The audit line's fixed words, never the client's message (which may quote arguments).
        span.set_status(StatusCode.ERROR, entry["error_message"] or None)


class Child:
    """An INTERNAL span current until it ends: an engine step or an effect."""

    __slots__ = ("span", "token")

    def __init__(self, name, attributes=None):
        self.span = tracer.start_span(name, kind=SpanKind.INTERNAL, attributes=attributes)
        self.token = context.attach(trace.set_span_in_context(self.span))

    def failed(self, error_type, description=None):
        self.span.set_attribute("error.type", error_type)
        self.span.set_status(StatusCode.ERROR, description)

    def end(self):
        context.detach(self.token)
        self.span.end()


def step_span():
    return Child("engine.step") if _recording() else None


def effect_span(kind):
    return Child(f"effect {kind}", {"django_mcp.effect.kind": kind}) if _recording() else None


def _recording():
    """Whether the request's span records: children of one that does not (no SDK, or sampled
    out) would not either under the default parent-based sampling, so none are made."""
    span = _request_span.get()
    return span is not None and span.is_recording()
