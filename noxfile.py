"""The Django and Python versions the package supports, each tested (`nox`, from the repo root).

Cells: Django 5.2 LTS on Python 3.11 (the main virtual environment's own, where
`./scripts/test` runs the whole suite), Django 6.0 on Python 3.12, Django 6.1 on Python 3.13.
Each cell's `integration` session runs the suites that serve the demo and the third-party
project over uvicorn and drive them with the `mcp` SDK (admin, views, DRF, resources, search,
toolsets), and those of the admin and keys that go through the parts of Django the host
reaches into (the admin's forms and changelist, the ORM's compiler); `full` runs everything.
`./scripts/test` runs the integration sessions of the cells the main run does not cover
(`nox -t matrix`). Extra arguments go to pytest: `nox -s full -- -x test_keys.py`.

The package is installed as in the main virtual environment: the test requirements with the
cell's Django, then host-python editable with the engine built by scripts/test.
"""

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
TESTS = ROOT / "tests" / "python"
WASM = ROOT / "host-python" / "django_mcp" / "engine.wasm"

#: (Python, Django, tag) of each supported cell: "main" is the one the main run covers.
CELLS = [("3.11", "5.2", "main"), ("3.12", "6.0", "matrix"), ("3.13", "6.1", "matrix")]

INTEGRATION = [
    # Through the SDK, against uvicorn.
    "test_mcp_clients.py",
    "test_thirdparty_admins.py",
    "test_thirdparty_drf.py",
    "test_views.py",
    "test_view_methods.py",
    "test_drf.py",
    "test_resources_prompts.py",
    "test_search.py",
    "test_toolsets.py",
    "test_asgi_guard.py",
    # Through the endpoint in process: the admin's forms, changelist and actions, and the key
    # lookup compiled with the ORM's compiler.
    "test_admin_changelist.py",
    "test_admin_writes.py",
    "test_admin_actions.py",
    "test_keys.py",
]

#: Pinned third-party apps that refuse a cell's Django: not installed there, and the test
#: modules that count on them left out, saying why (test_thirdparty_admins.py skips only the
#: cases of django-celery-beat's admins itself).
REFUSES = {
    "6.1": {
        "django-celery-beat": (
            "its newest release, 2.9.0, requires Django<6.1",
            ["test_discovery.py", "test_discovery_quality.py"],
        )
    },
}

nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


def _find_interpreters():
    """pyenv's shims answer `python3.12` only for the selected version: put the bin folder of
    each installed version on PATH so nox finds every cell's interpreter."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for python, _django, _tag in CELLS:
        found = shutil.which(f"python{python}")
        if found and subprocess.run([found, "-c", ""], capture_output=True).returncode == 0:
            continue
        versions = sorted(Path(root, "versions").glob(f"{python}.*/bin"))
        if versions:
            os.environ["PATH"] = f"{versions[-1]}{os.pathsep}{os.environ['PATH']}"


_find_interpreters()


def _requirements(django):
    """requirements-dev.txt with this cell's Django, less the apps that refuse it."""
    lines = []
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        name = re.match(r"[A-Za-z0-9_.-]*", line.strip()).group().lower()
        if name == "django":
            line = f"Django=={django}.*"
        elif name in REFUSES.get(django, ()):
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


def _install(session, django):
    """Install once per change of requirements (a stamp in the virtualenv), as scripts/lib.sh
    does for the main one, so a reused environment starts at once."""
    if not WASM.exists():
        session.error(f"{WASM.relative_to(ROOT)} is missing: ./scripts/test builds it")
    requirements = _requirements(django)
    want = hashlib.sha256((requirements + (ROOT / "host-python" / "pyproject.toml").read_text()).encode()).hexdigest()
    stamp = Path(session.virtualenv.location) / ".requirements.sha256"
    if stamp.exists() and stamp.read_text() == want:
        return
    path = Path(session.create_tmp()) / "requirements.txt"
    path.write_text(requirements)
    session.install("--quiet", "--upgrade", "pip")
    session.install("--quiet", "-r", str(path))
    session.install(
        "--quiet", "--no-deps", "-e", str(ROOT / "host-python"), env={"DJANGO_MCP_PREBUILT_WASM": str(WASM)}
    )
    stamp.write_text(want)


def _pytest(session, django, arguments):
    left_out = []
    for app, (why, modules) in REFUSES.get(django, {}).items():
        session.log(f"left out on Django {django}: {', '.join(modules)} ({app}: {why})")
        left_out += modules
    # --ignore for a whole run; a module named on the command line is collected anyway.
    arguments = [argument for argument in arguments if argument not in left_out]
    session.chdir(TESTS)
    session.run("python", "-m", "pytest", "-q", *(f"--ignore={module}" for module in left_out), *arguments)


def _cells(tagged):
    return [
        nox.param(python, django, id=f"django{django}", tags=[tag] if tagged else []) for python, django, tag in CELLS
    ]


@nox.session
@nox.parametrize("python,django", _cells(tagged=True))
def integration(session, django):
    """The integration suites (INTEGRATION) on one cell."""
    _install(session, django)
    _pytest(session, django, session.posargs or INTEGRATION)


@nox.session
@nox.parametrize("python,django", _cells(tagged=False))
def full(session, django):
    """The whole Python suite on one cell."""
    _install(session, django)
    _pytest(session, django, session.posargs)
