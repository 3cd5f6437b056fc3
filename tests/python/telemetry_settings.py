"""The demo's settings with the metrics view mounted (telemetry_urls.py), for served tests;
with TELEMETRY_SPANS_FILE set, an OpenTelemetry SDK writes every span there, a JSON line each."""

import json
import os

from demo_project.settings import *  # noqa: F401,F403

ROOT_URLCONF = "telemetry_urls"

if os.environ.get("TELEMETRY_SPANS_FILE"):
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    _provider = TracerProvider()
    _provider.add_span_processor(
        SimpleSpanProcessor(
            ConsoleSpanExporter(
                out=open(os.environ["TELEMETRY_SPANS_FILE"], "a", buffering=1),
                formatter=lambda span: json.dumps(json.loads(span.to_json())) + "\n",
            )
        )
    )
    trace.set_tracer_provider(_provider)
