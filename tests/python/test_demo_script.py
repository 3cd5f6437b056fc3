"""The README's first command: `scripts/demo` serves the demo, prints a working key and a
client configuration in each client's own shape, and starts without alarming notices."""

import json
import os
import re
import shlex
import signal
import subprocess
import time
import urllib.request

import pytest

from servers import ROOT, free_port

SERVING = "Uvicorn running on"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The running demo and everything it printed until uvicorn said it was serving."""
    tmp_path = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "DEMO_DB": str(tmp_path / "db.sqlite3"),
        "DEMO_MEDIA": str(tmp_path / "media"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "demo")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        printed = []
        deadline = time.monotonic() + 240
        while SERVING not in "".join(printed) and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, "scripts/demo exited early:\n" + "".join(printed)
            printed.append(line)
        yield port, "".join(printed), env
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def printed_key(printed):
    return re.search(r"Key \(alice\)\s*:\s*(\S+)", printed).group(1)


def snippet_after(printed, title):
    """The line printed under the heading that starts with `title`."""
    lines = printed.splitlines()
    [at] = [i for i, line in enumerate(lines) if line.strip().startswith(title)]
    return lines[at + 1].strip()


def test_the_demo_command_serves_mcp_with_the_key_it_prints(demo):
    port, printed, _env = demo
    key = printed_key(printed)
    assert len(key) == 57
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/mcp",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    for _ in range(100):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                reply = json.load(response)
            break
        except OSError:
            time.sleep(0.2)
    assert "list_library_book" in {t["name"] for t in reply["result"]["tools"]}


def test_each_client_gets_its_own_configuration(demo):
    port, printed, env = demo
    key = printed_key(printed)
    url = f"http://127.0.0.1:{port}/mcp/"
    headers = {"Authorization": f"Bearer {key}"}

    assert shlex.split(snippet_after(printed, "Claude Code, a command:")) == [
        "claude",
        "mcp",
        "add",
        "--transport",
        "http",
        "django-demo",
        url,
        "--header",
        f"Authorization: Bearer {key}",
    ]
    assert json.loads(snippet_after(printed, "Claude Code, or the project's .mcp.json:")) == {
        "mcpServers": {"django-demo": {"type": "http", "url": url, "headers": headers}}
    }
    assert json.loads(snippet_after(printed, "VS Code, .vscode/mcp.json:")) == {
        "servers": {"django-demo": {"type": "http", "url": url, "headers": headers}}
    }
    assert json.loads(snippet_after(printed, "Cursor, ~/.cursor/mcp.json")) == {
        "mcpServers": {"django-demo": {"url": url, "headers": headers}}
    }

    # Claude Desktop's file starts local (STDIO) servers: the demo's own, with the key in env.
    desktop = json.loads(snippet_after(printed, "Claude Desktop, claude_desktop_config.json"))
    server = desktop["mcpServers"]["django-demo"]
    assert set(server) == {"command", "args", "env"}
    assert server["args"] == [str(ROOT / "demo" / "manage.py"), "mcp_server"]
    assert server["env"] == {"DJANGO_MCP_KEY": key, "DEMO_DB": env["DEMO_DB"], "DEMO_MEDIA": env["DEMO_MEDIA"]}
    listed = subprocess.run(
        [server["command"], *server["args"]],
        env={**os.environ, **server["env"]},
        capture_output=True,
        text=True,
        timeout=120,
        input=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}) + "\n",
    )
    [reply] = [json.loads(line) for line in listed.stdout.splitlines() if line.startswith("{")]
    assert "list_library_book" in {tool["name"] for tool in reply["result"]["tools"]}


def test_the_demo_starts_without_the_lifespan_notice(demo):
    _port, printed, _env = demo
    assert SERVING in printed
    assert "lifespan" not in printed.lower()
