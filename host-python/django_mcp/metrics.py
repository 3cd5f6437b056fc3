"""Prometheus metrics of the MCP endpoint, and a view that serves them (docs/telemetry.md).

    # urls.py
    import django_mcp.metrics
    urlpatterns += [path("metrics/", django_mcp.metrics.view)]

The view serves prometheus_client's default registry, so the project's own metrics (and
django-prometheus's, say) come along; under several worker processes
(`PROMETHEUS_MULTIPROC_DIR` set) it serves what every worker counted. Protect it: with
`DJANGO_MCP_METRICS_TOKEN` set it answers only `Authorization: Bearer <token>`; else keep it
off the public internet (a proxy rule, or a port only the scraper reaches).
"""

import hmac
import os

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from django_mcp import conf
from django_mcp.telemetry import labels

try:
    import prometheus_client
    from prometheus_client import Counter, Histogram
except ImportError as exc:  # pragma: no cover - the message is the point
    raise ImportError(
        "django_mcp.metrics needs prometheus_client: pip install 'django-mcp-framework[prometheus]'"
    ) from exc

#: Seconds: a request is a millisecond or two of engine and host work plus what its effects
#: do in the database; a step is tens of microseconds.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
STEP_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1)

REQUESTS = Counter(
    "django_mcp_requests",
    "MCP messages answered, by transport, method and outcome (as audited).",
    ["transport", "method", "outcome"],
)
REQUEST_DURATION = Histogram(
    "django_mcp_request_duration_seconds",
    "Time to answer an MCP message, by method and outcome.",
    ["method", "outcome"],
    buckets=REQUEST_BUCKETS,
)
RATE_LIMITED = Counter(
    "django_mcp_rate_limited",
    "Messages refused by a rate limit, by method (<pre-dispatch>: a credential that failed too often).",
    ["method"],
)
ENGINE_STEP_DURATION = Histogram(
    "django_mcp_engine_step_duration_seconds", "Time of one engine step (instance wait included).", buckets=STEP_BUCKETS
)
ENGINE_TRAPS = Counter(
    "django_mcp_engine_traps", "Engine steps that trapped (fuel, memory, panic); the instance is dropped."
)
ENGINE_INSTANCE_LOADS = Counter(
    "django_mcp_engine_instance_loads",
    "Engine instances created: the first, and each after a trap or a catalogue reload.",
)
EFFECT_DURATION = Histogram(
    "django_mcp_effect_duration_seconds",
    "Time the host took to carry out one effect, by kind.",
    ["kind"],
    buckets=REQUEST_BUCKETS,
)


def audited(entry):
    method, outcome = labels.method(entry["method"]), entry["outcome"]
    REQUESTS.labels(entry["transport"], method, outcome).inc()
    REQUEST_DURATION.labels(method, outcome).observe((entry["duration_ms"] or 0) / 1000)
    if outcome == "rate_limited":
        RATE_LIMITED.labels(method).inc()


def step(seconds, trapped):
    ENGINE_STEP_DURATION.observe(seconds)
    if trapped:
        ENGINE_TRAPS.inc()


def instance_loaded():
    ENGINE_INSTANCE_LOADS.inc()


def effect(kind, seconds):
    EFFECT_DURATION.labels(kind).observe(seconds)


@require_GET
def view(request):
    """The metrics in Prometheus's text format."""
    token = conf.get("DJANGO_MCP_METRICS_TOKEN")
    if token:
        presented = request.headers.get("Authorization", "")
        if not hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
            response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    registry = prometheus_client.REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return HttpResponse(prometheus_client.generate_latest(registry), content_type=prometheus_client.CONTENT_TYPE_LATEST)
