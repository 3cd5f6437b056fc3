"""In-process measurements of one package against the floor, in one generated project.

Run by `run.py` with the interpreter of the package's own virtualenv and the project's
environment (DJANGO_SETTINGS_MODULE, BENCH_DB, ...). Calls go through Django's test client,
as JSON-RPC POSTs to /mcp/ with the package's bearer key — what a real client sends —
interleaved with the floor views so that a noisy neighbour slows every variant alike.

Per operation, four variants:
  pkg         the package, through /mcp/
  floor_auth  a bare view doing the same ORM work, authenticating a bearer token first
  floor       the same view without authentication
  orm         the ORM work alone (no request, no response)

Prints nothing but errors; writes one JSON document to --out.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import pstats
import re
import statistics
import sys
import time

PROTOCOL = {"ours": "2025-11-25", "original": "2025-03-26"}
#: A tools/list page's `nextCursor` string (a null or absent one does not match).
NEXT_CURSOR = re.compile(rb'"nextCursor":\s*("(?:[^"\\]|\\.)*")')
FIELDS = {
    "name": "bench thing",
    "notes": "written by the bench",
    "qty": 3,
    "price": "12.50",
    "active": True,
    "day": "2024-05-01",
    "status": "review",
    "ref": 5,
    "email": "bench@example.com",
}


def tool_names(kind, measured):
    lower = measured.lower()
    if kind == "ours":
        return {
            "list": f"list_gen_{lower}",
            "get": f"get_gen_{lower}",
            "create": f"create_gen_{lower}",
            "update": f"update_gen_{lower}",
            "action": f"mark_active_gen_{lower}",
            "drf_list": f"list_api_{lower}",
            "drf_get": f"get_api_{lower}",
        }
    return {
        "list": f"admin.list:gen.{measured}",
        "get": f"admin.retrieve:gen.{measured}",
        "create": f"admin.create:gen.{measured}",
        "update": f"admin.update:gen.{measured}",
        "action": f"admin.action:gen.{measured}.mark_active",
        "drf_list": f"view.list:gen.api.{measured}ViewSet",
        "drf_get": f"view.retrieve:gen.api.{measured}ViewSet",
    }


def stats(samples):
    if not samples:
        return None
    ordered = sorted(samples)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "median_ms": statistics.median(ordered) * 1e3,
        "p95_ms": p95 * 1e3,
        "mean_ms": statistics.fmean(ordered) * 1e3,
        "n": len(ordered),
    }


class Failure(Exception):
    pass


def interleaved(variants, *, rounds, budget, min_samples, warmup):
    """Call each variant in turn, `rounds` times or until `budget` seconds have passed (but at
    least `min_samples` rounds). A variant is `(call, check)`: only `call` is timed."""
    names = [name for name, _ in variants]
    for _ in range(warmup):
        for _name, (call, check) in variants:
            check(call())
    samples = {name: [] for name in names}
    started = time.perf_counter()
    done = 0
    while done < rounds and (done < min_samples or time.perf_counter() - started < budget):
        for name, (call, check) in variants:
            t0 = time.perf_counter()
            result = call()
            elapsed = time.perf_counter() - t0
            check(result)
            samples[name].append(elapsed)
        done += 1
    return {name: stats(values) for name, values in samples.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", choices=["ours", "original"], required=True)
    parser.add_argument("--measured", required=True)
    parser.add_argument("--credential", required=True)
    parser.add_argument("--floor-token", required=True)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per operation (soft)")
    parser.add_argument("--min-samples", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--profile", help="directory: write a cProfile of each operation there")
    parser.add_argument("--profile-calls", type=int, default=50)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client, RequestFactory

    from gen import api, floor

    kind, names = args.kind, tool_names(args.kind, args.measured)
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {args.credential}", "HTTP_ACCEPT": "application/json, text/event-stream"}
    floor_auth = {"HTTP_AUTHORIZATION": f"Bearer {args.floor_token}"}
    ident = [0]

    def post_mcp(method, params=None):
        ident[0] += 1
        body = json.dumps({"jsonrpc": "2.0", "id": ident[0], "method": method, "params": params or {}})
        return client.post("/mcp/", body, content_type="application/json", **auth)

    # The handshake a client makes once; later requests carry what it negotiated.
    init_params = {
        "protocolVersion": PROTOCOL[kind],
        "capabilities": {},
        "clientInfo": {"name": "side-by-side-bench", "version": "1"},
    }
    first = post_mcp("initialize", init_params)
    if first.status_code != 200:
        raise Failure(f"initialize: HTTP {first.status_code} {first.content[:300]!r}")
    negotiated = json.loads(first.content)["result"]["protocolVersion"]
    auth["HTTP_MCP_PROTOCOL_VERSION"] = negotiated
    if first.headers.get("Mcp-Session-Id"):
        auth["HTTP_MCP_SESSION_ID"] = first.headers["Mcp-Session-Id"]

    def rpc_check(response):
        if response.status_code != 200:
            raise Failure(f"HTTP {response.status_code}: {response.content[:300]!r}")
        reply = json.loads(response.content)
        if "error" in reply or reply.get("result", {}).get("isError"):
            raise Failure(json.dumps(reply)[:600])

    def http_check(response):
        if response.status_code != 200:
            raise Failure(f"HTTP {response.status_code}: {response.content[:300]!r}")

    def call(tool, arguments):
        return lambda: post_mcp("tools/call", {"name": tool, "arguments": arguments})

    def all_pages():
        # The cursor is read off the page's text: decoding every page (~150 KB each) would
        # time the benchmark's own JSON parser, not the server. Each page is decoded and
        # checked afterwards (pages_check), outside the timing.
        pages, cursor = [], None
        for _ in range(10_000):
            response = post_mcp("tools/list", {"cursor": cursor} if cursor else {})
            pages.append(response)
            if response.status_code != 200:
                break
            found = NEXT_CURSOR.search(response.content)
            cursor = json.loads(found[1]) if found else None
            if not cursor:
                break
        return pages

    def pages_check(pages):
        for response in pages:
            rpc_check(response)
        *before, last = [json.loads(r.content)["result"].get("nextCursor") for r in pages]
        if not all(before) or last:
            raise Failure("the cursor read off a page is not its nextCursor")

    def floor_post(mode, op, body):
        text = json.dumps(body)
        extra = floor_auth if mode == "auth" else {}
        return lambda: client.post(f"/floor/{mode}/{op}/", text, content_type="application/json", **extra)

    user = get_user_model().objects.get(username="bench")
    factory = RequestFactory()

    def orm(op, body):
        def run():
            request = factory.post("/", content_type="application/json")
            request.user = user
            return getattr(floor, f"work_{op}")(request, body)

        return run

    measured = getattr(__import__("gen.models", fromlist=[args.measured]), args.measured)
    serializer = getattr(api, f"{args.measured}Serializer")

    def orm_drf_list():
        queryset = measured.objects.all().order_by("pk")
        return {"count": queryset.count(), "results": serializer(queryset[:50], many=True).data}

    def orm_drf_get():
        return serializer(measured.objects.get(pk=pk)).data

    lower = args.measured.lower()
    pk = args.rows // 2 + 7
    update_pk = args.rows // 3 + 11
    pks = list(range(101, 151))
    ok = lambda _result: None  # noqa: E731

    def mcp_op(name, pkg, pkg_check, floor_op, body):
        return name, [
            ("pkg", (pkg, pkg_check)),
            ("floor_auth", (floor_post("auth", floor_op, body), http_check)),
            ("floor", (floor_post("bare", floor_op, body), http_check)),
            ("orm", (orm(floor_op, body), ok)),
        ]

    def drf_op(name, pkg, path, orm_call):
        return name, [
            ("pkg", (pkg, rpc_check)),
            ("floor_auth", (lambda: client.get(path, HTTP_ACCEPT="application/json", **floor_auth), http_check)),
            ("orm", (orm_call, ok)),
        ]

    update_fields = {**FIELDS, "name": "bench thing, updated"}
    operations = [
        mcp_op("initialize", lambda: post_mcp("initialize", init_params), rpc_check, "ping", {}),
        mcp_op("tools/list, one page", lambda: post_mcp("tools/list"), rpc_check, "ping", {}),
        mcp_op("tools/list, all pages", all_pages, pages_check, "ping", {}),
        mcp_op("admin list, 50 rows", call(names["list"], {"page_size": 50}), rpc_check, "list", {"page_size": 50}),
        mcp_op("retrieve", call(names["get"], {"pk": pk}), rpc_check, "retrieve", {"pk": pk}),
        mcp_op("create", call(names["create"], FIELDS), rpc_check, "create", {"fields": FIELDS}),
        mcp_op(
            "update",
            call(names["update"], {"pk": update_pk, "fields": update_fields}),
            rpc_check,
            "update",
            {"pk": update_pk, "fields": update_fields},
        ),
        mcp_op(
            "search, 50 rows",
            call(names["list"], {"q": "alpha", "page_size": 50}),
            rpc_check,
            "list",
            {"q": "alpha", "page_size": 50},
        ),
        mcp_op("action, 50 rows", call(names["action"], {"pks": pks}), rpc_check, "action", {"pks": pks}),
        drf_op(
            "DRF list, 50 rows", call(names["drf_list"], {"page_size": 50}), f"/api/{lower}/?page_size=50", orm_drf_list
        ),
        drf_op("DRF retrieve", call(names["drf_get"], {"path": {"pk": pk}}), f"/api/{lower}/{pk}/", orm_drf_get),
    ]

    results = {"kind": kind, "protocol": negotiated, "ops": {}}
    first_page = json.loads(post_mcp("tools/list").content)["result"]
    tools, pages = len(first_page["tools"]), 1
    for response in all_pages()[1:]:
        tools += len(json.loads(response.content)["result"]["tools"])
        pages += 1
    results["tools"], results["pages"] = tools, pages
    missing = [t for t in names.values() if t not in {x["name"] for x in first_page["tools"]}]
    results["first_page_missing"] = missing  # informative: later pages may hold them

    gc.collect()
    for name, variants in operations:
        heavy = name == "tools/list, all pages"
        warmup = (1 if kind == "ours" else 0) if heavy else args.warmup
        try:
            results["ops"][name] = interleaved(
                variants,
                rounds=args.iterations,
                budget=args.budget,
                min_samples=1 if heavy else args.min_samples,
                warmup=warmup,
            )
        except Failure as exc:
            results["ops"][name] = {"error": str(exc)}
            print(f"[{kind}] {name}: {exc}", file=sys.stderr)

    results["key_verification"] = key_verification(kind, args, floor)
    if kind == "ours":
        results["engine_step_ping_us"] = engine_crossing(args)

    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
        for name, variants in operations:
            pkg = dict(variants)["pkg"][0]
            calls = 1 if name == "tools/list, all pages" and kind == "original" else args.profile_calls
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(calls):
                pkg()
            profile.disable()
            text = io.StringIO()
            stats_ = pstats.Stats(profile, stream=text)
            text.write(f"# {kind}: {name}, {calls} calls\n\n## by cumulative time\n")
            stats_.sort_stats("cumulative").print_stats(40)
            text.write("\n## by own time\n")
            stats_.sort_stats("tottime").print_stats(30)
            slug = "".join(c if c.isalnum() else "-" for c in name).strip("-")
            with open(os.path.join(args.profile, f"{kind}-{slug}.txt"), "w") as out:
                out.write(text.getvalue())

    with open(args.out, "w") as out:
        json.dump(results, out, indent=2)


def key_verification(kind, args, floor):
    """The credential check alone (its query included), against the floor's token lookup."""
    from gen.models import FloorToken

    token = args.floor_token

    def floor_lookup():
        return FloorToken.objects.select_related("user").get(key=token).user

    if kind == "ours":
        from django_mcp.keys import authenticate_credential

        header = f"Bearer {args.credential}"

        def check():
            result = authenticate_credential(header)
            assert result.ok
            return result

        rounds = max(200, args.iterations * 5)
    else:
        from django_mcp.models import MCPAPIKey

        key_id, _, secret = args.credential.partition(".")

        def check():  # what the original's transport does per request (_resolve_key)
            key = MCPAPIKey.objects.filter(key_id=key_id).select_related("user").first()
            assert key.verify_secret(secret)
            return key

        rounds = args.min_samples
    measured = interleaved(
        [("pkg", (check, lambda _r: None)), ("floor_auth", (floor_lookup, lambda _r: None))],
        rounds=rounds,
        budget=args.budget,
        min_samples=args.min_samples,
        warmup=1,
    )

    # The secret check alone, on a key already read (the part a cache of keys cannot save).
    from django_mcp.models import MCPAPIKey

    key_id, _, secret = args.credential.partition(".")
    key = MCPAPIKey.objects.get(key_id=key_id)
    secret_only = interleaved(
        [("pkg", (lambda: key.verify_secret(secret), lambda ok: None))],
        rounds=rounds,
        budget=args.budget,
        min_samples=args.min_samples,
        warmup=1,
    )
    return {"with_query": measured, "secret_only": secret_only["pkg"]}


def engine_crossing(args):
    """One engine step from Python (ping, JSON in and out), as bench/run.py measures it."""
    from django_mcp.engine import EngineInstance
    from django_mcp.server import state

    runtime = state.get_runtime()
    instance = EngineInstance(runtime.compiled, runtime.facts_json())
    ping = {"message": '{"jsonrpc":"2.0","id":1,"method":"ping"}', "context": {}}
    for _ in range(50):
        instance.step(ping)
    samples = []
    for _ in range(max(1000, args.iterations * 10)):
        t0 = time.perf_counter()
        instance.step(ping)
        samples.append(time.perf_counter() - t0)
    return {
        "median_us": statistics.median(samples) * 1e6,
        "p95_us": sorted(samples)[math.ceil(0.95 * len(samples)) - 1] * 1e6,
        "n": len(samples),
    }


if __name__ == "__main__":
    main()
