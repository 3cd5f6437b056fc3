"""Where issue 23's gaps go, in one generated project (run by `run.py --profile`, or by hand
with the project's environment): a new interpreter per part, this package's interpreter.

    --part start    cold start split: Django's setup, facts by kind (timers wrapped around the
                    host's gathering functions: admins with their forms and changelists, models,
                    views, DRF, searches, resources, custom), the engine (compile or cache, an
                    instance, load and derive), the first request; then a cProfile of the same
                    start (top functions by cumulative time)
    --part memory   tracemalloc from before Django's setup to after the first answer: the top
                    allocations by file and by package; resident memory at each point; one
                    more engine instance's resident cost (its linear memory and store)
    --part ping     an MCP `ping` and the ping floor through the test client on the main
                    thread, with a fresh database connection per request (what each request's
                    thread under ASGI pays) and with the connection kept; a cProfile of the
                    fresh-connection pings

Writes JSON to --out and a text report beside it (.txt). Times are wall-clock on a machine
shared with the bench: read them as shares, not as targets.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

T0 = time.perf_counter()

#: (module, attribute, label): the host's gathering and engine steps timed during a start. A
#: name a refactor moved is skipped (the report says which were found).
TIMED = [
    ("django_mcp.facts", "gather", "facts: all"),
    ("django_mcp.facts", "collect_admins", "facts: admins (all)"),
    ("django_mcp.facts.forms", "admin_forms", "facts: admins: forms"),
    ("django_mcp.facts.changelist", "columns", "facts: admins: changelist columns"),
    ("django_mcp.facts.changelist", "filters", "facts: admins: changelist filters"),
    ("django_mcp.facts.changelist", "actions", "facts: admins: changelist actions"),
    ("django_mcp.facts.admin", "privileged_request", "facts: admins: privileged request"),
    ("django_mcp.facts", "model_facts", "facts: models"),
    ("django_mcp.facts", "collect_views", "facts: views"),
    ("django_mcp.facts", "collect_drf", "facts: DRF"),
    ("django_mcp.facts", "searches", "facts: searches"),
    ("django_mcp.facts", "resource_models", "facts: resource models"),
    ("django_mcp.facts.custom", "collect", "facts: custom"),
    ("django_mcp.engine", "CompiledEngine.__init__", "engine: compile or load the cached artifact"),
    ("django_mcp.engine", "EngineInstance.__init__", "engine: an instance (instantiate, load, derive)"),
    ("django_mcp.engine", "EngineInstance.load_text", "engine: load and derive (in the instance)"),
]


def wrap_timers():
    import importlib

    totals, depth, found = defaultdict(float), defaultdict(int), []
    for module_name, path, label in TIMED:
        *owners, attr = path.split(".")
        try:
            owner = importlib.import_module(module_name)
            for name in owners:
                owner = getattr(owner, name)
            original = getattr(owner, attr)
        except (ImportError, AttributeError):
            continue
        found.append(label)

        def timed(*a, __original=original, __label=label, **kw):
            depth[__label] += 1
            t0 = time.perf_counter()
            try:
                return __original(*a, **kw)
            finally:
                depth[__label] -= 1
                if not depth[__label]:
                    totals[__label] += time.perf_counter() - t0

        setattr(owner, attr, timed)
    return totals, found


def first_request(args):
    from django.test import Client

    if os.environ.get("BENCH_WITH_MCP", "1") != "1":  # the floor's process: its first answer
        response = Client().post(
            "/floor/auth/ping/", "{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {args.floor_token}"
        )
        assert response.status_code == 200
        return
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
    response = Client().post(
        "/mcp/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {args.credential}"
    )
    assert response.status_code == 200, response.content[:300]


def rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def top_profile(profile, limit=30, sort="cumulative"):
    text = io.StringIO()
    stats = pstats.Stats(profile, stream=text)
    stats.sort_stats(sort).print_stats(limit)
    return text.getvalue()


def part_start(args):
    import django

    # settings and apps are imported by setup(); the host's modules by its AppConfig
    t_start = time.perf_counter()
    django.setup()
    t_setup = time.perf_counter()
    with_mcp = os.environ.get("BENCH_WITH_MCP", "1") == "1"
    totals, found = wrap_timers() if with_mcp else ({}, [])
    t_request = time.perf_counter()  # the timers' own imports are neither setup nor request
    first_request(args)
    t_first = time.perf_counter()
    out = {
        "with_mcp": with_mcp,
        "interpreter_to_setup_s": t_start - T0,
        "django_setup_s": t_setup - t_start,
        "first_request_s": t_first - t_request,
        "timers_s": dict(totals),
        "timers_found": found,
    }
    return out, None


def part_start_profile(args):
    import django

    profile = cProfile.Profile()
    profile.enable()
    django.setup()
    first_request(args)
    profile.disable()
    return {}, top_profile(profile, 45)


def part_memory(args):
    """With BENCH_WITH_MCP=0 (the floor's process) the first answer is the ping floor's."""
    import tracemalloc

    tracemalloc.start(12)
    rss = {"start": rss_mb()}
    import django

    django.setup()
    rss["after_setup"] = rss_mb()
    with_mcp = os.environ.get("BENCH_WITH_MCP", "1") == "1"
    first_request(args)
    rss["after_first_answer"] = rss_mb()
    # before the snapshot (which holds a copy of every trace); tracemalloc's own share beside it
    smaps = smaps_rss()
    rss["tracemalloc_own_mb"] = tracemalloc.get_tracemalloc_memory() / 2**20
    snapshot = tracemalloc.take_snapshot()
    traced, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    by_file, by_package = defaultdict(int), defaultdict(int)
    for trace in snapshot.traces:
        # the most recent frame outside the import machinery: a module's code objects and
        # globals go to the statement that imported it
        frames = [f for f in reversed(trace.traceback) if not f.filename.startswith("<")] or list(trace.traceback)
        name = frames[0].filename
        by_file[short(name)] += trace.size
        by_package[package_of(name)] += trace.size
    out = {
        "with_mcp": with_mcp,
        "modules": len(sys.modules),
        "rss_mb": rss,
        "tracemalloc_mb": traced / 2**20,
        "tracemalloc_peak_mb": peak / 2**20,
        "by_package_mb": {k: v / 2**20 for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])[:40]},
        "by_file_mb": {k: v / 2**20 for k, v in sorted(by_file.items(), key=lambda kv: -kv[1])[:40]},
    }
    out["smaps_rss_mb"] = smaps
    if with_mcp:
        # one more engine instance: what the process's one instance costs in resident memory
        from django_mcp.engine import EngineInstance
        from django_mcp.server import state

        runtime = state.get_runtime()
        facts = runtime.facts_json()
        before = rss_mb()
        extra = EngineInstance(runtime.compiled, facts)
        rss["one_more_engine_instance_mb"] = rss_mb() - before
        out["facts_json_kb"] = len(facts) / 1024
        del extra
    return out, None


def smaps_rss(top=12):
    """Resident memory by mapping (a file's path, or [heap] / [anon] / ...): native memory
    tracemalloc does not see (wasmtime's compiled code and linear memory, C extensions)."""
    totals, name = defaultdict(int), "?"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if not head:
            continue
        if "-" in head[0] and not head[0].endswith(":"):
            name = head[5] if len(head) > 5 else "[anon]"
            name = short(name) if name.startswith("/") else name
        elif head[0] == "Rss:":
            totals[name] += int(head[1])
    return {k: v / 1024 for k, v in sorted(totals.items(), key=lambda kv: -kv[1])[:top]}


def package_of(filename):
    parts = Path(filename).parts
    for anchor in ("site-packages", "host-python", "project"):
        if anchor in parts:
            rest = parts[parts.index(anchor) + 1 :]
            if not rest:
                break
            if rest[0] == "django" and len(rest) > 2:
                return "/".join(rest[:3]) if rest[1] == "contrib" else "/".join(rest[:2])
            if rest[0] == "django_mcp" and len(rest) > 1:
                return "/".join(rest[:2])
            return rest[0]
    if "lib" in parts and "python3" in "".join(parts):
        return "stdlib"
    return "<other>"


def short(filename):
    for anchor in ("site-packages/", "host-python/", "project/"):
        if anchor in filename:
            return filename.split(anchor, 1)[1]
    return os.path.basename(filename)


def part_ping(args):
    import django

    django.setup()
    from django.db import connections
    from django.test import Client

    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {args.credential}", "HTTP_ACCEPT": "application/json, text/event-stream"}
    floor = {"HTTP_AUTHORIZATION": f"Bearer {args.floor_token}"}
    ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"})
    init = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "b", "version": "1"},
            },
        }
    )
    client.post("/mcp/", init, content_type="application/json", **auth)
    auth["HTTP_MCP_PROTOCOL_VERSION"] = "2025-11-25"

    def mcp():
        r = client.post("/mcp/", ping, content_type="application/json", **auth)
        assert r.status_code == 200, r.content[:200]

    def floor_ping():
        r = client.post("/floor/auth/ping/", "{}", content_type="application/json", **floor)
        assert r.status_code == 200

    def bare_ping():
        r = client.post("/floor/bare/ping/", "{}", content_type="application/json")
        assert r.status_code == 200

    from gen.models import FloorToken

    def warm():
        # an open connection that has read the schema (the test client keeps it between requests)
        FloorToken.objects.filter(key="no such key").exists()

    variants = {
        "mcp ping, fresh connection": (mcp, connections.close_all),
        "floor ping (token), fresh connection": (floor_ping, connections.close_all),
        "bare ping, fresh connection": (bare_ping, connections.close_all),
        "mcp ping, connection kept": (mcp, warm),
        "floor ping (token), connection kept": (floor_ping, warm),
        "bare ping, connection kept": (bare_ping, warm),
    }
    for call, _before in variants.values():
        for _ in range(10):
            call()
    samples = defaultdict(list)
    for _ in range(args.rounds):
        for name, (call, before) in variants.items():
            before()  # untimed: the connection as the variant wants it
            t0 = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - t0)
    out = {"median_ms": {k: statistics.median(v) * 1e3 for k, v in samples.items()}}
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.rounds):
        connections.close_all()
        mcp()
    profile.disable()
    return out, top_profile(profile, 40) + "\n## by own time\n" + top_profile(profile, 25, "tottime")


PARTS = {"start": part_start, "start-profile": part_start_profile, "memory": part_memory, "ping": part_ping}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=list(PARTS), required=True)
    parser.add_argument("--credential", required=True)
    parser.add_argument("--floor-token", default="")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    out, text = PARTS[args.part](args)
    out["part"] = args.part
    Path(args.out).write_text(json.dumps(out, indent=2))
    if text:
        Path(args.out).with_suffix(".txt").write_text(text)


if __name__ == "__main__":
    sys.exit(main())
