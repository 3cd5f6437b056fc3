"""Descriptor sizes: the median and largest `tools/list` descriptor a superuser is offered.

    .venv/bin/python bench/descriptor_sizes.py [--json]

For the demo and the third-party test project, each migrated and seeded into a scratch
database, as `manage.py mcp_catalogue --user alice --json` reports them, with discovery off
(every tool listed with its descriptor). Sizes are deterministic, so
tests/python/test_descriptor_sizes.py holds them to the targets.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests" / "python"
#: Each project: where its manage.py is, its settings, its seed command, and the paths it imports from.
PROJECTS = {
    "demo": (ROOT / "demo", "demo_project.settings", "demo_seed", [ROOT / "demo"]),
    "thirdparty": (
        TESTS / "fixtures" / "thirdparty",
        "fixtures.thirdparty.settings",
        "thirdparty_seed",
        [TESTS, ROOT / "demo"],
    ),
}
SUPERUSER = "alice"


def catalogue(project):
    """`mcp_catalogue --json` of `project` for its superuser, in a scratch database."""
    where, settings, seed, paths = PROJECTS[project]
    with tempfile.TemporaryDirectory(prefix="django-mcp-sizes-") as workdir:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings,
            "DEMO_DB": str(Path(workdir) / "db.sqlite3"),
            "DEMO_MEDIA": str(Path(workdir) / "media"),
            "DEMO_DEBUG": "0",
            "XDG_CACHE_HOME": str(Path(workdir) / "cache"),
            "DEMO_MCP_DISCOVERY": "off",
            "PYTHONPATH": os.pathsep.join(map(str, paths)),
        }

        def manage(*args):
            result = subprocess.run(
                [sys.executable, "manage.py", *args], cwd=where, env=env, capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                raise RuntimeError(f"{project}: manage.py {' '.join(args)} failed:\n{result.stderr}")
            return result.stdout

        manage("migrate", "--verbosity", "0")
        manage(seed, "--verbosity", "0")
        return json.loads(manage("mcp_catalogue", "--user", SUPERUSER, "--json"))


def sizes(project):
    """{"tools", "median", "largest", "largest_tool"}: descriptor bytes of `project`."""
    report = catalogue(project)
    tools = report["tools"]
    largest = report["largest_tools"][0]
    return {
        "tools": len(tools),
        "median": statistics.median(t["bytes"] for t in tools),
        "largest": largest["bytes"],
        "largest_tool": largest["name"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    options = parser.parse_args()
    measured = {project: sizes(project) for project in PROJECTS}
    if options.json:
        print(json.dumps(measured, indent=2))
        return
    for project, s in measured.items():
        print(f"{project}: {s['tools']} tools, median {s['median']} B, largest {s['largest']} B ({s['largest_tool']})")


if __name__ == "__main__":
    main()
