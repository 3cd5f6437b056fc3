"""One MCP message in, one outcome out — shared by the HTTP and STDIO transports.

The transport authenticates and does I/O; this module applies the credential's rate limit,
steps the engine, carries out its effects for the caller, and writes the audit line. A message
answered without stepping the catalogue (`refuse`: a transport's check, a rate limit, no
credential) is worded by the engine too; the host words one answer itself, the internal error
when no engine instance could (`internal_error_reply`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from django_mcp import audit, conf, correlation, facts, oauth, rate_limits, telemetry
from django_mcp.effects import EffectRunner
from django_mcp.engine import (
    EngineInstance,
    EngineRuntime,
    EngineTrap,
    FactsRejected,
    default_cache_dir,
)
from django_mcp.requests import CallerContext
from django_mcp.seam import LeftOut, Refusal, RefusalKind

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django_mcp.facts.registry import Registry
    from django_mcp.identity import Identity

logger = logging.getLogger("django_mcp.server")

_T = TypeVar("_T")

Transport = Literal["http", "stdio"]


@dataclasses.dataclass
class Outcome:
    #: The JSON-RPC response as UTF-8 JSON text, as the engine wrote it; None for
    #: notifications and client responses.
    reply: bytes | None
    http_status: int
    correlation_id: str
    #: Extra HTTP response headers (`Retry-After` on 429).
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Notifications (JSON text) sent while the request was handled, in order, ahead of `reply`.
    notifications: list[str] = dataclasses.field(default_factory=list)
    #: The JSON-RPC method answered (as audited).
    method: str | None = None


class _State:
    """The process's runtime and the registry matching its current facts, and the instance
    without a catalogue (refusals, the views' selection, the search entries' secrets)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runtime: EngineRuntime | None = None
        self.registry: Registry | None = None
        #: An engine instance that never loads a catalogue, used one step at a time: a
        #: refused message never waits for, nor steps, the catalogue's instance, and is
        #: answered even when the facts are refused; gathering the facts asks it which views
        #: to describe and which secrets search paths cross, before there is a catalogue.
        self.refusals_lock = threading.Lock()
        self.refuser: EngineInstance | None = None
        #: Gather every admin's forms with the facts (what lists everything, `mcp_catalogue`,
        #: needs); else each admin's are built when a request first needs them.
        self.eager_forms = False

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

    def _gather(self) -> str:
        facts_json, self.registry = facts.gather(defer_forms=not self.eager_forms)
        return facts_json

    def ready_refusals(self) -> None:
        """Compile the engine and instantiate the refusals' instance now, if not done yet."""
        with self.refusals_lock:
            self._refuser()

    def refusal_step(self, text: str) -> dict[str, Any]:
        """One refusal step (docs/engine-protocol.md); raises EngineTrap."""
        return self._without_catalogue(lambda instance: instance.step_json(text))

    def select_views(self, text: str) -> list[LeftOut | None]:
        """The engine's answer to a `select_views` step (docs/engine-protocol.md); raises
        EngineTrap, and FactsRejected when the engine cannot read the step."""
        return self._answer(text, "DJANGO_MCP_VIEW_INCLUDE and DJANGO_MCP_VIEW_EXCLUDE must be lists of strings")

    def secrets_crossed(self, text: str) -> list[str | None]:
        """The engine's answer to a `secrets_crossed` step (docs/engine-protocol.md); raises
        as `select_views`."""
        return self._answer(text, "DJANGO_MCP_REDACT_FIELDS must be a list of strings")

    def _answer(self, text: str, unreadable: str) -> list[Any]:
        output = self._without_catalogue(lambda instance: instance.step_text(text))
        answer = json.loads(output.partition("\n")[0])
        if not isinstance(answer, list):  # an internal error's `done`
            raise FactsRejected(unreadable)
        return answer

    def _without_catalogue(self, use: Callable[[EngineInstance], _T]) -> _T:
        with self.refusals_lock:
            try:
                return use(self._refuser())
            except EngineTrap:
                self.refuser = None
                raise

    def _refuser(self) -> EngineInstance:
        """The instance without a catalogue (`refusals_lock` held). Once it exists a refusal
        takes no lock of the runtime's, which is held while the facts are gathered."""
        if self.refuser is None:
            self.refuser = EngineInstance(self.get_runtime().compiled)
        return self.refuser


state = _State()


def reset() -> None:
    """Derive the catalogue again on the next request (settings changed; test isolation)."""
    with state.lock:
        runtime = state.runtime
    if runtime is not None:
        runtime.reload()


@contextlib.contextmanager
def eager_forms() -> Iterator[None]:
    """Within it, the catalogue is derived from facts holding every admin's forms: what
    loading leaves out is known at once, as start-up reported it before forms were deferred."""
    state.eager_forms = True
    reset()
    try:
        yield
    finally:
        state.eager_forms = False
        reset()


def internal_error_reply(correlation_id: str, message_id: str | int | None = None) -> str:
    """The engine's `internal` refusal, built here only for when no engine instance could word
    it (the refuser trapped too): a client is always answered. tests/python/test_seam.py holds
    it to the engine's words."""
    error = {"code": -32603, "data": {"correlation_id": correlation_id}, "message": "Internal error"}
    return json.dumps({"error": error, "id": message_id, "jsonrpc": "2.0"}, separators=(",", ":"))


def handle(
    message_text: str,
    *,
    identity: Identity | None = None,
    transport: Transport = "http",
    host: str = "localhost",
    scheme: str = "https",
    headers: dict[str, str] | None = None,
    trace: dict[str, Any] | None = None,
) -> Outcome:
    """Handle one inbound message for `identity` (None: unauthenticated). Every log record
    emitted meanwhile carries the request's correlation id (the transport's, when it opened one).
    `trace`: what the transport tells the request's span (telemetry.http_facts)."""
    with correlation.current_or_new() as correlation_id, telemetry.request(message_text, _peek, transport, trace):
        return _handle(message_text, identity, correlation_id, transport, host, scheme, headers)


def _handle(
    message_text: str,
    identity: Identity | None,
    correlation_id: str,
    transport: Transport,
    host: str,
    scheme: str,
    mcp_headers: dict[str, str] | None,
) -> Outcome:
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
    headers: dict[str, str] = {}
    notifications: list[str] = []
    # Refused before the catalogue's engine runs: an over-limit or anonymous client costs no
    # step of it (the one instance is shared by every request).
    retry_after = rate_limits.for_credential(identity.subject) if identity is not None else None
    done: dict[str, Any] | None = None
    if retry_after is not None:
        limited: Refusal = {"kind": RefusalKind.RATE_LIMITED, "retry_after": retry_after}
        done = _refused(limited, transport, message_text, correlation_id)["done"]
    elif identity is None:
        # The engine admits what it answers without a principal; it refuses the rest here.
        done = _refused({"kind": RefusalKind.NO_CREDENTIAL}, transport, message_text, correlation_id).get("done")
    if done is None:
        try:
            runtime = state.get_runtime()
            done = runtime.run(message_text, context, EffectRunner(caller, _registry(runtime), notifications.append))
            step_up = oauth.step_up(identity, done, scheme, host) if identity is not None else None
            if step_up is not None:
                done["http_status"], headers["WWW-Authenticate"] = 403, step_up
        except (EngineTrap, FactsRejected) as exc:
            logger.error("engine failure [correlation_id=%s]: %s", correlation_id, exc)
            failure: Refusal = {"kind": RefusalKind.INTERNAL, "correlation_id": correlation_id}
            done = _refused(failure, transport, message_text, correlation_id)["done"]
    reply, status, report = done["reply"], done["http_status"], done["audit"]
    headers.update(done.get("headers") or {})
    _audit(correlation_id, transport, identity, started, status, report)
    return Outcome(reply, status, correlation_id, headers, notifications, report.get("method"))


def refuse(
    refusal: Refusal, *, transport: Transport, message_text: str | None = None, identity: Identity | None = None
) -> Outcome:
    """Answer with the engine's words for `refusal`, without the catalogue. `message_text`: the
    message the transport read (its id is echoed, its method and target audited); None when
    it refused before reading one (an audit line `<pre-dispatch>`)."""
    with correlation.current_or_new() as correlation_id:
        if message_text is None:
            done = _refused(refusal, transport, None, correlation_id)["done"]
            report = done["audit"]
            audit.refused(
                _audit_transport(transport),
                report["error_message"],
                outcome=report["outcome"],
                wire_status=done["http_status"] if transport == "http" else None,
                key_id=identity.key_id if identity is not None else None,
                user_id=_user_id(identity),
            )
            return Outcome(done["reply"], done["http_status"], correlation_id, dict(done.get("headers") or {}))
        with telemetry.request(message_text, _peek, transport):
            started = time.perf_counter()
            done = _refused(refusal, transport, message_text, correlation_id)["done"]
            _audit(correlation_id, transport, identity, started, done["http_status"], done["audit"])
            return Outcome(
                done["reply"],
                done["http_status"],
                correlation_id,
                dict(done.get("headers") or {}),
                method=done["audit"]["method"],
            )


def _refused(refusal: Refusal, transport: Transport, message_text: str | None, correlation_id: str) -> dict[str, Any]:
    """The engine's output for `refusal`: `{"done": …}`, or `{"admit": true}` for a message
    sent without a credential that needs none."""
    step: dict[str, Any] = {"refuse": refusal, "context": {"transport": transport}}
    if message_text is not None:
        step["message"] = message_text
    try:
        output = state.refusal_step(json.dumps(step, separators=(",", ":")))
    except EngineTrap as exc:
        logger.error("engine failure [correlation_id=%s]: %s", correlation_id, exc)
        return _fallback(message_text or "", correlation_id)
    return output


def _fallback(message_text: str, correlation_id: str) -> dict[str, Any]:
    """What the host answers when no engine instance could answer: an internal error, as the
    engine words its `internal` refusal."""
    peeked = _peek(message_text)
    report = {
        "method": peeked.method,
        "target": peeked.target,
        "outcome": "handler_error",
        "error_code": -32603,
        "error_message": "engine failure",
    }
    reply = internal_error_reply(correlation_id, peeked.id).encode()
    return {"done": {"reply": reply, "http_status": 200, "audit": report}}


def _user_id(identity: Identity | None) -> Any:
    # Identity types its user as any object: a user model's pk, whatever the model.
    return getattr(identity.user, "pk", None) if identity is not None else None


def _audit_transport(transport: Transport) -> str:
    return "streamable-http" if transport == "http" else "stdio"


def _audit(
    correlation_id: str,
    transport: Transport,
    identity: Identity | None,
    started: float,
    status: int,
    report: dict[str, Any],
) -> None:
    audit.record(
        correlation_id=correlation_id,
        transport=_audit_transport(transport),
        key_id=identity.key_id if identity is not None else None,
        user_id=_user_id(identity),
        oauth_client=identity.oauth_client if identity is not None else None,
        duration_ms=round((time.perf_counter() - started) * 1000, 3),
        wire_status=status if transport == "http" else None,
        **report,
    )


@dataclasses.dataclass(frozen=True)
class _Peeked:
    """What the host reads of a message for its span (telemetry) and for the one answer it
    words itself (`_fallback`): its id, its method and target as the engine names them."""

    id: str | int | None = None
    method: str = "<unknown>"
    target: str | None = None
    #: Its `params._meta`, where a client may send its trace context (telemetry).
    meta: dict[str, Any] | None = None


def _peek(message_text: str) -> _Peeked:
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
    return _Peeked(valid_id, method, target, meta=meta)


def _registry(runtime: EngineRuntime) -> Registry:
    runtime.gather()  # and so the registry, when needed
    if state.registry is None:  # the facts came from elsewhere than `_gather`
        raise FactsRejected("no registry was gathered with the facts")
    return state.registry
