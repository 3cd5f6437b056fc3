"""Two instances of the demo behind nginx, as a deployment runs them: uvicorn, and gunicorn
with two uvicorn workers, on their own ports, sharing one PostgreSQL database, one Redis (the
cache rate limits count in) and one SECRET_KEY, behind nginx's round-robin upstream
(tests/python/fixtures/nginx/mcp.conf).

Through nginx, with the official `mcp` SDK and raw HTTP: a handshake-era session (2025-11-25,
Mcp-Session-Id) keeps working while its requests land on either instance, so do 2026-07-28
stateless requests, multi round-trip requests (a round on one instance, the next on the other),
SSE progress streams, and a rate limit counts calls on both instances against one budget. A
body over nginx's `client_max_body_size` is a JSON-RPC 413 from nginx. nginx's log tells which
instance served each request; both must have served, and every request be answered as meant.

Runs when DJANGO_MCP_TEST_MULTI_INSTANCE=1, with PostgreSQL (DEMO_DATABASE_URL and
DJANGO_MCP_TEST_DATABASE=postgres), Redis (DJANGO_MCP_TEST_REDIS_URL) and nginx installed:
scripts/test starts them (scripts/lib.sh) for this module.
"""

import collections
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx2
import pytest
from mcp.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import ElicitResult

from conftest import live_env
from servers import DEMO, free_port, manage, running, serve_uvicorn, wait_for_port

HERE = Path(__file__).resolve().parent
MAX_BODY = 1024 * 1024  # nginx's limit here, below the endpoint's own (4 MiB by default)
META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}

NGINX = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))

pytestmark = pytest.mark.skipif(
    not os.environ.get("DJANGO_MCP_TEST_MULTI_INSTANCE")
    or os.environ.get("DJANGO_MCP_TEST_DATABASE") != "postgres"
    or not os.environ.get("DJANGO_MCP_TEST_REDIS_URL")
    or not NGINX,
    reason="scripts/test runs this module with PostgreSQL, Redis and nginx (DJANGO_MCP_TEST_MULTI_INSTANCE=1)",
)


# --- the deployment ---------------------------------------------------------------------------


@contextlib.contextmanager
def serve_nginx(port_a, port_b):
    """nginx on a free 127.0.0.1 port in front of the two instances; yields (port, access log).
    Its files live in a temporary directory of its own; as root, it runs as `nobody`, which owns
    only that directory."""
    prefix = Path(tempfile.mkdtemp(prefix="django-mcp-nginx-"))
    port = free_port()
    conf = (HERE / "fixtures" / "nginx" / "mcp.conf").read_text()
    for name, value in {
        "PREFIX": prefix,
        "PORT": port,
        "PORT_A": port_a,
        "PORT_B": port_b,
        "MAX_BODY": MAX_BODY,
    }.items():
        conf = conf.replace(f"@{name}@", str(value))
    (prefix / "nginx.conf").write_text(conf)
    command = [
        NGINX,
        "-p",
        str(prefix),
        "-c",
        str(prefix / "nginx.conf"),
        "-e",
        str(prefix / "error.log"),
        "-g",
        "daemon off;",
    ]
    if os.geteuid() == 0:
        for path in (prefix, *prefix.iterdir()):
            shutil.chown(path, "nobody")
        command = ["runuser", "-u", "nobody", "--", *command]
    nginx = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        try:
            wait_for_port(port, nginx)
        except RuntimeError:
            raise RuntimeError(f"nginx did not start: {(prefix / 'error.log').read_text()}") from None
        yield port, prefix / "access.log"
    finally:
        # To nginx's master itself (runuser does not pass SIGQUIT on): finish what is in
        # flight, then stop.
        pid = int((prefix / "nginx.pid").read_text()) if (prefix / "nginx.pid").exists() else nginx.pid
        os.kill(pid, signal.SIGQUIT)
        try:
            nginx.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            nginx.wait()
        shutil.rmtree(prefix, ignore_errors=True)


@contextlib.contextmanager
def serve_gunicorn(env, log_path):
    """The demo under gunicorn with two uvicorn workers on a free 127.0.0.1 port; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "demo_project.asgi:application", "--bind", f"127.0.0.1:{port}"]
    workers = ["--worker-class", "uvicorn_worker.UvicornWorker", "--workers", "2", "--log-level", "warning"]
    with running([*command, *workers], port, log_path, cwd=DEMO, env=env):
        yield f"http://127.0.0.1:{port}/mcp/"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("cluster")
    with contextlib.ExitStack() as stack:
        env = live_env(
            workdir,
            DJANGO_SETTINGS_MODULE="fixtures.multi_instance_settings",
            DEMO_SECRET_KEY=secrets.token_urlsafe(40),  # one key, shared by every instance
        )
        manage(env, "migrate", "--verbosity", "0")
        manage(env, "demo_seed")
        keys = {name: manage(env, "mcp_key", "create", "alice", "--name", name) for name in ("sdk", "limited")}
        # Each instance as on a machine of its own: its own compiled-engine cache and log. One
        # is uvicorn, the other gunicorn with two uvicorn workers, as docs/deployment.md says.
        instances = {
            "a": stack.enter_context(
                serve_uvicorn(
                    "demo_project.asgi:application",
                    DEMO,
                    {**env, "XDG_CACHE_HOME": str(workdir / "cache-a")},
                    workdir / "a.log",
                )
            ),
            "b": stack.enter_context(
                serve_gunicorn({**env, "XDG_CACHE_HOME": str(workdir / "cache-b")}, workdir / "b.log")
            ),
        }
        ports = {name: urlsplit(url).port for name, url in instances.items()}
        port, access_log = stack.enter_context(serve_nginx(ports["a"], ports["b"]))
        yield {
            "url": f"http://127.0.0.1:{port}/mcp/",
            "instances": instances,
            "keys": keys,
            "upstreams": {f"127.0.0.1:{p}": name for name, p in ports.items()},
            "access_log": access_log,
            "logs": {name: workdir / f"{name}.log" for name in instances},
            "direct": collections.Counter(),
        }


def served(cluster):
    """nginx's log, a dict a request: which instance served it ("" when nginx answered
    itself), its status and MCP headers."""
    rows = [json.loads(line) for line in cluster["access_log"].read_text().splitlines()]
    for row in rows:
        row["instance"] = cluster["upstreams"].get(row.pop("upstream"), "")
    return rows


def sdk(cluster, mode, credential="sdk", **options):
    headers = {"Authorization": f"Bearer {cluster['keys'][credential]}"}
    transport = streamable_http_client(cluster["url"], http_client=httpx2.AsyncClient(headers=headers, timeout=30))
    return Client(transport, mode=mode, **options)


def post(cluster, url, body, credential=None, headers=None):
    """A raw POST to nginx, or straight to an instance (`url` one of cluster["instances"])."""
    for name, instance in cluster["instances"].items():
        if url == instance:
            cluster["direct"][name] += 1
    sent = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", **(headers or {})}
    if credential:
        sent["Authorization"] = f"Bearer {credential}"
    return httpx2.post(url, content=body if isinstance(body, bytes) else json.dumps(body), headers=sent, timeout=30)


def stateless(method, name, params, **meta):
    body = {"jsonrpc": "2.0", "id": 7, "method": method, "params": {**params, "_meta": {**META, **meta}}}
    return body, {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method, "Mcp-Name": name}


# --- what must work wherever a request lands ------------------------------------------------


def test_a_handshake_session_is_served_by_both_instances(cluster):
    async def main():
        async with sdk(cluster, "legacy") as client:
            assert client.protocol_version == "2025-11-25"
            for _ in range(3):
                await client.send_ping()
                listed = await client.call_tool("list_library_book", {"page_size": 5})
                assert listed.is_error is False and len(listed.structured_content["results"]) == 5

    anyio.run(main)
    sessions = collections.defaultdict(set)
    for row in served(cluster):
        if row["session"] and row["method"] == "POST":
            assert row["status"] in (200, 202), row  # 202: notifications/initialized
            sessions[row["session"]].add(row["instance"])
    assert list(sessions.values()) == [{"a", "b"}]


def test_a_session_id_issued_by_one_instance_is_honoured_by_the_other(cluster):
    a, b, key = cluster["instances"]["a"], cluster["instances"]["b"], cluster["keys"]["sdk"]
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
    }
    session = post(cluster, a, initialize, key).headers["Mcp-Session-Id"]
    listed = post(cluster, b, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, key, {"Mcp-Session-Id": session})
    assert listed.status_code == 200 and listed.json()["result"]["tools"]
    # An id no instance signed is refused by both, which sends the client back to initialize.
    for url in (a, b):
        refused = post(
            cluster, url, {"jsonrpc": "2.0", "id": 3, "method": "ping"}, key, {"Mcp-Session-Id": session + "x"}
        )
        assert refused.status_code == 404, refused.text


def test_stateless_requests_are_served_by_both_instances(cluster):
    async def main():
        async with sdk(cluster, "2026-07-28") as client:
            for _ in range(3):
                got = await client.call_tool("get_library_book", {"pk": 1})
                assert got.is_error is False and got.structured_content["object"]["id"] == 1

    anyio.run(main)
    calls = [row for row in served(cluster) if row["name"] == "get_library_book"]
    assert {row["version"] for row in calls} == {"2026-07-28"} and {row["status"] for row in calls} == {200}
    assert {row["instance"] for row in calls} == {"a", "b"}


def test_a_multi_round_trip_request_resumes_on_the_other_instance(cluster):
    key = cluster["keys"]["sdk"]
    for first, second, pk in (("a", "b", 1), ("b", "a", 2)):
        body, headers = stateless(
            "tools/call",
            "retitle_book",
            {"name": "retitle_book", "arguments": {"pk": pk, "title": f"Resumed on {second}"}},
        )
        asked = post(cluster, cluster["instances"][first], body, key, headers).json()["result"]
        assert asked["resultType"] == "input_required", asked
        body["params"].update(
            inputResponses={"confirm": {"action": "accept", "content": {"ok": True}}},
            requestState=asked["requestState"],
        )
        done = post(cluster, cluster["instances"][second], body, key, headers).json()["result"]
        assert done["content"][0]["text"] == f"book {pk} retitled", done

    asked_messages = []

    async def confirm(context, params):
        asked_messages.append(params.message)
        return ElicitResult(action="accept", content={"ok": True})

    async def main():
        async with sdk(cluster, "2026-07-28", elicitation_callback=confirm) as client:
            for pk in (3, 4):
                done = await client.call_tool("retitle_book", {"pk": pk, "title": "Confirmed through nginx"})
                assert done.is_error is False and done.content[0].text == f"book {pk} retitled"

    anyio.run(main)
    assert len(asked_messages) == 2
    rounds = [row for row in served(cluster) if row["name"] == "retitle_book" and row["session"] == ""]
    assert {row["status"] for row in rounds} == {200} and {row["instance"] for row in rounds} == {"a", "b"}


def test_progress_streams_through_nginx_from_both_instances(cluster):
    progress = []

    async def on_progress(done, total, message):
        progress.append((done, total))

    async def main():
        for mode in ("legacy", "2026-07-28"):
            async with sdk(cluster, mode) as client:
                for _ in range(2):
                    counted = await client.call_tool("count_books", {}, progress_callback=on_progress)
                    assert counted.structured_content["count"] > 0

    anyio.run(main)
    assert progress == [(0, 2), (2, 2)] * 4
    # Raw: one event stream per call, the notifications ahead of the result.
    for _ in range(2):
        body, headers = stateless(
            "tools/call", "count_books", {"name": "count_books", "arguments": {}}, progressToken="p"
        )
        answer = post(cluster, cluster["url"], body, cluster["keys"]["sdk"], headers)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(line[len("data: ") :]) for line in answer.text.splitlines() if line.startswith("data: ")]
        assert [e.get("method") for e in events] == ["notifications/progress", "notifications/progress", None], events
        assert [e["params"]["progress"] for e in events[:2]] == [0, 2] and events[-1]["result"]["content"], events
    streamed = [row for row in served(cluster) if row["name"] == "count_books"]
    assert {row["status"] for row in streamed} == {200} and {row["instance"] for row in streamed} == {"a", "b"}


def _not_at_the_turn_of_the_hour():
    """Limits count in fixed windows aligned to the clock: keep a test's calls in one."""
    if time.time() % 3600 > 3600 - 30:
        time.sleep(3600 - time.time() % 3600 + 1)


def test_a_rate_limit_counts_calls_on_both_instances_against_one_budget(cluster):
    """list_library_tag allows 3 calls an hour per key (multi_instance_settings): 3 in all,
    wherever they land."""
    _not_at_the_turn_of_the_hour()
    body, headers = stateless("tools/call", "list_library_tag", {"name": "list_library_tag", "arguments": {}})
    answers = [post(cluster, cluster["url"], body, cluster["keys"]["limited"], headers) for _ in range(6)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429], [a.text for a in answers]
    assert all(a.json()["error"]["code"] == -32005 and int(a.headers["Retry-After"]) > 0 for a in answers[3:])
    limited = [row for row in served(cluster) if row["name"] == "list_library_tag"]
    assert {row["instance"] for row in limited if row["status"] == 200} == {"a", "b"}
    assert {row["instance"] for row in limited if row["status"] == 429} == {"a", "b"}


def test_failed_credentials_count_per_client_address_across_instances(cluster):
    """4 failed credential checks an hour per client address (multi_instance_settings), on
    both instances: the fifth from this address is refused wherever it lands, and sending
    X-Forwarded-For does not change the address (nginx sets it). Runs after every test that
    sends a credential through nginx: this address stays refused for the hour."""
    _not_at_the_turn_of_the_hour()
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    answers = [
        post(cluster, cluster["url"], ping, f"nokey{i}.secret", {"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(6)
    ]
    assert [a.status_code for a in answers] == [401] * 4 + [429] * 2, [a.text for a in answers]
    refused = [row for row in served(cluster) if row["status"] in (401, 429)]
    assert {row["instance"] for row in refused if row["status"] == 401} == {"a", "b"}
    assert {row["instance"] for row in refused if row["status"] == 429} == {"a", "b"}


def test_a_body_over_nginx_limit_is_a_json_rpc_413_from_nginx(cluster):
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "list_library_tag", "arguments": {"q": "x" * MAX_BODY}},
        }
    ).encode()
    before = len(served(cluster))
    answer = post(cluster, cluster["url"], body, cluster["keys"]["sdk"])
    assert answer.status_code == 413
    assert answer.json()["error"] == {"code": -32600, "message": f"Request body exceeds {MAX_BODY} bytes"}
    # nginx logs the request once it has drained the body it refused, after answering.
    for _ in range(100):
        if len(served(cluster)) > before:
            break
        time.sleep(0.05)
    assert [row["instance"] for row in served(cluster)[before:]] == [""]  # no instance saw it


def test_both_instances_served_and_every_answer_was_meant(cluster):
    """Runs last: per instance, what nginx sent it; every answer is one the tests above meant
    (the SDK's GET for a server stream and DELETE of its session are 405: no such stream);
    each instance audited exactly the requests it was sent, and logged no traceback."""
    rows = served(cluster)
    by_instance = collections.Counter(row["instance"] or "nginx" for row in rows)
    statuses = collections.Counter((row["method"], row["status"]) for row in rows)
    print(
        f"\nthrough nginx, requests per instance: {dict(by_instance)}; (method, status): {dict(statuses)};"
        f" straight to an instance: {dict(cluster['direct'])}"
    )
    assert set(by_instance) == {"a", "b", "nginx"} and by_instance["nginx"] == 1
    assert set(statuses) <= {("POST", s) for s in (200, 202, 401, 413, 429)} | {("GET", 405), ("DELETE", 405)}
    assert statuses[("POST", 429)] == 3 + 2 and statuses[("POST", 401)] == 4 and statuses[("POST", 413)] == 1
    for name, log in cluster["logs"].items():
        text = log.read_text()
        assert text.count("django_mcp.audit ") == by_instance[name] + cluster["direct"][name], name
        assert "Traceback" not in text, text[-2000:]
