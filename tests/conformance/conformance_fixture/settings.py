"""The demo project plus the conformance fixture: the items the official conformance suite
calls by fixed names, declared as custom items (django_mcp.custom), and a middleware that
gives the suite's clients a real key (the suite cannot send an Authorization header)."""

from demo_project.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "conformance_fixture"]  # noqa: F405
MIDDLEWARE = ["conformance_fixture.middleware.ConformanceKey", *MIDDLEWARE]  # noqa: F405
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
DJANGO_MCP_CUSTOM = ["conformance_fixture.mcp"]
