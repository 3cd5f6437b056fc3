"""Whether a request costs the same at every project size (issue 23): the CPU time of each
part of `initialize`, `ping` and a `tools/list` page, and of the bare view beside them, in
two projects (N = 10 and 500 by default) whose processes run in lockstep.

The side-by-side run measures each size in turn, minutes apart, in wall time: on a shared
machine the load moves more between sizes than a request's cost does. Here one process per
size answers through the project's ASGI application in process (as `asgi_worker.py`, with
`DJANGO_MCP_THREADS = 8` and `CONN_MAX_AGE = None`), and the driver alternates them every
20 requests, so both see the same machine. Each request's CPU time (the process's, all
threads) and the CPU time of its thread in each timed part (`time.thread_time`, around the
host functions named in PARTS) are kept; the report gives the medians side by side, and
what the cyclic collector took (`gc.callbacks`).

    .venv/bin/python bench/sidebyside/flat.py                    # N = 10 and 500, ~3 minutes
    .venv/bin/python bench/sidebyside/flat.py --sizes 10,100,500 --rounds 30 --out /tmp/flat.json

Only processes this script started are stopped; its temporary directory is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: (module, attribute): host functions timed in each request, on the thread that runs them.
PARTS = [
    ("django_mcp.transport.threads", "_as_a_request"),
    ("django_mcp.transport.http", "_answer"),
    ("django_mcp.transport.http", "authenticate"),
    ("django_mcp.rate_limits", "credential_failures_blocked"),
    ("django_mcp.sessions", "is_valid"),
    ("django_mcp.server", "handle"),
    ("django_mcp.engine", "EngineInstance.step_text"),
    ("django_mcp.effects", "EffectRunner.__call__"),
    ("django_mcp.audit", "record"),
]
OPS = ("bare", "ping", "initialize", "page")
BATCH = 20


def serve(credential: str) -> None:
    """The worker: answers `<count> <op>` lines on stdin with one JSON line of samples (ns)."""
    from asgi_worker import asgi_call
    from worker import PROTOCOL

    from benchproj.asgi import application  # django.setup()

    spent: dict[str, int] = defaultdict(int)
    for module_name, path in PARTS:
        *owners, attr = path.split(".")
        owner = importlib.import_module(module_name)
        for name in owners:
            owner = getattr(owner, name)

        def timed(*args, __original=getattr(owner, attr), __label=path, **kwargs):
            started = time.thread_time_ns()
            try:
                return __original(*args, **kwargs)
            finally:
                spent[__label] += time.thread_time_ns() - started

        setattr(owner, attr, timed)
    collecting = {"since": 0, "spent": 0}

    def on_collection(phase, _info):
        if phase == "start":
            collecting["since"] = time.process_time_ns()
        else:
            collecting["spent"] += time.process_time_ns() - collecting["since"]

    gc.callbacks.append(on_collection)

    loop = asyncio.new_event_loop()
    headers = {"authorization": f"Bearer {credential}", "accept": "application/json, text/event-stream"}
    init = {"protocolVersion": PROTOCOL["ours"], "capabilities": {}, "clientInfo": {"name": "flat", "version": "1"}}

    def post(path, payload, with_headers):
        return loop.run_until_complete(asgi_call(application, path, json.dumps(payload).encode(), with_headers))

    _status, answered, reply = post(
        "/mcp/", {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": init}, headers
    )
    headers["mcp-protocol-version"] = json.loads(reply)["result"]["protocolVersion"]
    if answered.get("mcp-session-id"):
        headers["mcp-session-id"] = answered["mcp-session-id"]
    messages = {"ping": ("ping", {}), "initialize": ("initialize", init), "page": ("tools/list", {})}

    def request(op):
        if op == "bare":
            return post("/floor/bare/ping/", {}, {})
        method, params = messages[op]
        return post("/mcp/", {"jsonrpc": "2.0", "id": 2, "method": method, "params": params}, headers)

    for _ in range(BATCH):
        for op in OPS:
            request(op)
    print("ready", flush=True)
    for line in sys.stdin:
        count, op = line.split()
        samples: dict[str, list[int]] = defaultdict(list)
        for _ in range(int(count)):
            spent.clear()
            collecting["spent"] = 0
            started = time.process_time_ns()
            status, _headers, body = request(op)
            samples["request"].append(time.process_time_ns() - started)
            if status != 200:
                raise SystemExit(f"{op}: HTTP {status} {body[:300]!r}")
            samples["cyclic collector"].append(collecting["spent"])
            for label, value in spent.items():
                samples[label].append(value)
        print(json.dumps(samples), flush=True)


def drive(args) -> dict:
    import project
    from run import Site

    work = Path(tempfile.mkdtemp(prefix="django-mcp-flat-"))
    processes = {}
    try:
        for n in args.sizes:
            proj_dir = work / f"n{n}" / "project"
            project.write_project(proj_dir, n)
            site = Site("ours", Path(sys.executable), proj_dir, work / f"n{n}", work / "cache")
            site.setup(args.rows)
            env = {**site.env, "BENCH_MCP_THREADS": "8", "BENCH_LOG": os.devnull}
            processes[n] = subprocess.Popen(
                [sys.executable, __file__, "--serve", site.credential],
                cwd=proj_dir,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        for n, process in processes.items():
            if process.stdout.readline().strip() != "ready":
                raise SystemExit(f"N = {n}: the worker did not start")
        samples = {n: {op: defaultdict(list) for op in args.ops} for n in args.sizes}
        for round_ in range(args.rounds):
            for op in args.ops:
                for n in args.sizes if round_ % 2 == 0 else args.sizes[::-1]:
                    processes[n].stdin.write(f"{BATCH} {op}\n")
                    processes[n].stdin.flush()
                    for label, values in json.loads(processes[n].stdout.readline()).items():
                        samples[n][op][label].extend(values)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.stdin.close()
                process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)
    return {
        "sizes": args.sizes,
        "rounds": args.rounds,
        "load_average": os.getloadavg(),
        "medians_us": {
            op: {str(n): {label: statistics.median(v) / 1e3 for label, v in samples[n][op].items()} for n in args.sizes}
            for op in args.ops
        },
        "collector_mean_us": {
            op: {str(n): statistics.fmean(samples[n][op]["cyclic collector"]) / 1e3 for n in args.sizes}
            for op in args.ops
        },
    }


def render(result: dict) -> str:
    sizes = [str(n) for n in result["sizes"]]
    lines = [
        f"CPU per request, µs, medians of {result['rounds'] * BATCH} (load average {result['load_average'][0]:.1f})"
    ]
    for op, by_size in result["medians_us"].items():
        lines.append(f"\n{op:36s}" + "".join(f"{'N = ' + n:>11s}" for n in sizes) + "   last − first")
        for label in ["request", *(path for _m, path in PARTS)]:
            values = [by_size[n].get(label) for n in sizes]
            if None in values:
                continue
            lines.append(f"  {label:34s}" + "".join(f"{v:11.1f}" for v in values) + f"{values[-1] - values[0]:+14.1f}")
        means = result["collector_mean_us"][op]
        lines.append(f"  {'cyclic collector (mean)':34s}" + "".join(f"{means[n]:11.1f}" for n in sizes))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,500", help="comma-separated model counts (default 10,500)")
    parser.add_argument("--rows", type=int, default=200, help="rows in the measured model")
    parser.add_argument("--ops", default=",".join(OPS), help=f"of {', '.join(OPS)}")
    parser.add_argument("--rounds", type=int, default=15, help=f"rounds of {BATCH} requests per operation and size")
    parser.add_argument("--out", type=Path, help="also write the medians as JSON here")
    parser.add_argument("--serve", metavar="CREDENTIAL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.ops = args.ops.split(",")
    result = drive(args)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))
    print(render(result))


if __name__ == "__main__":
    main()
