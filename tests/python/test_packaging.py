"""The package as users get it: a pure `py3-none-any` wheel carrying engine.wasm, installed
into a fresh virtual environment with no Rust on PATH, serving the demo project; and a wheel
built from the sdist where Rust is present."""

import json
import os
import shutil
import subprocess
import sys
import tomllib
import urllib.request
import zipfile

import pytest
from packaging.version import Version

import django_mcp

from servers import DEMO, ROOT, free_port, wait_for_port

HOST = ROOT / "host-python"


def run(*args, **kwargs):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


def test_the_version_succeeds_the_original_and_agrees_everywhere():
    """`pip install -U django-mcp-framework` takes the highest version: this one must rank
    above the original 1.0.0, as a major version (its default tool names changed). The
    package, the serverInfo version (`__version__`), the engine crate and the changelog agree."""
    version = tomllib.loads((HOST / "pyproject.toml").read_text())["project"]["version"]
    engine = tomllib.loads((ROOT / "component" / "Cargo.toml").read_text())["package"]["version"]
    assert version == django_mcp.__version__ == engine
    assert Version(version).major > Version("1.0.0").major
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(HOST))
    [built] = out.glob("*.whl")
    return built


def test_the_wheel_is_pure_and_carries_the_engine(wheel):
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata] = [n for n in names if n.endswith(".dist-info/WHEEL")]
        wheel_info = archive.read(metadata).decode()
        packaged = archive.read("django_mcp/engine.wasm")
    assert "Tag: py3-none-any" in wheel_info
    assert "Root-Is-Purelib: true" in wheel_info
    assert packaged[:4] == b"\0asm"
    assert packaged == (HOST / "django_mcp" / "engine.wasm").read_bytes()
    assert not any(n.endswith((".rs", ".wit")) for n in names)


def test_the_wheel_serves_the_demo_without_rust(wheel, tmp_path):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    python = venv / "bin" / "python"
    run(str(python), "-m", "pip", "install", "--quiet", str(wheel))
    # Only the new environment and the system's basics: no cargo, no rustc, no source tree.
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(DEMO),
        "DEMO_DB": str(tmp_path / "db.sqlite3"),
        "DEMO_MEDIA": str(tmp_path / "media"),
        "DEMO_DEBUG": "0",
        "DEMO_MCP_DISCOVERY": os.environ["DEMO_MCP_DISCOVERY"],  # as conftest sets it for every server
    }
    assert shutil.which("cargo", path=env["PATH"]) is None
    where = run(str(python), "-c", "import django_mcp; print(django_mcp.__file__)", env=env, cwd=tmp_path).stdout
    assert where.startswith(str(venv))
    manage = [str(python), str(DEMO / "manage.py")]
    run(*manage, "migrate", "--verbosity", "0", env=env)
    run(*manage, "demo_seed", env=env)
    credential = run(*manage, "mcp_key", "create", "alice", "--name", "wheel", env=env).stdout.strip()
    port = free_port()
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, server)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/mcp/",
            data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {credential}"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            reply = json.load(response)
    finally:
        server.terminate()
        server.wait(timeout=10)
    names = {tool["name"] for tool in reply["result"]["tools"]}
    assert {"list_library_book", "get_library_book"} <= names
    # The wheel does not bring Django REST framework, and nothing needs it: no API tools.
    no_drf = subprocess.run([str(python), "-c", "import rest_framework"], env=env, capture_output=True)
    assert no_drf.returncode != 0
    assert not [name for name in names if "api_book" in name]


def test_a_wheel_builds_from_the_sdist_with_rust(tmp_path):
    run(sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(tmp_path), cwd=HOST)
    [sdist] = tmp_path.glob("*.tar.gz")
    env = {**os.environ, "CARGO_TARGET_DIR": str(ROOT / "target")}  # reuse compiled dependencies
    env.pop("DJANGO_MCP_PREBUILT_WASM", None)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(sdist), env=env)
    [built] = tmp_path.glob("*.whl")
    with zipfile.ZipFile(built) as archive:
        assert archive.read("django_mcp/engine.wasm")[:4] == b"\0asm"
