"""Rate limits per credential and per (credential, tool), and of failed credential checks per
key id and per client address, counted in Django's cache.

Fixed windows aligned to the clock: one counter per subject and window, created with
`cache.add` and counted with `cache.incr`, which are atomic on shared caches (Redis,
Memcached), so every worker process of every machine counts against the same budget.
"""

import math
import re
import time

from django.core.cache import BaseCache, caches

from django_mcp import conf

RATE = re.compile(r"(?P<count>[1-9][0-9]*)/(?P<unit>[smh])")
SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse(rate: object) -> tuple[int, int]:
    """`"120/m"` → (120, 60); ValueError for anything else."""
    match = RATE.fullmatch(rate) if isinstance(rate, str) else None
    if match is None:
        raise ValueError(f"{rate!r} is not a rate like '60/m' (per s, m or h)")
    return int(match["count"]), SECONDS[match["unit"]]


def message(retry_after: int) -> str:
    """What a `rate_limited` effect error says (the engine words the client's reply itself)."""
    return f"Rate limit exceeded: retry after {retry_after} s"


def for_credential(subject: str) -> int | None:
    """Count one request of `subject`; seconds until it may retry when over its limit, else None."""
    rate = (conf.get("DJANGO_MCP_RATE_LIMITS") or {}).get("key")
    return _hit(f"key|{subject}", rate) if rate else None


def for_tool(subject: str, tool: str) -> int | None:
    """Count one call of `tool` by `subject` against the tool's own limit, else the `"*"` one."""
    limits = (conf.get("DJANGO_MCP_RATE_LIMITS") or {}).get("tool") or {}
    rate = limits.get(tool, limits.get("*"))
    return _hit(f"tool|{subject}|{tool}", rate) if rate else None


def credential_failures_blocked(key_id: str | None, address: str | None) -> int | None:
    """Seconds until the key id or the client address may try a credential again, when either
    has used up its budget of failed checks (`DJANGO_MCP_AUTH_FAILURE_LIMITS`); else None.
    Only reads the counters, in one cache round trip, so it costs no hashing and no query."""
    buckets = _failure_buckets(key_id, address)
    if not buckets:
        return None
    cache = _cache()  # once for both windows: a lookup in Django's per-thread cache handler
    windows = [_Window(bucket, rate, cache) for bucket, rate in buckets]
    counts = cache.get_many([window.key for window in windows])
    return max((_wait(w) for w in windows if (counts.get(w.key) or 0) >= w.allowed), default=None)


def count_credential_failure(key_id: str | None, address: str | None) -> None:
    """Count one failed credential check against the key id it named and the address it came from."""
    for bucket, rate in _failure_buckets(key_id, address):
        _count(_Window(bucket, rate))


def _failure_buckets(key_id: str | None, address: str | None) -> list[tuple[str, str]]:
    limits = conf.get("DJANGO_MCP_AUTH_FAILURE_LIMITS") or {}
    subjects = {"key": key_id, "address": address}
    return [
        (f"failed-{kind}|{subject}", limits[kind]) for kind, subject in subjects.items() if subject and limits.get(kind)
    ]


def _hit(bucket: str, rate: str) -> int | None:
    window = _Window(bucket, rate)
    return _wait(window) if _count(window) > window.allowed else None


class _Window:
    """One subject's counter in the current fixed window of `rate`."""

    def __init__(self, bucket: str, rate: str, cache: BaseCache | None = None) -> None:
        self.allowed, period = parse(rate)
        now = time.time()
        window = int(now // period)
        self.left = (window + 1) * period - now
        self.key = f"django_mcp:rate:{bucket}:{period}:{window}"
        self.cache: BaseCache = cache if cache is not None else _cache()


def _cache() -> BaseCache:
    return caches[conf.get("DJANGO_MCP_RATE_LIMIT_CACHE")]


def _wait(window: "_Window") -> int:
    return max(1, math.ceil(window.left))


def _count(window: "_Window") -> int:
    # The counter outlives its window slightly, never less: it must not restart mid-window.
    timeout = math.ceil(window.left) + 1
    if window.cache.add(window.key, 1, timeout=timeout):
        return 1
    try:
        return window.cache.incr(window.key)
    except ValueError:  # evicted between add and incr: this request starts it again
        window.cache.add(window.key, 1, timeout=timeout)
        return 1


def for_registration(address: str, rate: str) -> int | None:
    """Count one OAuth client registration from `address` against `rate`; seconds until it may
    register again when over, else None."""
    return _hit(f"register|{address}", rate)
