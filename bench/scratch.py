"""What the benches share: a scratch copy of the demo (its database, media and engine cache in a
temporary directory), for Django in this process or for servers of its own, which start with
the helpers the suites use (tests/python/servers.py)."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
sys.path[:0] = [str(ROOT / "demo"), str(ROOT / "tests" / "python")]

from servers import demo_env, manage  # noqa: E402


def for_servers(prefix):
    """A scratch directory and the environment of servers on it."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    # No audit line per request on the server's stderr.
    return workdir, demo_env(workdir, DEMO_LOG_LEVEL="WARNING")


def in_process(prefix):
    """This process (and the processes it starts) pointed at a scratch demo under
    bench_settings, with discovery off: tools/list is measured as a page of the catalogue, as
    in the tables from before discovery existed. Returns the scratch directory."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    env = demo_env(workdir, DJANGO_SETTINGS_MODULE="bench_settings", DEMO_MCP_DISCOVERY="off")
    env["PYTHONPATH"] = os.pathsep.join([str(BENCH), env["PYTHONPATH"]])
    os.environ.update(env)
    return workdir


def seeded(env, key_name):
    """The scratch database migrated and seeded; a key for alice (superuser) named `key_name`."""
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "demo_seed")
    return manage(env, "mcp_key", "create", "alice", "--name", key_name).splitlines()[-1]
