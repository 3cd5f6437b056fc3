"""One MCP message in, one outcome out — shared by the HTTP and STDIO transports.

The transport authenticates and does I/O; this module applies the credential's rate limit,
steps the engine, carries out its effects for the caller, and writes the audit line.
"""

import dataclasses
import json
import logging
import threading
import time

from django_mcp import audit, conf, correlation, facts, rate_limits
from django_mcp.effects import EffectRunner
from django_mcp.engine import EngineRuntime, EngineTrap, FactsRejected, default_cache_dir
from django_mcp.requests import CallerContext

logger = logging.getLogger("django_mcp.server")


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


def _error_reply(message_id, code, message, data):
    return json.dumps({"jsonrpc": "2.0", "id": message_id, "error": {"code": code, "message": message, "data": data}})


def handle(message_text, *, identity=None, transport="http", host="localhost", scheme="https",
           headers=None) -> Outcome:
    """Handle one inbound message for `identity` (None: unauthenticated). Every log record
    emitted meanwhile carries the request's correlation id."""
    with correlation.new_request() as correlation_id:
        return _handle(message_text, identity, correlation_id, transport, host, scheme, headers)


def _handle(message_text, identity, correlation_id, transport, host, scheme, mcp_headers):
    started = time.perf_counter()
    user = identity.user if identity is not None else None
    payload = {
        "message": message_text,
        "context": {"transport": transport, "principal": identity.principal() if identity is not None else None,
                    "headers": mcp_headers or {}},
    }
    caller = CallerContext(user, host=host, scheme=scheme, correlation_id=correlation_id,
                           client=identity.client if identity is not None else None,
                           subject=identity.subject if identity is not None else None)
    headers, notifications = {}, []
    # Checked before the engine runs: an over-limit client costs no engine step.
    retry_after = rate_limits.for_credential(identity.subject) if identity is not None else None
    if retry_after is not None:
        reply, status, report = _rate_limited(message_text, retry_after)
        headers["Retry-After"] = str(retry_after)
    else:
        try:
            runtime = state.get_runtime()
            done = runtime.run(payload, EffectRunner(caller, _registry(runtime), notifications.append))
            reply, status, report = done["reply"], done["http_status"], done["audit"]
            headers.update(done.get("headers") or {})
        except (EngineTrap, FactsRejected) as exc:
            logger.error("engine failure [correlation_id=%s]: %s", correlation_id, exc)
            message_id, method, target = _peek(message_text)
            reply, status = internal_error_reply(correlation_id, message_id), 200
            report = {"method": method, "target": target, "outcome": "handler_error",
                      "error_code": -32603, "error_message": "engine failure"}
    audit.record(
        correlation_id=correlation_id,
        transport="streamable-http" if transport == "http" else "stdio",
        key_id=identity.key_id if identity is not None else None,
        user_id=user.pk if user is not None else None,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        wire_status=status if transport == "http" else None,
        **report,
    )
    return Outcome(reply, status, correlation_id, headers, notifications, report.get("method"))


def _rate_limited(message_text, retry_after):
    message_id, method, target = _peek(message_text)
    message = rate_limits.message(retry_after)
    reply = _error_reply(message_id, rate_limits.CODE, message, {"retryAfter": retry_after})
    report = {"method": method, "target": target, "outcome": "rate_limited",
              "error_code": rate_limits.CODE, "error_message": message}
    return reply, 429, report


def _peek(message_text):
    """The id, method and tool name of a message the engine did not answer, so the client can
    match the error and the audit line names what was refused."""
    try:
        message = json.loads(message_text)
        message_id, method, params = message.get("id"), message.get("method"), message.get("params")
    except (ValueError, AttributeError):
        return None, "<unknown>", None
    valid_id = message_id if isinstance(message_id, (str, int)) and not isinstance(message_id, bool) else None
    name = params.get("name") if isinstance(params, dict) and method == "tools/call" else None
    return valid_id, method if isinstance(method, str) else "<unknown>", name if isinstance(name, str) else None


def _registry(runtime):
    runtime.facts_json()  # gathers facts (and so the registry) when needed
    return state.registry
