"""In process under ASGI: the project's ASGI application called directly, as uvicorn calls it.

Run by `run.py` with this package's interpreter and the project's environment. One request at
a time on one asyncio loop: Django's ASGI handler runs each request's sync view on a thread of
its own (and so opens a database connection per request unless a pool lends one), which is
what this measures and the test client does not show. Per round, interleaved:

  floor_auth  the ping floor: `/floor/auth/ping/`, a bearer-token lookup and a JSON answer
  floor       `/floor/bare/ping/`: the same view without the token query
  initialize, ping, tools/list one page (discovery off), or find_tools (discovery on):
              this package through `/mcp/` with its key, after one `initialize` as a client

With --connection-probe it also times, on the main thread, what a fresh database connection
costs its first query (SQLite parses the schema on a connection's first statement): connect,
the first query and the same query again.

Prints nothing but errors; writes one JSON document to --out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from worker import PROTOCOL, Failure, interleaved


def scope(path: str, body: bytes, headers: dict) -> dict:
    raw = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def asgi_call(application, path: str, body: bytes, headers: dict) -> tuple[int, dict, bytes]:
    """One request as an ASGI server makes it: the body, then a receive that waits for a
    disconnect that never comes (Django cancels it once the response is sent)."""
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Future()

    status, out_headers, chunks = [0], {}, []

    async def send(message):
        if message["type"] == "http.response.start":
            status[0] = message["status"]
            out_headers.update({k.decode().lower(): v.decode() for k, v in message.get("headers", [])})
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await application(scope(path, body, headers), receive, send)
    return status[0], out_headers, b"".join(chunks)


def connection_probe(rounds: int) -> dict:
    """A fresh connection's cost, on this thread: connect, first query, the same query again."""
    from django.db import connection

    from gen.models import FloorToken

    samples = {"connect": [], "first_query": [], "second_query": []}
    for _ in range(rounds):
        connection.close()
        t0 = time.perf_counter()
        connection.ensure_connection()
        t1 = time.perf_counter()
        FloorToken.objects.filter(key="no such key").first()
        t2 = time.perf_counter()
        FloorToken.objects.filter(key="no such key").first()
        t3 = time.perf_counter()
        samples["connect"].append(t1 - t0)
        samples["first_query"].append(t2 - t1)
        samples["second_query"].append(t3 - t2)
    connection.close()
    from worker import stats

    return {name: stats(values) for name, values in samples.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--credential", required=True)
    parser.add_argument("--floor-token", required=True)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--budget", type=float, default=15.0)
    parser.add_argument("--min-samples", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--find-tools", metavar="QUERY", help="measure find_tools with QUERY (discovery on)")
    parser.add_argument("--connection-probe", type=int, default=0, metavar="ROUNDS")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    from benchproj.asgi import application  # django.setup()

    loop = asyncio.new_event_loop()
    auth = {"authorization": f"Bearer {args.credential}", "accept": "application/json, text/event-stream"}
    floor_auth = {"authorization": f"Bearer {args.floor_token}"}
    ident = [0]

    def post(path, payload, headers):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return loop.run_until_complete(asgi_call(application, path, body, headers))

    def rpc(method, params=None):
        ident[0] += 1
        return lambda: post("/mcp/", {"jsonrpc": "2.0", "id": ident[0], "method": method, "params": params or {}}, auth)

    init_params = {
        "protocolVersion": PROTOCOL["ours"],
        "capabilities": {},
        "clientInfo": {"name": "side-by-side-bench", "version": "1"},
    }
    status, headers, reply = rpc("initialize", init_params)()
    if status != 200:
        raise Failure(f"initialize: HTTP {status} {reply[:300]!r}")
    negotiated = json.loads(reply)["result"]["protocolVersion"]
    auth["mcp-protocol-version"] = negotiated
    if headers.get("mcp-session-id"):
        auth["mcp-session-id"] = headers["mcp-session-id"]

    def rpc_check(result):
        status, _headers, body = result
        if status != 200:
            raise Failure(f"HTTP {status}: {body[:300]!r}")
        reply = json.loads(body)
        if "error" in reply or reply.get("result", {}).get("isError"):
            raise Failure(json.dumps(reply)[:600])

    def http_check(result):
        if result[0] != 200:
            raise Failure(f"HTTP {result[0]}: {result[2][:300]!r}")

    floor_variants = [
        ("floor_auth", (lambda: post("/floor/auth/ping/", b"{}", floor_auth), http_check)),
        ("floor", (lambda: post("/floor/bare/ping/", b"{}", {}), http_check)),
    ]
    out = {"protocol": negotiated}
    if args.find_tools:
        find = rpc("tools/call", {"name": "find_tools", "arguments": {"query": args.find_tools, "limit": 10}})
        status, _h, body = find()
        found = json.loads(body)["result"]
        out["find_tools_reply_bytes"] = len(body)
        out["find_tools_top"] = [
            t.get("name") for t in (found.get("structuredContent") or {}).get("tools", [])[:5] if isinstance(t, dict)
        ]
        mcp_variants = [("find_tools", (find, rpc_check)), ("ping", (rpc("ping"), rpc_check))]
    else:
        status, _h, page = rpc("tools/list")()
        out["tools_list_page_bytes"] = len(page)
        out["tools_list_page_tools"] = len(json.loads(page)["result"]["tools"])
        mcp_variants = [
            ("initialize", (rpc("initialize", init_params), rpc_check)),
            ("ping", (rpc("ping"), rpc_check)),
            ("tools/list, one page", (rpc("tools/list"), rpc_check)),
        ]
    try:
        out["ops"] = interleaved(
            floor_variants + mcp_variants,
            rounds=args.iterations,
            budget=args.budget,
            min_samples=args.min_samples,
            warmup=args.warmup,
        )
    except Failure as exc:
        out["error"] = str(exc)
        print(f"[asgi] {exc}", file=sys.stderr)
    if args.connection_probe:
        out["connection_probe"] = connection_probe(args.connection_probe)
    loop.close()
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
