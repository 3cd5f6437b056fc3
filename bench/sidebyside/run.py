"""Side by side: this package, the original `django-mcp-framework==1.0.0`, and the floor.

For each project size N (admin models), in one run:

1. writes a synthetic Django project (`project.py`): N models of ten mixed fields, a
   ModelAdmin each (list_display, search_fields, list_filter, an action), DRF ModelViewSets on
   a router for the first ten, the floor views; `rows` rows in the measured model;
2. sets up one SQLite database per package, seeded alike, and mints a key with each
   package's own `manage.py mcp_key create`;
3. in process (`worker.py`, Django's test client): every operation, interleaved with the floor
   views doing the same ORM work;
4. in process under ASGI (`asgi_worker.py`, this package): the project's ASGI application
   called with asyncio one request at a time, as uvicorn calls it (each request's sync view on
   a thread of its own, so a database connection per request): `initialize`, `ping` and one
   `tools/list` page against the ping floor, `find_tools` with discovery on; on PostgreSQL
   again with Django's connection pool on; on SQLite, what a fresh connection's first query
   costs;
5. cold start: a new interpreter to the first `tools/list` answer (compiled engine cache
   warm), against the floor's first answer;
6. over HTTP: uvicorn on 127.0.0.1 — a floor server (the project without `django_mcp`), one
   for this package, one for the original — at concurrency 1, 8 and 32 with a bounded number
   of requests (`loadgen.py`); the resident memory of each server after warm-up.

With --profile, per N also a cProfile of each in-process operation (`worker.py`) and
`profile_gaps.py`'s splits: the cold start by phase and kind of facts, resident memory by
package (this package's process and the floor's), a ping with a fresh connection per request.

This package is imported from the tree this script is in (its `host-python/` first on the
path of every process), byte-compiled with the generated project before they run.

The databases are SQLite files; with BENCH_DATABASE_URL (postgres://user@host:port/name, a
server where that user may create databases) each site gets a PostgreSQL database of its own
instead, created on that server and dropped after (psycopg is then installed in the original's
virtualenv too).

This package runs from the repository's `.venv` (or --ours-venv); the original runs in a
virtualenv of its own (created once with pip from PyPI and reused; --original-venv), with
the same Django, DRF, asgiref and uvicorn versions.

    .venv/bin/python bench/sidebyside/run.py --quick     # a smoke run of a few minutes
    .venv/bin/python bench/sidebyside/run.py             # N = 10, 100, 500; ~20-30 minutes
    .venv/bin/python bench/sidebyside/report.py bench/sidebyside/results/results.json  # the tables again

Writes `results.json` and `results.md` to --out (default bench/sidebyside/results/) and prints
the tables. Only processes this script started are stopped (by PID); its temporary
directory is removed unless --keep.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import loadgen  # noqa: E402
import profile_gaps  # noqa: E402  (imports nothing but the stdlib at module level)
import project  # noqa: E402
import report  # noqa: E402
import worker  # noqa: E402  (tool names; imports nothing but the stdlib at module level)

ORIGINAL = "django-mcp-framework==1.0.0"
PINNED = ["Django", "djangorestframework", "asgiref", "sqlparse", "uvicorn"]
PROTOCOL = {"ours": "2025-11-25", "original": "2025-03-26"}

PROFILES = {
    # a smoke run: proves the harness end to end in a few minutes
    "quick": dict(
        sizes=[10, 100],
        rows=2000,
        iterations=30,
        budget=4.0,
        original_iterations=2,
        original_min=2,
        http_requests=60,
        http_requests_c1=30,
        original_http=(2, 8, 32),
        http_budget=5.0,
        cold_starts=3,
        original_cold_starts=1,
        warmup=3,
        asgi_iterations=30,
        asgi_budget=4.0,
    ),
    "full": dict(
        sizes=[10, 100, 500],
        rows=10000,
        iterations=300,
        budget=20.0,
        original_iterations=10,
        original_min=3,
        http_requests=1000,
        http_requests_c1=300,
        original_http=(10, 32, 64),
        http_budget=10.0,
        cold_starts=7,
        original_cold_starts=3,
        warmup=10,
        asgi_iterations=300,
        asgi_budget=12.0,
    ),
}
CONCURRENCY = (1, 8, 32)
# (operation, tool key or method, the floor view) measured over HTTP; all at concurrency 1,
# the first three at 8 and 32 as well.
HTTP_OPS = ["tools/list, one page", "admin list, 50 rows", "retrieve", "search, 50 rows"]
HTTP_LOADED = HTTP_OPS[:3]

_children: list[subprocess.Popen] = []
# A PostgreSQL server to run on instead of SQLite, and the databases made on it.
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL")
_databases: list[str] = []


def new_database(name: str) -> str:
    """The URL of a new database `name` on BENCH_DATABASE_URL's server."""
    import psycopg
    from urllib.parse import urlsplit, urlunsplit

    with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    _databases.append(name)
    return urlunsplit(urlsplit(DATABASE_URL)._replace(path=f"/{name}"))


def drop_databases():
    import psycopg

    with psycopg.connect(DATABASE_URL, autocommit=True) as admin:
        while _databases:
            admin.execute(f'DROP DATABASE IF EXISTS "{_databases.pop()}" WITH (FORCE)')


def log(message):
    print(f"[{datetime.datetime.now():%H:%M:%S}] {message}", flush=True)


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def run(cmd, *, env=None, cwd=None, timeout=900, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return result


def versions(python: Path) -> dict:
    code = (
        "import importlib.metadata as m, json, sys; out={'python': sys.version.split()[0]}\n"
        f"for p in {PINNED + ['django-mcp-framework', 'wasmtime', 'psycopg']!r}:\n"
        "    try: out[p]=m.version(p)\n    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(out))"
    )
    return json.loads(run([python, "-c", code]).stdout)


def ensure_original_venv(path: Path, ours_python: Path, pins: dict) -> Path:
    """A virtualenv with the original from PyPI and the same framework versions as ours."""
    wanted = [ORIGINAL] + [f"{name}=={pins[name]}" for name in PINNED if name in pins]
    if DATABASE_URL:
        wanted.append(f"psycopg[binary]=={pins['psycopg']}")
    marker = path / "side-by-side-requirements.json"
    if marker.exists() and json.loads(marker.read_text()) == wanted and venv_python(path).exists():
        return venv_python(path)
    log(f"creating the original's virtualenv in {path} ({' '.join(wanted)})")
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    # `-m venv` from inside a virtualenv builds on its base interpreter: a clean environment.
    run([ours_python, "-m", "venv", path])
    run([venv_python(path), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted], timeout=1800)
    marker.write_text(json.dumps(wanted))
    return venv_python(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Site:
    """One package's setup in one generated project: its database, key, environment."""

    def __init__(self, kind, python, proj_dir, work, cache_dir, with_mcp=True, db=None):
        self.kind, self.python, self.dir = kind, python, proj_dir
        if db is None:
            db = new_database(f"sidebyside_{work.name}_{kind}") if DATABASE_URL else work / f"{kind}.sqlite3"
        self.db = db
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV")},
            # this package from the tree the bench runs in (not wherever the virtualenv's install points)
            "PYTHONPATH": os.pathsep.join(
                [str(proj_dir)] + ([] if kind == "original" else [str(ROOT / "host-python")])
            ),
            "DJANGO_SETTINGS_MODULE": "benchproj.settings",
            **({"BENCH_DATABASE_URL": db} if DATABASE_URL else {"BENCH_DB": str(db)}),
            "BENCH_WITH_MCP": "1" if with_mcp else "0",
            # tools/list is compared with the original's full listing: every tool, no meta-tools.
            "BENCH_MCP_DISCOVERY": "off",
            "BENCH_LOG": str(work / f"{kind}.log"),
            "XDG_CACHE_HOME": str(cache_dir),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.credential = self.floor_token = None

    def manage(self, *args, timeout=900):
        return run([self.python, self.dir / "manage.py", *args], env=self.env, cwd=self.dir, timeout=timeout)

    def setup(self, rows):
        # The migrated apps first: the generated app has none, and PostgreSQL creates its foreign
        # keys to auth's tables with its own.
        self.manage("migrate", "--verbosity", "0")
        self.manage("migrate", "--run-syncdb", "--verbosity", "0")
        self.floor_token = self.manage("bench_seed", "--rows", str(rows)).stdout.strip().splitlines()[-1]
        self.credential = (
            self.manage("mcp_key", "create", "bench", "--name", "side-by-side").stdout.strip().splitlines()[-1]
        )


def cold_start(site: Site, path: str, body: dict, headers: dict, env_extra=None) -> tuple[float, float]:
    """Seconds from spawning a new interpreter to its first answer (via Django's test client),
    and the CPU seconds the interpreter spent until then (steadier on a loaded machine)."""
    code = (
        "import json, time, django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        f"r = Client().post({path!r}, {json.dumps(body)!r}, content_type='application/json', **{headers!r})\n"
        "assert r.status_code == 200, r.content[:300]\n"
        "print(repr(time.time()), repr(time.process_time()))\n"
    )
    env = {**site.env, **(env_extra or {})}
    started = time.time()
    out = run([site.python, "-c", code], env=env, cwd=site.dir, timeout=300)
    answered, cpu = map(float, out.stdout.strip().splitlines()[-1].split())
    return answered - started, cpu


def measure_cold_starts(ours: Site, original: Site | None, settings: dict, work: Path) -> dict:
    def mcp(site):
        return (
            "/mcp/",
            {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
            {"HTTP_AUTHORIZATION": f"Bearer {site.credential}"},
        )

    floor_site = Site("floor", ours.python, ours.dir, work, ours.env["XDG_CACHE_HOME"], with_mcp=False, db=ours.db)
    floor_req = ("/floor/auth/ping/", {}, {"HTTP_AUTHORIZATION": f"Bearer {ours.floor_token}"})
    out = {}
    # no compiled-engine cache yet (a first deployment); then warm, as every later start
    fresh = work / "cold-cache"
    out["ours_no_cache_s"] = cold_start(ours, *mcp(ours), env_extra={"XDG_CACHE_HOME": str(fresh)})[0]
    shutil.rmtree(fresh, ignore_errors=True)
    cold_start(ours, *mcp(ours))  # makes sure the run's cache holds the compiled engine
    samples = {"floor": [], "ours": [], "original": []}
    for i in range(settings["cold_starts"]):
        samples["floor"].append(cold_start(floor_site, *floor_req))
        samples["ours"].append(cold_start(ours, *mcp(ours)))
        if original is not None and i < settings["original_cold_starts"]:
            samples["original"].append(cold_start(original, *mcp(original)))
    for name, values in samples.items():
        if values:
            wall, cpu = [w for w, _c in values], [c for _w, c in values]
            out[name] = {
                "median_s": statistics.median(wall),
                "max_s": max(wall),
                "cpu_median_s": statistics.median(cpu),
                "n": len(values),
            }
    return out


def run_script(site: Site, script: str, args: list, out: Path, env_extra=None) -> dict:
    """Run one of the bench's scripts with the site's interpreter and environment; its JSON."""
    cmd = [site.python, HERE / script, *args, "--out", out]
    result = run(cmd, env={**site.env, **(env_extra or {})}, cwd=site.dir, timeout=7200)
    if result.stderr.strip():
        log(f"{site.kind} {script} said:\n{result.stderr.strip()[-3000:]}")
    return json.loads(out.read_text())


def run_worker(site: Site, info: dict, settings: dict, work: Path, profile_dir: Path | None) -> dict:
    kind = site.kind
    ours = kind == "ours"
    args = [
        "--kind",
        kind,
        "--measured",
        info["measured"],
        "--credential",
        site.credential,
        "--floor-token",
        site.floor_token,
        "--iterations",
        settings["iterations"] if ours else settings["original_iterations"],
        "--budget",
        settings["budget"],
        "--min-samples",
        3 if ours else settings["original_min"],
        "--warmup",
        settings["warmup"] if ours else 1,
        "--rows",
        settings["rows"],
    ]
    # The original answers from worker threads (async view, asyncio.to_thread): cProfile in
    # the calling thread sees only lock waits, so only this package is profiled.
    if profile_dir is not None and ours:
        args += ["--profile", profile_dir, "--profile-calls", 50]
    return run_script(site, "worker.py", args, work / f"worker-{kind}.json")


def measure_asgi(ours: Site, info: dict, settings: dict, work: Path) -> dict:
    """In process under ASGI (`asgi_worker.py`): initialize, ping and a tools/list page with
    discovery off, find_tools with it on, each against the ping floor; with the database as
    configured by default, with DJANGO_MCP_THREADS and persistent connections and, on
    PostgreSQL, with Django's connection pool on."""
    base = [
        "--credential",
        ours.credential,
        "--floor-token",
        ours.floor_token,
        "--iterations",
        settings["asgi_iterations"],
        "--budget",
        settings["asgi_budget"],
        "--warmup",
        settings["warmup"],
    ]
    configs = {"default": {}, "threads": {"BENCH_MCP_THREADS": "8"}}
    if DATABASE_URL:
        configs["pool"] = {"BENCH_DB_POOL": "1"}
    out = {}
    for name, env in configs.items():
        probe = ["--connection-probe", settings["asgi_iterations"]] if name == "default" else []
        out[name] = run_script(ours, "asgi_worker.py", base + probe, work / f"asgi-{name}.json", env)
        out[name]["discovery"] = run_script(
            ours,
            "asgi_worker.py",
            base + ["--find-tools", info["find_query"]],
            work / f"asgi-{name}-discovery.json",
            {**env, "BENCH_MCP_DISCOVERY": "auto"},
        )
    return out


class Server:
    def __init__(self, name: str, site: Site, work: Path, with_mcp=True):
        self.name, self.site, self.port = name, site, free_port()
        env = {**site.env, "BENCH_WITH_MCP": "1" if with_mcp else "0"}
        self.logfile = open(work / f"uvicorn-{name}.log", "w")
        self.proc = subprocess.Popen(
            [
                str(site.python),
                "-m",
                "uvicorn",
                "benchproj.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--lifespan",
                "off",
            ],
            cwd=site.dir,
            env=env,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
        )
        _children.append(self.proc)
        self.headers = {}

    def wait_ready(self, timeout=180.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server {self.name} exited ({self.proc.returncode}); see its log")
            with contextlib.suppress(OSError, ValueError):
                status, _h, _b = loadgen.once(
                    "127.0.0.1", self.port, "POST", "/floor/bare/ping/", b"{}", {}, timeout=30
                )
                if status == 200:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"server {self.name} did not answer within {timeout} s")

    def handshake(self, kind):
        """As a client: initialize once, then send what it negotiated with every request."""
        self.headers = {
            "Authorization": f"Bearer {self.site.credential}",
            "Accept": "application/json, text/event-stream",
        }
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": PROTOCOL[kind],
                    "capabilities": {},
                    "clientInfo": {"name": "side-by-side-bench", "version": "1"},
                },
            }
        ).encode()
        status, headers, reply = loadgen.once("127.0.0.1", self.port, "POST", "/mcp/", body, self.headers)
        if status != 200:
            raise RuntimeError(f"{self.name}: initialize answered {status}: {reply[:300]!r}")
        self.headers["MCP-Protocol-Version"] = json.loads(reply)["result"]["protocolVersion"]
        if "mcp-session-id" in headers:
            self.headers["Mcp-Session-Id"] = headers["mcp-session-id"]

    def rss(self):
        return rss_mb(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.logfile.close()
        with contextlib.suppress(ValueError):
            _children.remove(self.proc)


def http_requests(kind: str, info: dict, rows: int) -> dict:
    """op -> (path, JSON body) for one server kind ("floor" or a package)."""
    names = None if kind == "floor" else worker.tool_names(kind, info["measured"])
    pk = rows // 2 + 7

    def call(tool, arguments):
        return {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {"name": names[tool], "arguments": arguments},
        }

    if kind == "floor":
        return {
            "tools/list, one page": ("/floor/auth/ping/", {}),
            "admin list, 50 rows": ("/floor/auth/list/", {"page_size": 50}),
            "retrieve": ("/floor/auth/retrieve/", {"pk": pk}),
            "search, 50 rows": ("/floor/auth/list/", {"q": "alpha", "page_size": 50}),
        }
    return {
        "tools/list, one page": ("/mcp/", {"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {}}),
        "admin list, 50 rows": ("/mcp/", call("list", {"page_size": 50})),
        "retrieve": ("/mcp/", call("get", {"pk": pk})),
        "search, 50 rows": ("/mcp/", call("list", {"q": "alpha", "page_size": 50})),
    }


def measure_http(ours: Site, original: Site | None, info: dict, settings: dict, work: Path) -> dict:
    servers = {"floor": Server("floor", ours, work, with_mcp=False), "ours": Server("ours", ours, work)}
    if original is not None:
        servers["original"] = Server("original", original, work)
    out = {"rss_mb": {}, "ops": {}}
    try:
        for server in servers.values():
            server.wait_ready()
        floor_headers = {"Authorization": f"Bearer {ours.floor_token}"}
        for kind, server in servers.items():
            if kind != "floor":
                server.handshake(kind)
            else:
                server.headers = floor_headers
        requests = {kind: http_requests(kind, info, settings["rows"]) for kind in servers}

        def load(kind, op, total, concurrency, budget=None):
            path, body = requests[kind][op]
            server = servers[kind]
            payload = json.dumps(body).encode()
            return loadgen.run(
                "127.0.0.1",
                server.port,
                "POST",
                path,
                payload,
                server.headers,
                total=total,
                concurrency=concurrency,
                budget=budget,
            )

        # warm-up: every operation, then the resident memory of each server
        for kind in servers:
            rounds = 1 if kind == "original" else settings["warmup"] * 2
            for op in HTTP_OPS:
                result = load(kind, op, rounds, 1)
                if result["errors"]:
                    raise RuntimeError(f"{kind} warm-up of {op}: {result.get('first_error')}")
        for kind, server in servers.items():
            out["rss_mb"][kind] = {"after_warmup": server.rss()}
        for op in HTTP_OPS:
            for concurrency in CONCURRENCY if op in HTTP_LOADED else (1,):
                row = {}
                for kind in servers:
                    if kind == "original":
                        total = settings["original_http"][CONCURRENCY.index(concurrency)]
                    else:
                        total = settings["http_requests_c1"] if concurrency == 1 else settings["http_requests"]
                    row[kind] = load(kind, op, max(total, concurrency), concurrency, settings["http_budget"])
                out["ops"].setdefault(op, {})[str(concurrency)] = row
                log(
                    f"  http {op} c={concurrency}: "
                    + ", ".join(f"{k} {v['throughput_rps']:.0f} req/s ({v['errors']} errors)" for k, v in row.items())
                )
        for kind, server in servers.items():
            out["rss_mb"][kind]["after_load"] = server.rss()
    finally:
        for server in servers.values():
            server.stop()
    return out


def bench_size(n: int, args, settings, pythons, work: Path) -> dict:
    proj_work = work / f"n{n}"
    proj_dir = proj_work / "project"
    info = project.write_project(proj_dir, n)
    # byte-compiled as an installed package and a deployed project are (the sites' environment
    # writes no bytecode): a start reads .pyc files, it compiles no source
    run([pythons["ours"], "-m", "compileall", "-q", proj_dir, ROOT / "host-python" / "django_mcp"])
    cache = work / "cache"
    log(f"N = {n}: project written; setting up the databases ({settings['rows']} rows)")
    ours = Site("ours", pythons["ours"], proj_dir, proj_work, cache)
    ours.setup(settings["rows"])
    original = None
    if pythons.get("original"):
        original = Site("original", pythons["original"], proj_dir, proj_work, cache)
        original.setup(settings["rows"])
    out = {"models": n, "measured": info["measured"], "drf_viewsets": len(info["drf"]), "rows": settings["rows"]}
    profile_dir = (args.out / "profiles" / f"n{n}") if args.profile else None
    log(f"N = {n}: in process, this package")
    out["inprocess"] = {"ours": run_worker(ours, info, settings, proj_work, profile_dir)}
    if original is not None:
        log(f"N = {n}: in process, the original")
        out["inprocess"]["original"] = run_worker(original, info, settings, proj_work, profile_dir)
    if profile_dir is not None:
        log(f"N = {n}: profiles of the gaps (start, memory, ping)")
        profile_dir.mkdir(parents=True, exist_ok=True)
        for part, env in [(p, {}) for p in profile_gaps.PARTS] + [
            (p, {"BENCH_WITH_MCP": "0"}) for p in ("start", "memory")
        ]:
            args_ = ["--part", part, "--credential", ours.credential, "--floor-token", ours.floor_token]
            name = part + ("-floor" if env else "")
            out.setdefault("profiles", {})[name] = run_script(
                ours, "profile_gaps.py", args_, profile_dir / f"{name}.json", env
            )
    log(f"N = {n}: in process under ASGI, this package")
    out["asgi"] = measure_asgi(ours, info, settings, proj_work)
    log(f"N = {n}: cold starts")
    out["cold_start"] = measure_cold_starts(ours, original, settings, proj_work)
    if not args.skip_http:
        log(f"N = {n}: over HTTP (uvicorn)")
        out["http"] = measure_http(ours, original, info, settings, proj_work)
    return out


def machine() -> dict:
    info = {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()}
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(Exception):
        info["commit"] = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    wasm = ROOT / "host-python" / "django_mcp" / "engine.wasm"
    if wasm.exists():
        info["engine_wasm_sha256"] = hashlib.sha256(wasm.read_bytes()).hexdigest()[:16]
    return info


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small smoke run (a few minutes)")
    parser.add_argument("--sizes", help="comma-separated model counts (default: 10,100,500; quick: 10,100)")
    parser.add_argument("--rows", type=int, help="rows in the measured model (default 10000; quick 2000)")
    parser.add_argument("--iterations", type=int, help="rounds per operation for this package")
    parser.add_argument(
        "--ours-venv",
        type=Path,
        default=ROOT / ".venv",
        help="virtualenv with this package installed (default: the repository's .venv)",
    )
    parser.add_argument(
        "--original-venv",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        / "django-mcp-sidebyside"
        / "venv-original",
        help="virtualenv for the original (created with pip when missing)",
    )
    parser.add_argument("--skip-original", action="store_true", help="measure this package and the floor only")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also write a cProfile report per operation of this package (to OUT/profiles/)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (projects, logs)")
    args = parser.parse_args()

    settings = dict(PROFILES["quick" if args.quick else "full"])
    if args.sizes:
        settings["sizes"] = [int(s) for s in args.sizes.split(",")]
    if args.rows:
        settings["rows"] = args.rows
    if args.iterations:
        settings["iterations"] = args.iterations
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)

    ours_python = venv_python(args.ours_venv.resolve())
    if not ours_python.exists():
        sys.exit(f"no virtualenv at {args.ours_venv}: run ./scripts/test (or ./scripts/demo) once to create .venv")
    ours_versions = versions(ours_python)
    if "django-mcp-framework" not in ours_versions:
        sys.exit(f"this package is not installed in {args.ours_venv}")
    pythons = {"ours": ours_python}
    original_versions = None
    if not args.skip_original:
        pythons["original"] = ensure_original_venv(args.original_venv.resolve(), ours_python, ours_versions)
        original_versions = versions(pythons["original"])

    work = Path(tempfile.mkdtemp(prefix="django-mcp-sidebyside-"))
    started = time.time()
    results = {
        "mode": "quick" if args.quick else "full",
        "settings": settings,
        "machine": machine(),
        "database": "postgresql" if DATABASE_URL else "sqlite",
        "versions": {"ours": ours_versions, "original": original_versions},
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "sizes": {},
    }
    try:
        for n in settings["sizes"]:
            results["sizes"][str(n)] = bench_size(n, args, settings, pythons, work)
            # partial results survive an interrupted run
            (args.out / "results.json").write_text(json.dumps(results, indent=2))
    finally:
        for proc in list(_children):
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=15)
        if DATABASE_URL:
            drop_databases()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["elapsed_s"] = time.time() - started
    results["machine"]["load_average_end"] = os.getloadavg()
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    text = report.render(results)
    (args.out / "results.md").write_text(text)
    print(text)
    log(f"done in {results['elapsed_s'] / 60:.1f} min; {args.out / 'results.json'}, {args.out / 'results.md'}")


if __name__ == "__main__":
    main()
