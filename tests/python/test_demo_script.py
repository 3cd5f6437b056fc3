"""The README's first command: `scripts/demo` serves the demo and prints a working key."""

import json
import os
import re
import signal
import subprocess
import time
import urllib.request

from conftest import ROOT, _free_port


def test_the_demo_command_serves_mcp_with_the_key_it_prints(tmp_path):
    port = _free_port()
    env = {**os.environ, "PORT": str(port), "DEMO_DB": str(tmp_path / "db.sqlite3"),
           "DEMO_MEDIA": str(tmp_path / "media"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    process = subprocess.Popen([str(ROOT / "scripts" / "demo")], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        printed = []
        deadline = time.monotonic() + 240
        while "STDIO instead" not in "".join(printed) and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, "scripts/demo exited early:\n" + "".join(printed)
            printed.append(line)
        key = re.search(r"Key \(alice\)\s*:\s*(\S+)", "".join(printed)).group(1)
        assert len(key) == 57
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/mcp", data=body, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {key}"})
        for _ in range(100):
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    reply = json.load(response)
                break
            except OSError:
                time.sleep(0.2)
        assert "list_library_book" in {t["name"] for t in reply["result"]["tools"]}
        assert '"Authorization": "Bearer ' + key in "".join(printed)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
