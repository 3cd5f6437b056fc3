"""Discovery over HTTP (issue 19): `find_tools` and the meta-tools `tools/list` against the ping floor.

For each project size N (default 500, then 10), in one run:

1. writes the side-by-side project (`project.py`: N admin models, about eight tools each), sets
   up this package's database (a few rows: `find_tools` reads no rows) and mints a key;
2. starts two uvicorn servers on 127.0.0.1, as `run.py` does: the floor (the project without
   `django_mcp`) and this package, with `DJANGO_MCP_DISCOVERY = "auto"` (a superuser may use
   thousands of tools, so is listed the meta-tools);
3. as a client (initialize once), measures in interleaved rounds, one request at a time on a
   keep-alive connection each: the ping floor (`/floor/auth/ping/`: a bearer-token lookup and a
   JSON answer, on the floor server, as `run.py` defines it; and the same view on this
   package's server), `tools/call` of `find_tools` (a query naming one generated model,
   `limit` 10) and `tools/list` (the meta-tools answer).

Ratios are of the medians and of the p90s, measured in the same run; nothing here asserts a
time. Bounded: `--rounds` rounds or `--budget` seconds per size, whichever ends first.

    .venv/bin/python bench/sidebyside/discovery.py                 # N = 500 and 10; a few minutes
    .venv/bin/python bench/sidebyside/discovery.py --sizes 500 --rounds 200

Writes `discovery.json` to --out (default bench/sidebyside/results/) and prints a table. Only
the servers this script started are stopped (by PID); its temporary directory is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import loadgen  # noqa: E402
import project  # noqa: E402
import run as sidebyside  # noqa: E402

QUERY = project.FIND_QUERY
OPS = ["ping floor (floor server)", "ping floor (same server)", "find_tools, limit 10", "tools/list (meta-tools)"]


def p90(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def summary(seconds: list[float]) -> dict:
    ms = [s * 1e3 for s in seconds]
    return {"n": len(ms), "median_ms": statistics.median(ms), "p90_ms": p90(ms), "min_ms": min(ms)}


async def interleaved(requests: dict, rounds: int, warmup: int, budget: float) -> tuple[dict, dict]:
    """op -> latencies (s); the requests of each op on a connection of its own, one round =
    each op once, in a rotating order (no op always follows another)."""
    conns = {op: loadgen.Connection("127.0.0.1", port) for op, (port, _raw) in requests.items()}
    latencies = {op: [] for op in requests}
    replies = {}
    ops = list(requests)
    deadline = None
    try:
        for i in range(warmup + rounds):
            if i == warmup:
                deadline = time.perf_counter() + budget
            elif deadline is not None and time.perf_counter() > deadline:
                break
            shift = i % len(ops)
            for op in ops[shift:] + ops[:shift]:
                _port, raw = requests[op]
                t0 = time.perf_counter()
                status, _headers, body = await asyncio.wait_for(conns[op].request(raw), 60)
                elapsed = time.perf_counter() - t0
                if status != 200 or loadgen.is_bad(body):
                    raise RuntimeError(f"{op}: HTTP {status}: {body[:400]!r}")
                replies[op] = body
                if i >= warmup:
                    latencies[op].append(elapsed)
    finally:
        for conn in conns.values():
            conn.close()
    return latencies, replies


def measure(n: int, args, python: Path, work: Path) -> dict:
    proj_work = work / f"n{n}"
    proj_dir = proj_work / "project"
    info = project.write_project(proj_dir, n)
    site = sidebyside.Site("ours", python, proj_dir, proj_work, work / "cache")
    site.env["BENCH_MCP_DISCOVERY"] = "auto"
    t0 = time.time()
    site.setup(args.rows)
    sidebyside.log(f"N = {n}: project set up in {time.time() - t0:.0f} s; starting the servers")
    # the model the query names: one in the middle, not the measured one
    target = info["models"][len(info["models"]) // 2]
    query = QUERY.format(lower=target.lower())
    servers = {
        "floor": sidebyside.Server("floor", site, proj_work, with_mcp=False),
        "ours": sidebyside.Server("ours", site, proj_work),
    }
    out = {"models": n, "query": query, "target_model": target}
    try:
        for server in servers.values():
            server.wait_ready()
        servers["ours"].handshake("ours")
        floor_headers = {"Authorization": f"Bearer {site.floor_token}"}
        mcp_headers = servers["ours"].headers

        def raw(server, path, body, headers):
            return server.port, loadgen.build_request(
                "POST", path, json.dumps(body).encode(), headers, "127.0.0.1", server.port
            )

        requests = {
            OPS[0]: raw(servers["floor"], "/floor/auth/ping/", {}, floor_headers),
            OPS[1]: raw(servers["ours"], "/floor/auth/ping/", {}, floor_headers),
            OPS[2]: raw(
                servers["ours"],
                "/mcp/",
                {
                    "jsonrpc": "2.0",
                    "id": 7,
                    "method": "tools/call",
                    "params": {"name": "find_tools", "arguments": {"query": query, "limit": 10}},
                },
                mcp_headers,
            ),
            OPS[3]: raw(
                servers["ours"], "/mcp/", {"jsonrpc": "2.0", "id": 8, "method": "tools/list", "params": {}}, mcp_headers
            ),
        }
        latencies, replies = asyncio.run(interleaved(requests, args.rounds, args.warmup, args.budget))
        out["rss_mb"] = {kind: server.rss() for kind, server in servers.items()}
    finally:
        for server in servers.values():
            server.stop()
    listed = json.loads(replies[OPS[3]])["result"]["tools"]
    found = json.loads(replies[OPS[2]])["result"]
    found_names = [t["name"] for t in (found.get("structuredContent") or {}).get("tools", [])]
    out["tools_list_names"] = [t["name"] for t in listed]
    out["find_tools_top"] = found_names[:5]
    out["find_tools_matches"] = len(found_names)
    out["bytes"] = {op: len(body) for op, body in replies.items()}
    out["ops"] = {op: summary(values) for op, values in latencies.items()}
    floor = out["ops"][OPS[0]]
    same = out["ops"][OPS[1]]
    for op in OPS[2:]:
        row = out["ops"][op]
        row["ratio_median"] = row["median_ms"] / floor["median_ms"]
        row["ratio_p90"] = row["p90_ms"] / floor["p90_ms"]
        row["beyond_floor_median_ms"] = row["median_ms"] - floor["median_ms"]
        row["ratio_median_same_server"] = row["median_ms"] / same["median_ms"]
        row["ratio_p90_same_server"] = row["p90_ms"] / same["p90_ms"]
    return out


def render(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"# Discovery over HTTP ({results['started']}, commit {m.get('commit', '?')})",
        "",
        f"load average at start {tuple(round(x, 2) for x in m['load_average'])}, at end "
        f"{tuple(round(x, 2) for x in results['load_average_end'])}; {m['cpus']} CPUs",
        "",
    ]
    for n, size in results["sizes"].items():
        lines += [
            f"## N = {n}: query {size['query']!r}; top: {', '.join(size['find_tools_top'][:3])}; "
            f"tools/list lists {', '.join(size['tools_list_names'])}",
            "",
            "| request | n | median | p90 | × ping floor (median / p90) | beyond the floor (median) | × same-server ping | bytes |",  # noqa: E501
            "|---|---|---|---|---|---|---|---|",
        ]
        for op, row in size["ops"].items():
            ratio = same = beyond = ""
            if "ratio_median" in row:
                ratio = f"**{row['ratio_median']:.2f}× / {row['ratio_p90']:.2f}×**"
                beyond = f"+{row['beyond_floor_median_ms']:.2f} ms"
                same = f"{row['ratio_median_same_server']:.2f}× / {row['ratio_p90_same_server']:.2f}×"
            lines.append(
                f"| {op} | {row['n']} | {row['median_ms']:.2f} ms | {row['p90_ms']:.2f} ms | {ratio} | {beyond} | {same} "  # noqa: E501
                f"| {size['bytes'][op]} |"
            )
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,10", help="comma-separated model counts (default 500,10)")
    parser.add_argument("--rows", type=int, default=200, help="rows in the measured model (default 200)")
    parser.add_argument("--rounds", type=int, default=300, help="measured rounds per size (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="rounds before measuring (default 20)")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds of measured rounds per size, at most")
    parser.add_argument("--ours-venv", type=Path, default=sidebyside.ROOT / ".venv")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    python = sidebyside.venv_python(args.ours_venv.resolve())
    if not python.exists():
        sys.exit(f"no virtualenv at {args.ours_venv}")
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="django-mcp-discovery-"))
    settings = {k: v for k, v in vars(args).items() if k in ("rows", "rounds", "warmup", "budget")}
    results = {
        "machine": sidebyside.machine(),
        "settings": settings,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "sizes": {},
    }
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            results["sizes"][str(n)] = measure(n, args, python, work)
            row = results["sizes"][str(n)]["ops"]
            sidebyside.log(
                f"N = {n}: "
                + ", ".join(
                    f"{op} {r['median_ms']:.2f} ms"
                    + (f" ({r['ratio_median']:.2f}× / p90 {r['ratio_p90']:.2f}×)" if "ratio_median" in r else "")
                    for op, r in row.items()
                )
            )
    finally:
        for proc in list(sidebyside._children):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)
    results["load_average_end"] = os.getloadavg()
    (args.out / "discovery.json").write_text(json.dumps(results, indent=2))
    text = render(results)
    print(text)


if __name__ == "__main__":
    main()
