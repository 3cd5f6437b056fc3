"""One MCP message in, one outcome out — shared by the HTTP and STDIO transports.

The transport authenticates and does I/O; this module steps the engine, carries out its
effects for the caller, and writes the audit line.
"""

import dataclasses
import json
import logging
import threading
import time
import uuid

from django_mcp import audit, conf, facts
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
    return json.dumps({
        "jsonrpc": "2.0",
        "id": message_id,
        "error": {"code": -32603, "message": "Internal error", "data": {"correlation_id": correlation_id}},
    })


def handle(message_text, *, key=None, transport="http", host="localhost", scheme="https",
           protocol_version_header=None) -> Outcome:
    """Handle one inbound message for the holder of `key` (None: unauthenticated)."""
    started = time.perf_counter()
    correlation_id = uuid.uuid4().hex
    user = key.user if key is not None else None
    principal = None
    if key is not None:
        principal = {"user_id": user.pk, "key_id": key.key_id, "allowed_tools": list(key.allowed_tools or [])}
    payload = {
        "message": message_text,
        "context": {"transport": transport, "principal": principal, "protocol_version_header": protocol_version_header},
    }
    caller = CallerContext(user, host=host, scheme=scheme, correlation_id=correlation_id,
                           client=key.name if key is not None else None)
    try:
        runtime = state.get_runtime()
        done = runtime.run(payload, EffectRunner(caller, _registry(runtime)))
        reply, status, report = done["reply"], done["http_status"], done["audit"]
    except (EngineTrap, FactsRejected) as exc:
        logger.error("engine failure [correlation_id=%s]: %s", correlation_id, exc)
        message_id, method = _peek(message_text)
        reply, status = internal_error_reply(correlation_id, message_id), 200
        report = {"method": method, "target": None, "outcome": "handler_error",
                  "error_code": -32603, "error_message": "engine failure"}
    audit.record(
        correlation_id=correlation_id,
        transport="streamable-http" if transport == "http" else "stdio",
        key_id=key.key_id if key is not None else None,
        user_id=user.pk if user is not None else None,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        wire_status=status if transport == "http" else None,
        **report,
    )
    return Outcome(reply, status, correlation_id)


def _peek(message_text):
    """The id and method of a message the engine failed on, so the client can match the error."""
    try:
        message = json.loads(message_text)
        message_id, method = message.get("id"), message.get("method")
    except (ValueError, AttributeError):
        return None, "<unknown>"
    valid_id = message_id if isinstance(message_id, (str, int)) and not isinstance(message_id, bool) else None
    return valid_id, method if isinstance(method, str) else "<unknown>"


def _registry(runtime):
    runtime.facts_json()  # gathers facts (and so the registry) when needed
    return state.registry
