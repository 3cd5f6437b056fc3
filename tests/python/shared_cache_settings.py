"""The demo with the cache rate limits count in on Redis (DJANGO_MCP_TEST_REDIS_URL), for
test_rate_limits_shared.py: get_library_book three times an hour per key."""

import os

from demo_project.settings import *  # noqa: F403

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["DJANGO_MCP_TEST_REDIS_URL"],
    },
}

DJANGO_MCP_RATE_LIMITS = {"tool": {"get_library_book": "3/h"}}
