"""A small HTTP/1.1 load generator on asyncio (stdlib only): keep-alive connections to
127.0.0.1, a bounded number of requests, a fixed concurrency.

Each of `concurrency` workers holds one connection and sends requests one after another
until `total` have been sent between them (or a time budget is spent); a latency is from the first byte written to the
last byte of the answer read. An answer that is not HTTP 200, or whose body `is_bad`, or a
broken connection (reconnected), counts as an error.
"""

from __future__ import annotations

import asyncio
import math
import re
import statistics
import time

BAD_REPLY = re.compile(rb'"isError":\s*true|"error":\s*\{')


def is_bad(body: bytes) -> bool:
    return BAD_REPLY.search(body) is not None


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def request(self, raw: bytes) -> tuple[int, dict, bytes]:
        if self.writer is None:
            await self.open()
        self.writer.write(raw)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(parts)
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body


def build_request(method: str, path: str, body: bytes | None, headers: dict, host: str, port: int) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


def summarise(latencies: list[float], errors: int, elapsed: float, total: int) -> dict:
    ordered = sorted(latencies)
    out = {
        "requests": total,
        "errors": errors,
        "seconds": elapsed,
        "throughput_rps": (len(ordered) / elapsed) if elapsed > 0 else 0.0,
    }
    if ordered:
        out.update(
            {
                "median_ms": statistics.median(ordered) * 1e3,
                "p95_ms": ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)] * 1e3,
            }
        )
    return out


async def _run(host, port, raw, total, concurrency, timeout, first_error, budget):
    latencies, errors = [], [0]
    remaining = [total]
    deadline = None if budget is None else time.perf_counter() + budget

    async def worker():
        conn = Connection(host, port)
        first = True
        try:
            while remaining[0] > 0 and (first or deadline is None or time.perf_counter() < deadline):
                first = False
                remaining[0] -= 1
                t0 = time.perf_counter()
                try:
                    status, _headers, body = await asyncio.wait_for(conn.request(raw), timeout)
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
                    errors[0] += 1
                    first_error.setdefault("error", f"{type(exc).__name__}: {exc}")
                    conn.close()
                    continue
                elapsed = time.perf_counter() - t0
                if status != 200 or is_bad(body):
                    errors[0] += 1
                    first_error.setdefault("error", f"HTTP {status}: {body[:300]!r}")
                else:
                    latencies.append(elapsed)
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(min(concurrency, total))))
    return latencies, errors[0], time.perf_counter() - started


def run(
    host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict,
    *,
    total: int,
    concurrency: int,
    timeout: float = 120.0,
    budget: float | None = None,
) -> dict:
    """Send `total` requests with `concurrency` connections; latencies, throughput, errors.
    With a `budget` (seconds), no worker starts a request after it (each sends at least one)."""
    raw = build_request(method, path, body, headers, host, port)
    first_error: dict = {}
    latencies, errors, elapsed = asyncio.run(_run(host, port, raw, total, concurrency, timeout, first_error, budget))
    out = summarise(latencies, errors, elapsed, len(latencies) + errors)  # requests sent
    out["concurrency"] = concurrency
    if first_error:
        out["first_error"] = first_error["error"]
    return out


def once(
    host: str, port: int, method: str, path: str, body: bytes | None, headers: dict, timeout: float = 120.0
) -> tuple[int, dict, bytes]:
    """One request on its own connection (set-up, readiness probes)."""

    async def go():
        conn = Connection(host, port)
        try:
            return await asyncio.wait_for(conn.request(build_request(method, path, body, headers, host, port)), timeout)
        finally:
            conn.close()

    return asyncio.run(go())
