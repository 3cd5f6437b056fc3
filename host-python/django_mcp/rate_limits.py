"""Rate limits per credential and per (credential, tool), counted in Django's cache.

Fixed windows aligned to the clock: one counter per subject and window, created with
`cache.add` and counted with `cache.incr`, which are atomic on shared caches (Redis,
Memcached), so every worker process of every machine counts against the same budget.
"""

import math
import re
import time

from django.core.cache import caches

from django_mcp import conf

RATE = re.compile(r"(?P<count>[1-9][0-9]*)/(?P<unit>[smh])")
SECONDS = {"s": 1, "m": 60, "h": 3600}
CODE = -32005


def parse(rate):
    """`"120/m"` → (120, 60); ValueError for anything else."""
    match = RATE.fullmatch(rate) if isinstance(rate, str) else None
    if match is None:
        raise ValueError(f"{rate!r} is not a rate like '60/m' (per s, m or h)")
    return int(match["count"]), SECONDS[match["unit"]]


def message(retry_after):
    return f"Rate limit exceeded: retry after {retry_after} s"


def for_credential(subject):
    """Count one request of `subject`; seconds until it may retry when over its limit, else None."""
    rate = (conf.get("DJANGO_MCP_RATE_LIMITS") or {}).get("key")
    return _hit(f"key|{subject}", rate) if rate else None


def for_tool(subject, tool):
    """Count one call of `tool` by `subject` against the tool's own limit, else the `"*"` one."""
    limits = (conf.get("DJANGO_MCP_RATE_LIMITS") or {}).get("tool") or {}
    rate = limits.get(tool, limits.get("*"))
    return _hit(f"tool|{subject}|{tool}", rate) if rate else None


def _hit(bucket, rate):
    allowed, period = parse(rate)
    now = time.time()
    window = int(now // period)
    window_left = (window + 1) * period - now
    key = f"django_mcp:rate:{bucket}:{period}:{window}"
    cache = caches[conf.get("DJANGO_MCP_RATE_LIMIT_CACHE")]
    # The counter outlives its window slightly, never less: it must not restart mid-window.
    if cache.add(key, 1, timeout=math.ceil(window_left) + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr: this request starts it again
            cache.add(key, 1, timeout=math.ceil(window_left) + 1)
            count = 1
    return max(1, math.ceil(window_left)) if count > allowed else None
