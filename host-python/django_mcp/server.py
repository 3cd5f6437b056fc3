"""One MCP message in, one outcome out — shared by the HTTP and STDIO transports.

The transport authenticates and does I/O; this module applies the credential's rate limit,
steps the engine, carries out its effects for the caller, and writes the audit line.
"""

import dataclasses
import json
import logging
import threading
import time

from django_mcp import audit, conf, correlation, facts, oauth, rate_limits, telemetry
from django_mcp.effects import EffectRunner
from django_mcp.engine import EngineRuntime, EngineTrap, FactsRejected, default_cache_dir
from django_mcp.requests import CallerContext

logger = logging.getLogger("django_mcp.server")

#: The requests the engine answers without a principal (protocol/mod.rs, `inbound`). Any
#: other request without a credential is refused here as the engine would refuse it, so a
#: caller who has none costs no engine step (the one instance is shared by every request).
OPEN_METHODS = frozenset({"initialize", "ping", "server/discover", "logging/setLevel"})
UNAUTHENTICATED = -32001
UNAUTHENTICATED_MESSAGE = "unauthenticated: send Authorization: Bearer <key>"


@dataclasses.dataclass
class Outcome:
    #: The JSON-RPC response as JSON text; None for notifications and client responses.
    reply: str | None
    http_status: int
    correlation_id: str
    #: Extra HTTP response headers (`Retry-After` on 429).
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Notifications (JSON text) sent while the request was handled, in order, ahead of `reply`.
    notifications: list[str] = dataclasses.field(default_factory=list)
    #: The JSON-RPC method answered (as audited).
    method: str | None = None


class _State:
    """The process's runtime and the admin registry matching its current facts."""

    def __init__(self):
        self.lock = threading.Lock()
        self.runtime = None
        self.registry = None

    def get_runtime(self) -> EngineRuntime:
        with self.lock:
            if self.runtime is None:
                self.runtime = EngineRuntime(
                    self._gather,
                    wasm_path=conf.get("DJANGO_MCP_ENGINE_WASM"),
                    cache_dir=conf.get("DJANGO_MCP_ENGINE_CACHE_DIR") or default_cache_dir(),
                    observer=telemetry.ENGINE,
                )
            return self.runtime

    def _gather(self):
        facts_json, self.registry = facts.gather()
        return facts_json


state = _State()


def reset():
    """Derive the catalogue again on the next request (settings changed; test isolation)."""
    with state.lock:
        runtime = state.runtime
    if runtime is not None:
        runtime.reload()


def internal_error_reply(correlation_id, message_id=None):
    return _error_reply(message_id, -32603, "Internal error", {"correlation_id": correlation_id})


def _error_reply(message_id, code, message, data=None):
    error = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return json.dumps({"jsonrpc": "2.0", "id": message_id, "error": error})


def handle(
    message_text, *, identity=None, transport="http", host="localhost", scheme="https", headers=None, trace=None
) -> Outcome:
    """Handle one inbound message for `identity` (None: unauthenticated). Every log record
    emitted meanwhile carries the request's correlation id (the transport's, when it opened one).
    `trace`: what the transport tells the request's span (telemetry.http_facts)."""
    with correlation.current_or_new() as correlation_id, telemetry.request(message_text, _peek, transport, trace):
        return _handle(message_text, identity, correlation_id, transport, host, scheme, headers)


def _handle(message_text, identity, correlation_id, transport, host, scheme, mcp_headers):
    started = time.perf_counter()
    user = identity.user if identity is not None else None
    context = {
        "transport": transport,
        "principal": identity.principal() if identity is not None else None,
        "headers": mcp_headers or {},
    }
    caller = CallerContext(
        user,
        host=host,
        scheme=scheme,
        correlation_id=correlation_id,
        client=identity.client if identity is not None else None,
        subject=identity.subject if identity is not None else None,
    )
    headers, notifications = {}, []
    # Checked before the engine runs: an over-limit or anonymous client costs no engine step.
    retry_after = rate_limits.for_credential(identity.subject) if identity is not None else None
    peeked = _peek(message_text) if identity is None else None
    if retry_after is not None:
        reply, status, report = _rate_limited(_peek(message_text), retry_after)
        headers["Retry-After"] = str(retry_after)
    elif peeked is not None and peeked.needs_credential:
        reply, status, report = _refusal(
            peeked, UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE, "unauthenticated", 401, reason="unauthenticated"
        )
    else:
        try:
            runtime = state.get_runtime()
            done = runtime.run(message_text, context, EffectRunner(caller, _registry(runtime), notifications.append))
            reply, status, report = done["reply"], done["http_status"], done["audit"]
            headers.update(done.get("headers") or {})
            step_up = oauth.step_up(identity, reply, scheme, host) if identity is not None else None
            if step_up is not None:
                status, headers["WWW-Authenticate"] = 403, step_up
        except (EngineTrap, FactsRejected) as exc:
            logger.error("engine failure [correlation_id=%s]: %s", correlation_id, exc)
            peeked = _peek(message_text)
            reply, status = internal_error_reply(correlation_id, peeked.id), 200
            report = {
                "method": peeked.method,
                "target": peeked.target,
                "outcome": "handler_error",
                "error_code": -32603,
                "error_message": "engine failure",
            }
    _audit(correlation_id, transport, identity, started, status, report)
    return Outcome(reply, status, correlation_id, headers, notifications, report.get("method"))


def refuse(message_text, *, identity, transport, code, message, reason, outcome, http_status=200) -> Outcome:
    """Answer a message with a JSON-RPC error without the engine (a transport's refusal that
    names the request: its id in the reply, its method and target in the audit line, with
    `reason` as its error_message: see audit.record)."""
    with correlation.current_or_new() as correlation_id, telemetry.request(message_text, _peek, transport):
        started = time.perf_counter()
        reply, status, report = _refusal(_peek(message_text), code, message, outcome, http_status, reason=reason)
        _audit(correlation_id, transport, identity, started, status, report)
        return Outcome(reply, status, correlation_id, method=report["method"])


def _audit(correlation_id, transport, identity, started, status, report):
    audit.record(
        correlation_id=correlation_id,
        transport="streamable-http" if transport == "http" else "stdio",
        key_id=identity.key_id if identity is not None else None,
        user_id=identity.user.pk if identity is not None else None,
        oauth_client=identity.oauth_client if identity is not None else None,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        wire_status=status if transport == "http" else None,
        **report,
    )


def _rate_limited(peeked, retry_after):
    message = rate_limits.message(retry_after)
    reply = _error_reply(peeked.id, rate_limits.CODE, message, {"retryAfter": retry_after})
    # The engine's word for its own rate-limited answers (protocol/mod.rs, Failure).
    report = {
        "method": peeked.method,
        "target": peeked.target,
        "outcome": "rate_limited",
        "error_code": rate_limits.CODE,
        "error_message": "rate_limited",
    }
    return reply, 429, report


def _refusal(peeked, code, message, outcome, http_status, *, reason):
    """`message` for the client, `reason` for the audit line."""
    report = {
        "method": peeked.method,
        "target": peeked.target,
        "outcome": outcome,
        "error_code": code,
        "error_message": reason,
    }
    return _error_reply(peeked.id, code, message), http_status, report


@dataclasses.dataclass(frozen=True)
class _Peeked:
    """What the host reads of a message the engine does not answer: its id (for the reply),
    its method and target (for the audit line, as the engine names them)."""

    id: str | int | None = None
    method: str = "<unknown>"
    target: str | None = None
    #: A well-formed request for a method the engine answers only for a principal.
    needs_credential: bool = False
    #: Its `params._meta`, where a client may send its trace context (telemetry).
    meta: dict | None = None


def _peek(message_text):
    try:
        message = json.loads(message_text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python's stack
        return _Peeked()
    if not isinstance(message, dict) or not isinstance(message.get("method"), str):
        return _Peeked()
    message_id, method, params = message.get("id"), message["method"], message.get("params")
    valid_id = message_id if isinstance(message_id, (str, int)) and not isinstance(message_id, bool) else None
    target = meta = None
    if isinstance(params, dict):
        named = params["name"] if "name" in params else params.get("uri")
        target = named if isinstance(named, str) else None
        meta = params["_meta"] if isinstance(params.get("_meta"), dict) else None
    # Notifications, responses and malformed messages go on: the engine answers them alike.
    return _Peeked(
        valid_id, method, target, needs_credential=valid_id is not None and method not in OPEN_METHODS, meta=meta
    )


def _registry(runtime):
    runtime.facts_json()  # gathers facts (and so the registry) when needed
    return state.registry
