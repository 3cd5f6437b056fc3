"""What a flood of hostile anonymous bodies costs the authenticated requests of the same worker.

    .venv/bin/python bench/anonymous_flood.py [--requests 300] [--rounds 3] [--flooders 2] [--max-bodies 400]

A scratch copy of the demo (its own SQLite database and engine cache under a temporary
directory) is served on 127.0.0.1 by one uvicorn worker. One client with a key retrieves a
book (`tools/call get_library_book`) `--requests` times in a row, alone, then again while
`--flooders` threads post bodies of 4 MiB of control characters without a credential to the
same worker, each over its own connection; the two phases alternate `--rounds` times so drift
falls on both. A flood is bounded by `--max-bodies` bodies in all and ends when its phase does.

Floor-relative: the figure is the ratio of the authenticated retrieve's median (and p90) latency
under the flood to the same latency alone, on the same server. The anonymous answers' statuses
are counted (413 when the anonymous body cap refuses them). Only the uvicorn this script
started is stopped, by its PID.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from soak import DEMO, free_port, manage, wait_for_port

HOSTILE_BODY = b"\x01" * (4 * 1024 * 1024)
RETRIEVE = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "get_library_book", "arguments": {"pk": 1}}}).encode()


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
    """Threads posting hostile anonymous bodies until stopped or `budget` bodies are sent."""

    def __init__(self, port, threads, budget):
        self.port, self.budget = port, budget
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sent = 0
        self.statuses = Counter()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)

    def _take(self):
        with self.lock:
            if self.stop.is_set() or self.sent >= self.budget:
                return False
            self.sent += 1
            return True

    def _run(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            while self._take():
                try:
                    connection.request("POST", "/mcp/", HOSTILE_BODY, {"Content-Type": "application/json"})
                    response = connection.getresponse()
                    response.read()
                    status = response.status
                    if response.getheader("Connection", "").lower() == "close":
                        connection.close()
                except (OSError, http.client.HTTPException) as exc:  # the server may close early
                    status = type(exc).__name__
                    connection.close()
                with self.lock:
                    self.statuses[status] += 1
        finally:
            connection.close()


def summary(latencies):
    ordered = sorted(latencies)
    return {"median_ms": statistics.median(ordered) * 1000, "p90_ms": ordered[int(len(ordered) * 0.9)] * 1000}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="authenticated retrieves per phase")
    parser.add_argument("--rounds", type=int, default=3, help="alone / flooded phase pairs")
    parser.add_argument("--flooders", type=int, default=2, help="threads posting hostile bodies")
    parser.add_argument("--max-bodies", type=int, default=400, help="hostile bodies per flooded phase, at most")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="django-mcp-flood-"))
    env = {
        **os.environ,
        "DEMO_DB": str(workdir / "db.sqlite3"),
        "DEMO_MEDIA": str(workdir / "media"),
        "DEMO_DEBUG": "0",
        "DEMO_LOG_LEVEL": "WARNING",  # no audit line per request on the server's stderr
        "XDG_CACHE_HOME": str(workdir / "cache"),
        "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(DEMO)])),
    }
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "demo_seed")
    credential = manage(env, "mcp_key", "create", "alice", "--name", "flood").splitlines()[-1]
    port = free_port()
    with open(workdir / "server.log", "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "demo_project.asgi:application", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            cwd=DEMO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, server)
            retrieve_latencies(port, credential, 50)  # warm-up: the engine compiled and loaded
            alone, flooded, statuses, bodies = [], [], Counter(), 0
            for _ in range(args.rounds):
                alone += retrieve_latencies(port, credential, args.requests)
                with Flood(port, args.flooders, args.max_bodies) as flood:
                    time.sleep(0.2)  # the flood under way before the measured requests start
                    flooded += retrieve_latencies(port, credential, args.requests)
                statuses += flood.statuses
                bodies += flood.sent
        finally:
            server.terminate()
            server.wait(timeout=30)
    quiet, loud = summary(alone), summary(flooded)
    result = {
        "alone": quiet, "flooded": loud,
        "ratio_median": loud["median_ms"] / quiet["median_ms"], "ratio_p90": loud["p90_ms"] / quiet["p90_ms"],
        "hostile_bodies": bodies, "hostile_statuses": {str(k): v for k, v in statuses.items()},
        "requests_per_phase": args.requests, "rounds": args.rounds, "flooders": args.flooders,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
