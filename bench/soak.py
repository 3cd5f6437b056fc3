"""Soak: mixed MCP traffic against the demo served by two uvicorn workers, watching errors and
the workers' resident memory.

    .venv/bin/python bench/soak.py [--duration 600] [--concurrency 16] [--interval 5] [--out soak.json]

A scratch copy of the demo (its own SQLite database, media and engine cache under a temporary
directory) is served on 127.0.0.1 by `uvicorn --workers 2`. `--concurrency` client threads, each
with its own keep-alive connection, send a mix of initialize, tools/list, admin list / retrieve /
create / update / delete (tags, created and deleted by the same thread, and book titles),
search, resources/read (objects and a cover file) and prompts/get. Every answer is checked
(HTTP 200, no JSON-RPC error, no tool error); anything else counts as an error and the first
few are kept. Every `--interval` seconds the RSS of each worker process is read from /proc.

The summary gives requests, errors, throughput, latency per operation, each worker's RSS after
the warm-up and at the end, and the slope of RSS over the run after the warm-up (least
squares, KiB per minute); the JSON file has every sample. Not run in CI (Linux only, minutes
long). Only processes this script started are stopped, by their PIDs.
"""

import argparse
import http.client
import json
import os
import random
import signal
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import scratch
from servers import DEMO, uvicorn

#: Relative weights of the operations in the mix.
MIX = {
    "initialize": 1,
    "tools/list": 2,
    "admin list": 4,
    "admin retrieve": 4,
    "admin create+update+delete": 1,
    "admin update": 1,
    "search": 2,
    "resources/read": 2,
    "resources/read file": 1,
    "prompts/get": 1,
}
KEPT_ERRORS = 20


# --- processes and memory -----------------------------------------------------------------


def children(pid):
    """PIDs whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: the ppid follows the last ")".
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid:
            found.append(int(entry))
    return found


def workers(supervisor):
    """uvicorn's worker processes: the supervisor's children started by multiprocessing's
    spawn (its resource tracker, if any, left out)."""
    found = []
    for pid in children(supervisor):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"resource_tracker" not in command:
            found.append(pid)
    return sorted(found)


def rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def slope_per_minute(points):
    """Least-squares slope of (seconds, KiB) points, in KiB per minute; None for < 2 points."""
    if len(points) < 2:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx * 60


# --- traffic --------------------------------------------------------------------------------


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.requests = {}  # operations (a create+update+delete cycle is one)
        self.http_requests = 0
        self.latencies = {}
        self.errors = 0
        self.error_kinds = {}
        self.kept = []

    def ok(self, operation, seconds):
        with self.lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1
            self.latencies.setdefault(operation, []).append(seconds)

    def error(self, operation, kind, detail):
        with self.lock:
            self.requests[operation] = self.requests.get(operation, 0) + 1
            self.errors += 1
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
            if len(self.kept) < KEPT_ERRORS:
                self.kept.append({"t": time.time(), "operation": operation, "kind": kind, "detail": detail[:500]})


class Failed(Exception):
    def __init__(self, kind, detail):
        super().__init__(detail)
        self.kind = kind


class Client:
    """One thread's keep-alive connection and its share of the mix."""

    def __init__(self, url, credential, seed, stats):
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname, parts.port, parts.path
        self.headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {credential}",
        }
        self.random = random.Random(seed)
        self.seed = seed
        self.stats = stats
        self.connection = None
        self.ids = 0
        self.made = 0

    def post(self, method, params):
        self.ids += 1
        with self.stats.lock:
            self.stats.http_requests += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self.ids, "method": method, "params": params})
        for attempt in (1, 2):  # a keep-alive connection the server closed is reopened once
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.connection.request("POST", self.path, body, self.headers)
                response = self.connection.getresponse()
                content = response.read()
                break
            except (http.client.HTTPException, OSError) as exc:
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise Failed("connection", repr(exc)) from None
        if response.status != 200:
            raise Failed(f"http {response.status}", content.decode(errors="replace"))
        reply = json.loads(content)
        if "error" in reply:
            raise Failed(f"jsonrpc {reply['error'].get('code')}", json.dumps(reply["error"]))
        result = reply["result"]
        if isinstance(result, dict) and result.get("isError"):
            raise Failed("tool error", json.dumps(result.get("content"))[:500])
        return result

    def call(self, name, arguments):
        return self.post("tools/call", {"name": name, "arguments": arguments})

    def run_one(self, operation):
        r = self.random
        if operation == "initialize":
            self.post(
                "initialize",
                {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "soak", "version": "1"}},
            )
        elif operation == "tools/list":
            self.post("tools/list", {})
        elif operation == "admin list":
            arguments = {"page": r.randint(1, 3), "page_size": r.choice([10, 25, 50])}
            if r.random() < 0.5:
                arguments["filters"] = {"status": r.choice(["draft", "published", "archived"])}
            if r.random() < 0.3:
                arguments["q"] = r.choice(["the", "volume", "engines", "x"])
            self.call("list_library_book", arguments)
        elif operation == "admin retrieve":
            if r.random() < 0.8:
                self.call("get_library_book", {"pk": r.randint(1, 60)})
            else:
                self.call("get_library_author", {"pk": r.randint(1, 3)})
        elif operation == "admin create+update+delete":
            self.made += 1
            slug = f"soak-{self.seed}-{self.made}"
            created = self.call("create_library_tag", {"name": slug, "slug": slug})["structuredContent"]["object"]
            self.call("update_library_tag", {"pk": created["id"], "fields": {"name": slug + " (updated)"}})
            self.call("delete_library_tag", {"pk": created["id"]})
        elif operation == "admin update":
            pk = r.randint(1, 60)
            self.call("update_library_book", {"pk": pk, "fields": {"summary": f"soak {self.seed} {self.ids}"}})
        elif operation == "search":
            self.call(
                "search_library_book",
                {"q": r.choice(["the", "volume", "compilers", "a"]), "page_size": r.choice([5, 20])},
            )
        elif operation == "resources/read":
            self.post("resources/read", {"uri": f"django-mcp://model/library.Book/{r.randint(1, 60)}"})
        elif operation == "resources/read file":
            self.post("resources/read", {"uri": f"django-mcp://field/library.Book/{r.choice(self.covered)}/cover"})
        elif operation == "prompts/get":
            self.post(
                "prompts/get",
                {
                    "name": "mark_published_library_book",
                    "arguments": {"pks": f"{r.randint(1, 60)}, {r.randint(1, 60)}"},
                },
            )
        else:
            raise ValueError(operation)

    def loop(self, deadline, stop):
        operations = [op for op, weight in MIX.items() for _ in range(weight)]
        while time.monotonic() < deadline and not stop.is_set():
            operation = self.random.choice(operations)
            started = time.perf_counter()
            try:
                self.run_one(operation)
            except Failed as failure:
                self.stats.error(operation, failure.kind, str(failure))
            except Exception as exc:  # a bug in the client or an unreadable answer: counted too
                self.stats.error(operation, type(exc).__name__, repr(exc))
            else:
                self.stats.ok(operation, time.perf_counter() - started)
        if self.connection is not None:
            self.connection.close()


# --- the run --------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of traffic (default 600)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--interval", type=float, default=5, help="seconds between RSS samples")
    parser.add_argument("--warmup", type=float, default=30, help="seconds before the warm-up RSS is taken")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, help="JSON results (default: soak.json in the scratch directory)")
    parser.add_argument(
        "--sqlite-deferred",
        action="store_true",
        help="keep SQLite's default deferred transactions: two workers' concurrent writes then fail "
        "with 'database is locked' (by default the run uses IMMEDIATE ones, as a multi-process "
        "SQLite deployment should)",
    )
    args = parser.parse_args()

    workdir, env = scratch.for_servers("django-mcp-soak-")
    out = args.out or workdir / "soak.json"
    # The demo's settings, but SQLite transactions that take the write lock when they begin:
    # with deferred ones (SQLite's default), a write that read first cannot wait for the other
    # worker's lock and fails at once with "database is locked".
    (workdir / "soak_settings.py").write_text(
        "from demo_project.settings import *  # noqa: F401,F403\n"
        + (
            ""
            if args.sqlite_deferred
            else 'DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 30}\n'
        )
    )
    env["DJANGO_SETTINGS_MODULE"] = "soak_settings"
    env["PYTHONPATH"] = os.pathsep.join([str(workdir), env["PYTHONPATH"]])
    print(f"scratch directory: {workdir}")
    credential = scratch.seeded(env, "soak")

    seen_workers = set()
    served = uvicorn("demo_project.asgi:application", DEMO, env, workdir / "server.log", "--workers", str(args.workers))
    try:
        with served as (server, port):
            url = f"http://127.0.0.1:{port}/mcp/"
            deadline_workers = time.monotonic() + 60
            while len(workers(server.pid)) < args.workers and time.monotonic() < deadline_workers:
                time.sleep(0.2)
            started_workers = workers(server.pid)
            seen_workers.update(started_workers)
            print(f"uvicorn supervisor {server.pid}, workers {started_workers}, {url}")

            probe = Client(url, credential, seed=-1, stats=Stats())
            listed = probe.call("list_library_book", {"page_size": 60})["structuredContent"]["results"]
            covered = []
            for row in listed:
                try:
                    probe.post("resources/read", {"uri": f"django-mcp://field/library.Book/{row['id']}/cover"})
                    covered.append(row["id"])
                except Failed:
                    pass
                if len(covered) >= 5:
                    break
            assert covered, "no book with a cover"

            stats = Stats()
            stop = threading.Event()
            begin = time.monotonic()
            deadline = begin + args.duration
            clients = [Client(url, credential, seed=i, stats=stats) for i in range(args.concurrency)]
            threads = []
            for client in clients:
                client.covered = covered
                thread = threading.Thread(target=client.loop, args=(deadline, stop), daemon=True)
                thread.start()
                threads.append(thread)

            samples = []  # {"t", "requests", "errors", "rss_kib": {pid: KiB}}
            try:
                while time.monotonic() < deadline and any(t.is_alive() for t in threads):
                    now = time.monotonic() - begin
                    pids = workers(server.pid)
                    seen_workers.update(pids)
                    with stats.lock:
                        done, errors = sum(stats.requests.values()), stats.errors
                    sample = {
                        "t": round(now, 1),
                        "requests": done,
                        "errors": errors,
                        "rss_kib": {str(pid): rss_kib(pid) for pid in pids},
                    }
                    samples.append(sample)
                    total = sum(v for v in sample["rss_kib"].values() if v)
                    print(
                        f"  t={now:6.0f}s requests={done:7d} errors={errors:5d} "
                        f"rss={' '.join(f'{p}:{v / 1024:.1f}MiB' for p, v in sample['rss_kib'].items() if v)} "
                        f"total={total / 1024:.1f}MiB",
                        flush=True,
                    )
                    time.sleep(min(args.interval, max(0.0, deadline - time.monotonic())))
            except KeyboardInterrupt:
                print("interrupted: stopping the clients")
            finally:
                stop.set()
                for thread in threads:
                    thread.join(timeout=90)
            elapsed = time.monotonic() - begin
            final_pids = workers(server.pid)
            samples.append(
                {
                    "t": round(elapsed, 1),
                    "requests": sum(stats.requests.values()),
                    "errors": stats.errors,
                    "rss_kib": {str(pid): rss_kib(pid) for pid in final_pids},
                }
            )
    finally:
        stop_leftover_workers(seen_workers)

    summary = summarise(args, stats, samples, elapsed, started_workers, seen_workers)
    out.write_text(json.dumps({"summary": summary, "samples": samples, "errors_kept": stats.kept}, indent=2))
    print_summary(summary)
    print(f"\nJSON: {out}")
    return 0 if summary["errors"] == 0 else 1


def summarise(args, stats, samples, elapsed, started_workers, seen_workers):
    after_warmup = [s for s in samples if s["t"] >= args.warmup] or samples[-1:]
    per_worker = {}
    for pid in sorted({p for s in samples for p in s["rss_kib"]}, key=int):
        points = [(s["t"], s["rss_kib"][pid]) for s in after_warmup if s["rss_kib"].get(pid)]
        if not points:
            continue
        per_worker[pid] = {
            "rss_warm_mib": round(points[0][1] / 1024, 1),
            "rss_end_mib": round(points[-1][1] / 1024, 1),
            "rss_max_mib": round(max(v for _t, v in points) / 1024, 1),
            "slope_kib_per_min": _rounded(slope_per_minute(points)),
        }
    totals = [(s["t"], sum(v for v in s["rss_kib"].values() if v)) for s in after_warmup]
    latency = {
        op: {
            "count": len(values),
            "p50_ms": round(statistics.median(values) * 1e3, 1),
            "p95_ms": round(sorted(values)[max(0, int(len(values) * 0.95) - 1)] * 1e3, 1),
        }
        for op, values in sorted(stats.latencies.items())
    }
    requests = sum(stats.requests.values())
    return {
        "duration_s": round(elapsed, 1),
        "concurrency": args.concurrency,
        "workers": args.workers,
        "sqlite_transactions": "deferred" if args.sqlite_deferred else "immediate",
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1) if elapsed else None,
        "http_requests": stats.http_requests,
        "errors": stats.errors,
        "error_kinds": stats.error_kinds,
        "per_operation": stats.requests,
        "latency": latency,
        "rss_per_worker": per_worker,
        "rss_total_warm_mib": round(totals[0][1] / 1024, 1) if totals else None,
        "rss_total_end_mib": round(totals[-1][1] / 1024, 1) if totals else None,
        "rss_total_slope_kib_per_min": _rounded(slope_per_minute(totals)),
        "worker_pids_at_start": started_workers,
        "worker_pids_seen": sorted(seen_workers),
        "worker_restarts": len(seen_workers - set(started_workers)),
    }


def _rounded(value):
    return None if value is None else round(value, 1)


def print_summary(summary):
    print("\nsummary")
    print(
        f"  {summary['requests']} operations ({summary['http_requests']} HTTP requests) in {summary['duration_s']} s "
        f"({summary['requests_per_s']} operations/s), concurrency {summary['concurrency']}, {summary['workers']} workers, "  # noqa: E501
        f"SQLite transactions {summary['sqlite_transactions']}"
    )
    print(f"  errors: {summary['errors']} {summary['error_kinds'] or ''}")
    print(f"  worker restarts: {summary['worker_restarts']}")
    for pid, worker in summary["rss_per_worker"].items():
        print(
            f"  worker {pid}: RSS {worker['rss_warm_mib']} MiB after warm-up -> {worker['rss_end_mib']} MiB at the "
            f"end (max {worker['rss_max_mib']}), slope {worker['slope_kib_per_min']} KiB/min"
        )
    print(
        f"  all workers: {summary['rss_total_warm_mib']} -> {summary['rss_total_end_mib']} MiB, "
        f"slope {summary['rss_total_slope_kib_per_min']} KiB/min"
    )
    print(f"  {'operation':<28}{'count':>8}{'p50':>9}{'p95':>9}")
    for op, lat in summary["latency"].items():
        print(f"  {op:<28}{lat['count']:>8}{lat['p50_ms']:>7.1f}ms{lat['p95_ms']:>7.1f}ms")


def stop_leftover_workers(worker_pids):
    """Once uvicorn is stopped, any of its workers still alive, by PID."""
    for pid in worker_pids:
        try:
            os.kill(pid, 0)
        except OSError:
            continue
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes().find(b"multiprocessing") >= 0:
                os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
