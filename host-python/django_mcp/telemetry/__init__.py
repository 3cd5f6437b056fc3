"""Telemetry: OpenTelemetry spans and Prometheus metrics, both optional (docs/telemetry.md).

The package reports at four points, all through this module: a request (server.handle and
server.refuse), an engine step and an instance load (engine.EngineRuntime, through
`ENGINE`), an effect (effects.EffectRunner), and the audit line (audit.record), which holds
the request's outcome, user, key and correlation id once for the log, the span and the
metrics alike.

`DJANGO_MCP_TELEMETRY = {"opentelemetry": ..., "prometheus": ...}`: True, False, or None (the
default) for "when the project uses the package": it has imported it by the first MCP message
(configured an OpenTelemetry SDK, mounted the metrics view). A package that is only installed
records nothing anyone reads, so it is not imported for us. Off, each point costs a function
call.
"""

import contextlib
import importlib.util
import sys
import time

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from django_mcp import conf, sessions
from django_mcp.engine import EngineTrap, Observer

SETTING = "DJANGO_MCP_TELEMETRY"
#: Each switch: the module that must be importable, and the extra that installs it.
PARTS = {
    "opentelemetry": ("opentelemetry.trace", "otel"),
    "prometheus": ("prometheus_client", "prometheus"),
}


def wanted(part):
    """Whether `part` is on: its switch, or (None) whether the process has imported its package.
    Raises ImproperlyConfigured when it is switched on but not installed (checks.py says so at
    start)."""
    switches = conf.get(SETTING)
    # A malformed setting is checks.py's error at start; served anyway, it means the default.
    value = switches.get(part) if isinstance(switches, dict) else None
    module, extra = PARTS[part]
    if not value:
        return value is None and module in sys.modules
    if not _installed(module):
        raise ImproperlyConfigured(
            f"{SETTING}[{part!r}] is on but {module} is not installed: pip install 'django-mcp-framework[{extra}]'"
        )
    return True


def _installed(module):
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


class _Sinks:
    """The parts switched on: the tracing module and the metrics module, or None each."""

    def __init__(self):
        self.tracing = self.metrics = None
        if wanted("opentelemetry"):
            from django_mcp.telemetry import tracing

            self.tracing = tracing
        if wanted("prometheus"):
            from django_mcp import metrics

            self.metrics = metrics
        self.on = self.tracing is not None or self.metrics is not None


_sinks = None


def sinks():
    global _sinks
    if _sinks is None:
        _sinks = _Sinks()
    return _sinks


def _setting_changed(setting, **kwargs):
    global _sinks
    if setting == SETTING:
        _sinks = None


setting_changed.connect(_setting_changed, dispatch_uid="django_mcp.telemetry")


# --- the points the package reports at ------------------------------------------------------


def request(message_text, peek, transport, trace=None):
    """Around one MCP message: the request's span, current while it is handled. `peek` reads
    the message's id, method, target and `params._meta` (server._peek), only when traced;
    `trace` holds what the transport knows (server.handle)."""
    tracing = sinks().tracing
    if tracing is None:
        return contextlib.nullcontext()
    return tracing.request(peek(message_text), transport, trace or {})


def http_facts(request):
    """What the HTTP transport tells the request's span: W3C trace headers, the session id,
    the protocol version, the client's address. None when nothing is traced."""
    if sinks().tracing is None:
        return None
    headers = request.headers
    return {
        "carrier": {name: headers[name] for name in ("traceparent", "tracestate", "baggage") if name in headers},
        "session_id": headers.get(sessions.HEADER),
        "protocol_version": headers.get("Mcp-Protocol-Version"),
        "client_address": request.META.get("REMOTE_ADDR"),
    }


def audited(entry):
    """The audit line of a request (audit.record): its metrics, and its span's outcome."""
    current = sinks()
    if not current.on:
        return
    if current.metrics is not None:
        current.metrics.audited(entry)
    if current.tracing is not None:
        current.tracing.audited(entry)


class _Effect:
    """One effect being carried out: its span and its time."""

    __slots__ = ("kind", "span", "started", "sinks")

    def __init__(self, kind, current):
        self.kind, self.sinks = kind, current
        self.span = None

    def __enter__(self):
        if self.sinks.tracing is not None:
            self.span = self.sinks.tracing.effect_span(self.kind)
        self.started = time.perf_counter()
        return self

    def finished(self, result):
        """Note the effect's result (`{"ok": …}` or `{"error": {"kind", …}}`); returns it."""
        if self.sinks.metrics is not None:
            self.sinks.metrics.effect(self.kind, time.perf_counter() - self.started)
        error = result.get("error") if self.span is not None else None
        if error is not None:
            self.span.failed(error.get("kind") or "_OTHER")
        return result

    def __exit__(self, *exc):
        if self.span is not None:
            self.span.end()
        return False


class _Unobserved:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def finished(self, result):
        return result


_UNOBSERVED = _Unobserved()


def effect(kind):
    """Around one effect: `with telemetry.effect(kind) as e: return e.finished(result)`."""
    current = sinks()
    return _Effect(kind, current) if current.on else _UNOBSERVED


class _EngineObserver(Observer):
    """The runtime's steps and instance loads (engine.Observer)."""

    def step(self):
        current = sinks()
        return _Step(current) if current.on else contextlib.nullcontext()

    def instance_loaded(self):
        metrics = sinks().metrics
        if metrics is not None:
            metrics.instance_loaded()


class _Step:
    __slots__ = ("sinks", "span", "started")

    def __init__(self, current):
        self.sinks = current
        self.span = None

    def __enter__(self):
        if self.sinks.tracing is not None:
            self.span = self.sinks.tracing.step_span()
        self.started = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb):
        trapped = exc_type is not None and issubclass(exc_type, EngineTrap)
        if self.sinks.metrics is not None:
            self.sinks.metrics.step(time.perf_counter() - self.started, trapped)
        if self.span is not None:
            if trapped:
                self.span.failed("engine_trap", str(exc))
            self.span.end()
        return False


ENGINE = _EngineObserver()
