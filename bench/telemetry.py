"""Benchmark: what telemetry costs a tools/call, against telemetry off, in one process.

    .venv/bin/python bench/telemetry.py [--iterations 500]

Configurations, taking turns call by call (so a noisy neighbour on the shared machine slows
all of them alike): off; Prometheus; the
OpenTelemetry API with no SDK (what a project that installed the API and configured nothing
pays); the SDK recording every span into a batch processor whose exporter drops them; both.
The SDK is the process's tracer provider (it can be set once), so the API-only configuration
swaps in the API's no-op tracer. Ratios to "off" are what the docs quote (docs/performance.md);
the CPU time of the calling thread moves less than wall time when neighbours load the machine.
"""

import argparse
import json
import os
import statistics
import time

import scratch

scratch.in_process("django-mcp-bench-telemetry-")

CONFIGURATIONS = {
    "off": ({"opentelemetry": False, "prometheus": False}, None),
    "prometheus": ({"opentelemetry": False, "prometheus": True}, None),
    "otel API, no SDK": ({"opentelemetry": True, "prometheus": False}, "noop"),
    "otel SDK": ({"opentelemetry": True, "prometheus": False}, "sdk"),
    "otel SDK + prometheus": ({"opentelemetry": True, "prometheus": True}, "sdk"),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=500, help="calls per configuration and operation")
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import Client, override_settings
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from django_mcp import telemetry
    from django_mcp.telemetry import tracing

    class Dropping(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Dropping()))
    trace.set_tracer_provider(provider)
    tracers = {"sdk": tracing.tracer, "noop": trace.NoOpTracer(), None: tracing.tracer}

    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {scratch.seeded(os.environ, 'bench')}"}
    operations = {
        "retrieve": {"name": "get_library_book", "arguments": {"pk": 7}},
        "admin list, 50 rows": {"name": "list_library_book", "arguments": {"page_size": 50}},
    }

    def call(params):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params})
        response = client.post("/mcp/", body, content_type="application/json", **auth)
        assert response.status_code == 200 and b'"isError":false' in response.content, response.content

    # Each configuration's switches, read once; the calls then take turns between them (a
    # settings change would derive the catalogue again, which is not what is measured).
    switched = {}
    for name, (switches, _tracer) in CONFIGURATIONS.items():
        with override_settings(DJANGO_MCP_TELEMETRY=switches):
            switched[name] = telemetry.sinks()
    samples = {(op, name): [] for op in operations for name in CONFIGURATIONS}
    names = list(CONFIGURATIONS)
    for op, params in operations.items():
        for i in range(args.iterations + 20):  # the first 20 warm up
            # Each call starts the turn at the next configuration: no configuration always
            # follows the same one (the garbage collector's rhythm would favour some).
            for name in names[i % len(names) :] + names[: i % len(names)]:
                telemetry._sinks, tracing.tracer = switched[name], tracers[CONFIGURATIONS[name][1]]
                start, cpu = time.perf_counter(), time.thread_time()
                call(params)
                if i >= 20:
                    samples[(op, name)].append((time.perf_counter() - start, time.thread_time() - cpu))
    provider.shutdown()

    print("median wall time and median CPU time of this thread (the steadier on a shared machine),")
    print("each with its ratio to telemetry off and the time added")
    print(
        f"{'operation':<22}{'configuration':<24}{'wall':>10}{'ratio':>7}{'added':>9}{'CPU':>10}{'ratio':>7}{'added':>9}"
    )
    for op in operations:
        floors = [statistics.median(s[k] for s in samples[(op, "off")]) for k in (0, 1)]
        for name in CONFIGURATIONS:
            row = f"{op:<22}{name:<24}"
            for k, floor in enumerate(floors):
                median = statistics.median(s[k] for s in samples[(op, name)])
                row += f"{median * 1e3:>8.3f}ms{median / floor:>7.3f}{(median - floor) * 1e6:>7.0f}us"
            print(row)


if __name__ == "__main__":
    main()
