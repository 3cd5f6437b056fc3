"""Where the server's resident memory goes, ours against the floor (issue 23).

    .venv/bin/python bench/sidebyside/memprobe.py N [--host DIR] [--env K=V]... [--tracemalloc DIR]

Generates the side-by-side project with N admin models, starts the floor and ours under uvicorn
as `run.py` does, warms each up with 20 requests of each HTTP operation, then prints resident
memory by kind (smaps) and what each allocator holds: pymalloc's arenas (live blocks and the
room they keep), glibc's heaps (`malloc_info`: in use and free). `--host` runs another tree's
`host-python` (a "before"); `--env` sets a variable for both servers (`MALLOC_ARENA_MAX=2`);
`--tracemalloc DIR` traces both servers (25 frames; slow) and writes their snapshots there,
then prints the difference by cause. `--burst ROUNDS` first sends each server ROUNDS rounds of
600 `tools/list` pages at concurrency 32 (the floor its ping: the same requests as the side-by-
side bench's HTTP phase) and prints both servers' resident memory after each round; the table
is then read after the last round.
"""

import argparse
import collections
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import project  # noqa: E402
import run  # noqa: E402

#: Installed in both servers (sitecustomize): SIGUSR1 writes the allocators' state to DIR.
HOOK = """
import os, signal, sys, ctypes, tracemalloc

def _dump(*_):
    out = os.environ["MEMPROBE_DIR"]
    pid = os.getpid()
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    fp = libc.fopen(os.path.join(out, f"malloc-{pid}.xml").encode(), b"w")
    libc.malloc_info(0, fp)
    libc.fclose(fp)
    saved, fd = os.dup(2), os.open(os.path.join(out, f"pymalloc-{pid}.txt"), os.O_WRONLY | os.O_CREAT)
    os.dup2(fd, 2)
    try:
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(fd)
        os.close(saved)
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(os.path.join(out, f"snap-{pid}.bin"))
    open(os.path.join(out, f"done-{pid}"), "w").close()

signal.signal(signal.SIGUSR1, _dump)
"""


BURST, BURST_CONCURRENCY = 600, 32


def smaps_kinds(pid):
    """Resident KB by kind of mapping."""
    rows, current = [], None
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and not parts[0].endswith(":"):
            start, end = (int(x, 16) for x in parts[0].split("-"))
            current = [start, end, parts[1], parts[5] if len(parts) > 5 else "", 0]
            rows.append(current)
        elif line.startswith("Rss:"):
            current[4] = int(parts[1])
    kinds = collections.Counter()
    for i, (start, end, perm, name, rss) in enumerate(rows):
        after = rows[i + 1] if i + 1 < len(rows) else None
        if name == "":
            # wasmtime reserves a linear memory's whole range and opens its start: the open part
            # is followed by the rest of the reservation (gigabytes, no access). A glibc heap
            # can sit right after a reservation, so what precedes one is all that counts.
            reserved = after is not None and after[2] == "---p" and after[1] - after[0] > 1 << 30 and after[0] == end
            kind = "engine linear memory" if reserved and perm.startswith("rw") else "anonymous (allocators)"
        elif name == "[heap]":
            kind = "anonymous (allocators)"
        elif "wasmtime" in name or name.endswith(".cwasm"):
            kind = "libwasmtime and the .cwasm"
        else:
            kind = "other files"
        kinds[kind] += rss
    kinds["total"] = sum(kinds.values())
    return kinds


def pymalloc(path):
    text = Path(path).read_text()
    arenas = int(re.search(r"# arenas allocated current\s*=\s*([\d,]+)", text).group(1).replace(",", ""))
    live = int(re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", text).group(1).replace(",", ""))
    return {"pymalloc live": live / 2**20, "pymalloc free room": (arenas * 2**20 - live) / 2**20}


def glibc(path):
    root = ET.parse(path).getroot()
    used = free = 0
    for heap in root.findall("heap"):
        size = sum(int(s.get("size")) for s in heap.findall("system") if s.get("type") == "current")
        spare = sum(int(t.get("size")) for t in heap.findall("total") if t.get("type") in ("fast", "rest"))
        used, free = used + size - spare, free + spare
    return {"glibc heaps in use": used / 2**20, "glibc heaps free (resident or not)": free / 2**20}


def cause(trace):
    frames = [frame.filename for frame in trace.traceback]  # oldest first
    importing = any("importlib" in f for f in frames)
    inner = next((f for f in reversed(frames) if "importlib" not in f), "")
    if importing:
        for pattern, name in (
            ("/wasmtime/|/ctypes/", "imports: wasmtime"),
            ("/django_mcp/", "imports: django_mcp"),
            ("/django/test/|/unittest/|/wsgiref/|/xml/", "imports: django.test and its imports"),
        ):
            if re.search(pattern, inner):
                return name
        return "imports: other"
    for pattern, name in (
        ("/wasmtime/", "wasmtime at run time"),
        ("/django_mcp/facts/", "gathering (Django's caches, the registry)"),
        ("/django_mcp/effects/", "effects (Django's caches)"),
        ("/django_mcp/", "other django_mcp (runtime, keys, transport)"),
    ):
        if any(re.search(pattern, f) for f in frames):
            return name
    return "other"


def by_cause(path):
    counts = collections.Counter()
    for trace in tracemalloc.Snapshot.load(str(path)).traces:
        counts[cause(trace)] += trace.size
    return counts


def bursts(servers, info, rounds):
    """Rounds of 600 `tools/list` pages at c = 32 to each server in turn; the resident memory
    of each after each round."""
    requests = {kind: run.http_requests(kind, info, 200)["tools/list, one page"] for kind in servers}
    print(f"resident MB after a round of {BURST} pages at c = {BURST_CONCURRENCY}: floor, ours, ours − floor")
    for round_ in range(rounds + 1):
        if round_:
            for kind, server in servers.items():
                path, body = requests[kind]
                result = run.loadgen.run(
                    "127.0.0.1",
                    server.port,
                    "POST",
                    path,
                    json.dumps(body).encode(),
                    server.headers,
                    total=BURST,
                    concurrency=BURST_CONCURRENCY,
                )
                assert not result["errors"], result
            time.sleep(0.5)
        floor, ours = servers["floor"].rss(), servers["ours"].rss()
        print(f"round {round_}: {floor:7.1f}  {ours:7.1f}  {ours - floor:+7.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int)
    parser.add_argument("--host", help="a host-python directory to run instead of this tree's")
    parser.add_argument("--env", action="append", default=[], help="K=V for both servers")
    parser.add_argument("--tracemalloc", metavar="DIR", help="trace both servers; snapshots go here")
    parser.add_argument("--burst", type=int, default=0, metavar="ROUNDS", help="rounds of 600 pages at c = 32 first")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix=f"memprobe-{args.n}-"))
    out = Path(args.tracemalloc) if args.tracemalloc else work / "dump"
    out.mkdir(parents=True, exist_ok=True)
    (work / "hook").mkdir()
    (work / "hook" / "sitecustomize.py").write_text(HOOK)
    info = project.write_project(work / "project", args.n)
    site = run.Site("ours", run.venv_python(run.ROOT / ".venv"), work / "project", work, work / "cache")
    if args.host:
        site.env["PYTHONPATH"] = os.pathsep.join([str(work / "project"), args.host])
    site.env.update(kv.split("=", 1) for kv in args.env)
    site.setup(200)
    warm = run.Server("compile", site, work)  # the compiled engine cached, as a restart finds it
    warm.wait_ready()
    warm.handshake("ours")
    warm.stop()
    site.env["PYTHONPATH"] = os.pathsep.join([str(work / "hook"), site.env["PYTHONPATH"]])
    site.env["MEMPROBE_DIR"] = str(out)
    if args.tracemalloc:
        site.env["PYTHONTRACEMALLOC"] = "25"
    servers = {"floor": run.Server("floor", site, work, with_mcp=False), "ours": run.Server("ours", site, work)}
    try:
        for server in servers.values():
            server.wait_ready()
        servers["floor"].headers = {"Authorization": f"Bearer {site.floor_token}"}
        servers["ours"].handshake("ours")
        for kind, server in servers.items():
            requests = run.http_requests(kind, info, 200)
            for op in run.HTTP_OPS:
                path, body = requests[op]
                body = json.dumps(body).encode()
                result = run.loadgen.run(
                    "127.0.0.1", server.port, "POST", path, body, server.headers, total=20, concurrency=1
                )
                assert not result["errors"], result
        time.sleep(0.5)
        if args.burst:
            bursts(servers, info, args.burst)
        table = {kind: {k: v / 1024 for k, v in smaps_kinds(s.proc.pid).items()} for kind, s in servers.items()}
        for kind, server in servers.items():
            os.kill(server.proc.pid, signal.SIGUSR1)
        for kind, server in servers.items():
            while not (out / f"done-{server.proc.pid}").exists():
                time.sleep(0.2)
            table[kind].update(pymalloc(out / f"pymalloc-{server.proc.pid}.txt"))
            table[kind].update(glibc(out / f"malloc-{server.proc.pid}.xml"))
        print(f"N = {args.n}, MB          floor      ours    ours − floor")
        for key in table["ours"]:
            floor, ours = table["floor"].get(key, 0.0), table["ours"][key]
            print(f"{key:32s} {floor:8.1f}  {ours:8.1f}  {ours - floor:+8.1f}")
        if args.tracemalloc:
            floor, ours = (by_cause(out / f"snap-{servers[k].proc.pid}.bin") for k in ("floor", "ours"))
            print("\ntraced Python memory, ours − floor, by cause (MB)")
            for key in sorted(set(floor) | set(ours), key=lambda k: floor[k] - ours[k]):
                print(f"{(ours[key] - floor[key]) / 2**20:+7.2f}  {key}")
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
