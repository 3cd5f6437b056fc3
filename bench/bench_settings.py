"""The demo project's settings, with the floor views routed beside the MCP endpoint."""

from demo_project.settings import *  # noqa: F401,F403

ROOT_URLCONF = "floor_urls"
