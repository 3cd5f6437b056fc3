"""The demo as test_multi_instance.py serves it from two instances behind nginx: the database
from DEMO_DATABASE_URL (PostgreSQL), the cache rate limits count in from
DJANGO_MCP_TEST_REDIS_URL, and the custom items that send progress and ask the client."""

import os

from demo_project.settings import *  # noqa: F403

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["DJANGO_MCP_TEST_REDIS_URL"],
    },
}

DJANGO_MCP_CUSTOM = ["custom_items", "custom_items_rounds"]
DJANGO_MCP_RATE_LIMITS = {"tool": {"list_library_tag": "3/h"}}
DJANGO_MCP_AUTH_FAILURE_LIMITS = {"key": "10/m", "address": "4/h"}
