"""What a flood of hostile anonymous bodies costs the authenticated requests of the same worker.

    .venv/bin/python bench/anonymous_flood.py [--requests 200] [--rounds 3] [--flooders 2]
        [--rate 0] [--nice] [--target app|floor] [--max-bodies 20000]

A scratch copy of the demo (its own SQLite database and engine cache under a temporary
directory) is served on 127.0.0.1 by one uvicorn worker. One client with a key retrieves a
book (`tools/call get_library_book`) `--requests` times in a row, alone, then again while
`--flooders` threads post bodies of 4 MiB of control characters without a credential, each
over its own connection; the two phases alternate `--rounds` times so drift falls on both.
The flood runs from before the flooded phase's first retrieve to after its last.

Pacing: `--rate 0` floods as fast as the threads go (each body as soon as the last one was
answered or refused), so a cheaper refusal draws more bodies per second; `--rate N` sends N
bodies per second in all. `--nice` lowers the flood threads' priority (nice 19), so that the
load generator's own CPU on this machine's cores is not charged to the server.

`--target floor` sends the flood to a second uvicorn process serving `refuse_at_once`, which
answers every request 413 without reading it: the measured worker gets none of the flood, so
the ratio is what the flood costs on this machine whatever the worker does (the floor).

Floor-relative: the figure is the ratio of the authenticated retrieve's median (and p90) latency
under the flood to the same latency alone, on the same server. Besides it: hostile bodies per
second, the CPU the flood's target spent per body (from /proc, beyond what it spent on the
same retrieves alone), the flood threads' own CPU per body, the outcomes of the hostile
requests (an HTTP status, or the error a client saw when the server answered and closed before
the body was sent) and the load average before and after. Only the uvicorn processes this
script started are stopped, by their PIDs.
"""

import argparse
import contextlib
import http.client
import json
import os
import resource
import statistics
import threading
import time
from collections import Counter
from pathlib import Path

import scratch
from servers import DEMO, uvicorn

HERE = Path(__file__).resolve().parent
HOSTILE_BODY = b"\x01" * (4 * 1024 * 1024)
RETRIEVE = json.dumps(
    {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "get_library_book", "arguments": {"pk": 1}}}
).encode()
REFUSAL = b'{"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "Request body too large"}}'


async def refuse_at_once(scope, receive, send):
    """The floor's flood target: every request answered 413 before any of its body is read."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(REFUSAL)),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": REFUSAL})


def retrieve_latencies(port, credential, count):
    """Seconds each of `count` authenticated retrieves took, over one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {credential}"}
    latencies = []
    try:
        for _ in range(count):
            started = time.perf_counter()
            connection.request("POST", "/mcp/", RETRIEVE, headers)
            response = connection.getresponse()
            body = response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 200 or b'"isError":false' not in body:
                raise RuntimeError(f"retrieve failed: HTTP {response.status} {body[:200]!r}")
    finally:
        connection.close()
    return latencies


class Flood:
    """Threads posting hostile anonymous bodies until stopped or `budget` bodies are sent,
    `rate` bodies per second in all (0: as fast as they go)."""

    def __init__(self, port, threads, budget, rate, nice):
        self.port, self.budget, self.nice = port, budget, nice
        self.interval = threads / rate if rate else 0.0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sent = 0
        self.cpu_seconds = 0.0
        self.outcomes = Counter()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self):
        self.started = time.perf_counter()
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)
        self.seconds = time.perf_counter() - self.started

    def _take(self):
        with self.lock:
            if self.stop.is_set() or self.sent >= self.budget:
                return False
            self.sent += 1
            return True

    def _run(self):
        if self.nice:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # this thread only
        start = resource.getrusage(resource.RUSAGE_THREAD)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        due = time.perf_counter()
        try:
            while self._take():
                try:
                    connection.request("POST", "/mcp/", HOSTILE_BODY, {"Content-Type": "application/json"})
                    response = connection.getresponse()
                    response.read()
                    outcome = response.status
                    if response.getheader("Connection", "").lower() == "close":
                        connection.close()
                except (OSError, http.client.HTTPException) as exc:  # the server may close early
                    outcome = type(exc).__name__
                    connection.close()
                with self.lock:
                    self.outcomes[outcome] += 1
                if self.interval:
                    # No catching up after a slow body: at most the rate, never a burst.
                    due = max(due + self.interval, time.perf_counter() - self.interval)
                    self.stop.wait(max(0.0, due - time.perf_counter()))
        finally:
            connection.close()
            end = resource.getrusage(resource.RUSAGE_THREAD)
            with self.lock:
                self.cpu_seconds += end.ru_utime - start.ru_utime + end.ru_stime - start.ru_stime


def cpu_seconds(pid):
    """User plus system CPU of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(latencies):
    ordered = sorted(latencies)
    return {"median_ms": statistics.median(ordered) * 1000, "p90_ms": ordered[int(len(ordered) * 0.9)] * 1000}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="authenticated retrieves per phase")
    parser.add_argument("--rounds", type=int, default=3, help="alone / flooded phase pairs")
    parser.add_argument("--flooders", type=int, default=2, help="threads posting hostile bodies")
    parser.add_argument("--rate", type=float, default=0, help="hostile bodies per second in all; 0: as fast as they go")
    parser.add_argument("--nice", action="store_true", help="run the flood threads at nice 19")
    parser.add_argument(
        "--target",
        choices=("app", "floor"),
        default="app",
        help="flood the measured worker, or a separate process that refuses at once",
    )
    parser.add_argument("--max-bodies", type=int, default=20000, help="hostile bodies per flooded phase, at most")
    args = parser.parse_args()

    workdir, env = scratch.for_servers("django-mcp-flood-")
    credential = scratch.seeded(env, "flood")
    load_before = os.getloadavg()
    with contextlib.ExitStack() as stack:
        server, port = stack.enter_context(uvicorn("demo_project.asgi:application", DEMO, env, workdir / "server.log"))
        if args.target == "floor":
            floor = uvicorn("anonymous_flood:refuse_at_once", HERE, env, workdir / "floor.log", "--lifespan", "off")
            flood_target, flood_port = stack.enter_context(floor)
        else:
            flood_target, flood_port = server, port
        retrieve_latencies(port, credential, 50)  # warm-up: the engine compiled and loaded
        alone, flooded, outcomes = [], [], Counter()
        bodies = flood_seconds = flood_cpu = target_cpu = 0.0
        for _ in range(args.rounds):
            target_cpu_before = cpu_seconds(flood_target.pid)
            alone += retrieve_latencies(port, credential, args.requests)
            target_cpu -= cpu_seconds(flood_target.pid) - target_cpu_before  # its share of the retrieves
            target_cpu_before = cpu_seconds(flood_target.pid)
            with Flood(flood_port, args.flooders, args.max_bodies, args.rate, args.nice) as flood:
                time.sleep(0.2)  # the flood under way before the measured requests start
                flooded += retrieve_latencies(port, credential, args.requests)
                if flood.sent >= args.max_bodies:
                    raise RuntimeError("the flood ran out of bodies before the phase ended: raise --max-bodies")
            target_cpu += cpu_seconds(flood_target.pid) - target_cpu_before
            outcomes += flood.outcomes
            bodies += flood.sent
            flood_seconds += flood.seconds
            flood_cpu += flood.cpu_seconds
    quiet, loud = summary(alone), summary(flooded)
    result = {
        "alone": quiet,
        "flooded": loud,
        "ratio_median": loud["median_ms"] / quiet["median_ms"],
        "ratio_p90": loud["p90_ms"] / quiet["p90_ms"],
        "hostile_bodies": int(bodies),
        "hostile_per_second": bodies / flood_seconds,
        "target_cpu_ms_per_body": 1000 * target_cpu / bodies,
        "flood_cpu_ms_per_body": 1000 * flood_cpu / bodies,
        "hostile_outcomes": {str(k): v for k, v in outcomes.items()},
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "requests_per_phase": args.requests,
        "rounds": args.rounds,
        "flooders": args.flooders,
        "rate": args.rate,
        "nice": args.nice,
        "target": args.target,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
