"""Servers in processes of their own on 127.0.0.1, shared by the suites (conftest.py and the
served tests) and the benches (which put this folder on sys.path): a free port, waiting for
it, a project's manage.py, a scratch demo environment, and uvicorn. Only the processes
started here are stopped, by their PIDs. No pytest or Django import: a bench loads it too."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo"
TESTS = ROOT / "tests" / "python"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, process, timeout=60):
    """Until something listens on `port`; fails if `process` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up (its log says why)")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the server did not start in time")


def manage(env, *args, project=DEMO):
    """`manage.py *args` of `project` (the demo by default) in `env`; its output, stripped."""
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=project, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stderr}")
    return done.stdout.strip()


def demo_env(workdir, **extra):
    """The environment of a server of the demo (or a project built on it) with its database,
    files and caches in `workdir`, this folder and the demo on its path; `extra` on top."""
    return {
        **os.environ,
        "DEMO_DB": str(workdir / "db.sqlite3"),
        "DEMO_MEDIA": str(workdir / "media"),
        "DEMO_DEBUG": "0",
        "XDG_CACHE_HOME": str(workdir / "cache"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), str(DEMO), os.environ.get("PYTHONPATH")])),
        **extra,
    }


def demo_probe(workdir, script):
    """Run `script` (Python source that sets Django up itself) in a fresh process of the demo,
    its database in `workdir`: what a process imports and does from its start, which the test
    process has long since passed. The JSON the script printed last."""
    path = workdir / "probe.py"
    path.write_text(script)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "demo_project.settings",
        "DEMO_DB": str(workdir / "db.sqlite3"),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(DEMO), str(TESTS), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run([sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@contextlib.contextmanager
def running(command, port, log_path, **popen):
    """`command` started (its output to `log_path`) and listening on `port`; yields the process,
    terminated after (killed if it will not stop)."""
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **popen)
        try:
            wait_for_port(port, process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextlib.contextmanager
def uvicorn(application, cwd, env, log_path, *options):
    """uvicorn serving `application` on a free port (plus any further uvicorn `options`, e.g.
    "--workers", "2"); yields (process, port)."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", application, "--host", "127.0.0.1", "--port", str(port)]
    with running([*command, "--log-level", "warning", *options], port, log_path, cwd=cwd, env=env) as process:
        yield process, port


@contextlib.contextmanager
def serve_uvicorn(application, cwd, env, log_path, *options):
    """`uvicorn`, yielding the MCP URL."""
    with uvicorn(application, cwd, env, log_path, *options) as (_, port):
        yield f"http://127.0.0.1:{port}/mcp/"
