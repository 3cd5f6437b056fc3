"""Rate limits counted in a shared cache are exact across processes and instances: two uvicorn
instances of two workers each, one Redis (Debian's redis-server), one database; a limit of three
calls allows three calls in all, however the calls are spread and however close together."""

import math
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import checks

from conftest import live_rows, post_rpc
from servers import DEMO, manage, serve_uvicorn

LIMIT, WINDOW = 3, 3600  # shared_cache_settings: get_library_book "3/h"


@pytest.fixture(scope="module")
def two_instances(live_demo, redis_url, tmp_path_factory):
    """The live demo's database served again by two uvicorn instances of two workers each,
    counting rate limits in one Redis; yields their URLs."""
    env = {
        **live_demo["env"],
        "DJANGO_SETTINGS_MODULE": "fixtures.shared_cache_settings",
        "DJANGO_MCP_TEST_REDIS_URL": redis_url,
    }
    workdir = tmp_path_factory.mktemp("shared_cache")
    with (
        serve_uvicorn("demo_project.asgi:application", DEMO, env, workdir / "a.log", "--workers", "2") as a,
        serve_uvicorn("demo_project.asgi:application", DEMO, env, workdir / "b.log", "--workers", "2") as b,
    ):
        yield {"urls": [a, b], "env": env}


def calls_at_once(two_instances, count):
    """`count` calls of the limited tool with one fresh key, all at once, spread over both
    instances; the replies, and whether they all fell in one window of the limit."""
    key = manage(two_instances["env"], "mcp_key", "create", "alice", "--name", "shared-limit")
    [(pk,)] = live_rows(two_instances["env"], "SELECT min(id) FROM library_book")
    urls = two_instances["urls"]

    def call(n):
        return post_rpc(urls[n % 2], key, "tools/call", {"name": "get_library_book", "arguments": {"pk": pk}}, n)

    start = math.floor(time.time() / WINDOW)
    with ThreadPoolExecutor(max_workers=count) as pool:
        replies = list(pool.map(call, range(count)))
    return replies, math.floor(time.time() / WINDOW) == start


def test_a_limit_counts_every_call_of_every_worker_of_every_instance_once(two_instances):
    for _attempt in range(2):  # a window that ended mid-test allows more: once more in the next
        replies, one_window = calls_at_once(two_instances, 16)
        if one_window:
            break
    statuses = [status for status, _ in replies]
    allowed = [body for _, body in replies if "result" in body]
    limited = [body for _, body in replies if body.get("error", {}).get("code") == -32005]
    assert set(statuses) <= {200, 429}, statuses
    assert len(allowed) == LIMIT and len(limited) == len(replies) - LIMIT, replies
    assert all(body["result"]["isError"] is False for body in allowed), allowed
    assert all(1 <= body["error"]["data"]["retryAfter"] <= WINDOW for body in limited), limited


@pytest.mark.parametrize(
    "backend, counted",
    [
        ("django.core.cache.backends.locmem.LocMemCache", "keeps its counters in each process's memory"),
        ("django.core.cache.backends.dummy.DummyCache", "keeps no counters"),
        ("django.core.cache.backends.db.DatabaseCache", "counts by reading then writing a row"),
    ],
)
def test_rate_limits_on_a_cache_of_each_process_are_a_check_warning(settings, backend, counted):
    settings.CACHES = {**settings.CACHES, "limits": {"BACKEND": backend, "LOCATION": "mcp_limits"}}
    settings.DJANGO_MCP_RATE_LIMIT_CACHE = "limits"
    settings.DJANGO_MCP_RATE_LIMITS = {"tool": {"*": "60/m"}}
    [warning] = [m for m in checks.run_checks() if m.id == "django_mcp.W001"]
    assert warning.level == checks.WARNING and f"cache 'limits' ({backend.rsplit('.', 1)[-1]})" in warning.msg
    assert counted in warning.msg and "Redis" in warning.hint


def test_rate_limits_on_redis_or_no_rate_limits_pass_the_checks(settings, redis_url):
    settings.CACHES = {
        **settings.CACHES,
        "limits": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url},
    }
    settings.DJANGO_MCP_RATE_LIMIT_CACHE = "limits"
    settings.DJANGO_MCP_RATE_LIMITS = {"tool": {"*": "60/m"}}
    assert not [m for m in checks.run_checks() if m.id == "django_mcp.W001"]
    # The demo's own cache is per process, but it sets no rate limits: nothing to warn of.
    settings.DJANGO_MCP_RATE_LIMIT_CACHE = "default"
    settings.DJANGO_MCP_RATE_LIMITS = None
    assert not [m for m in checks.run_checks() if m.id == "django_mcp.W001"]
