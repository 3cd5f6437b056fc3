"""The demo's settings with the metrics view mounted (telemetry_urls.py), for served tests."""

from demo_project.settings import *  # noqa: F401,F403

ROOT_URLCONF = "telemetry_urls"
