"""Benchmark: django-mcp against a floor measured in the same run, in the same process.

The floor for each operation is a bare Django view doing the same ORM work and returning
the same JSON, called through the same test client; the ratio says what MCP costs on top.

    .venv/bin/python bench/run.py [--iterations 300]

Not part of CI's pass/fail: the machine is shared, so only ratios from one run mean much.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import scratch

WORKDIR = scratch.in_process("django-mcp-bench-")


def timed(fn, iterations, warmup=20):
    return interleaved([fn], iterations, warmup)[0]


def interleaved(fns, iterations, warmup=20):
    """(median, p95) of each function, calling them in turn so that a noisy neighbour on
    this shared machine slows all of them alike rather than whichever ran at the time."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    samples = [[] for _ in fns]
    for _ in range(iterations):
        for fn, bucket in zip(fns, samples):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    out = []
    for bucket in samples:
        bucket.sort()
        out.append((statistics.median(bucket), bucket[int(len(bucket) * 0.95) - 1]))
    return out


def cold_start(credential):
    """Seconds from a new interpreter to the first tools/list answer (cache warm or cold)."""
    code = (
        "import time; t=time.perf_counter(); import django; django.setup();"
        "from django.test import Client; import json;"
        f"r=Client().post('/mcp/', json.dumps({{'jsonrpc':'2.0','id':1,'method':'tools/list'}}),"
        f"content_type='application/json', HTTP_AUTHORIZATION='Bearer {credential}');"
        "assert r.status_code == 200, r.content; print(time.perf_counter()-t)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import Client

    from django_mcp.engine import EngineInstance
    from django_mcp.keys import authenticate_credential
    from django_mcp.server import state

    credential = scratch.seeded(os.environ, "bench")
    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {credential}"}

    def rpc(method, params=None):
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}})
        response = client.post("/mcp/", body, content_type="application/json", **auth)
        assert response.status_code == 200, response.content
        return response

    def get(path, **headers):
        response = client.get(path, **headers)
        assert response.status_code == 200, response.content
        return response

    listed = json.loads(rpc("tools/call", {"name": "list_library_book", "arguments": {"page_size": 50}}).content)
    assert len(listed["result"]["structuredContent"]["results"]) == 50

    n = args.iterations
    operations = [
        ("initialize", lambda: rpc("initialize", {"protocolVersion": "2025-11-25"}), "ping/"),
        ("tools/list", lambda: rpc("tools/list"), "ping/"),
        (
            "admin list, 50 rows",
            lambda: rpc("tools/call", {"name": "list_library_book", "arguments": {"page_size": 50}}),
            "books/?page_size=50",
        ),
        ("retrieve", lambda: rpc("tools/call", {"name": "get_library_book", "arguments": {"pk": 7}}), "books/7/"),
    ]
    print(
        "floor: a bare view doing the same ORM work; floor+auth: the same view authenticating the key first, with the ORM"  # noqa: E501
    )
    print(
        f"{'operation':<22}{'ours':>9}{'p95':>9}{'floor':>9}{'p95':>9}{'ratio':>7}{'floor+auth':>12}{'p95':>9}{'ratio':>7}"
    )
    results = {}
    for name, ours, path in operations:
        (om, op), (fm, fp), (am, ap) = interleaved(
            [ours, lambda: get(f"/floor/{path}"), lambda: get(f"/floor-auth/{path}", **auth)], n
        )
        results[name] = {
            "ours_ms": om * 1e3,
            "ours_p95_ms": op * 1e3,
            "floor_ms": fm * 1e3,
            "floor_p95_ms": fp * 1e3,
            "floor_auth_ms": am * 1e3,
            "floor_auth_p95_ms": ap * 1e3,
            "ratio": om / fm,
            "ratio_auth": om / am,
        }
        print(
            f"{name:<22}{om * 1e3:>7.2f}ms{op * 1e3:>7.2f}ms{fm * 1e3:>7.2f}ms{fp * 1e3:>7.2f}ms{om / fm:>7.2f}"
            f"{am * 1e3:>10.2f}ms{ap * 1e3:>7.2f}ms{om / am:>7.2f}"
        )

    # DRF: the demo's BookViewSet through MCP against the same view called directly over the
    # same client (session-authenticated: one query for the user, as the key costs ours).
    from django.contrib.auth.models import User

    drf_client = Client()
    drf_client.force_login(User.objects.get(username="alice"))

    def drf_get(path):
        response = drf_client.get(path, HTTP_ACCEPT="application/json")
        assert response.status_code == 200, response.content
        return response

    drf_operations = [
        (
            "DRF list, 50 rows",
            lambda: rpc("tools/call", {"name": "list_api_book", "arguments": {"page_size": 50}}),
            "/api/books/?size=50",
        ),
        (
            "DRF retrieve",
            lambda: rpc("tools/call", {"name": "get_api_book", "arguments": {"path": {"pk": 7}}}),
            "/api/books/7/",
        ),
    ]
    print(f"\n{'operation':<22}{'ours':>9}{'p95':>9}{'DRF view':>10}{'p95':>9}{'ratio':>7}")
    for name, ours, path in drf_operations:
        (om, op), (dm, dp) = interleaved([ours, lambda: drf_get(path)], n)
        results[name] = {
            "ours_ms": om * 1e3,
            "ours_p95_ms": op * 1e3,
            "drf_view_ms": dm * 1e3,
            "drf_view_p95_ms": dp * 1e3,
            "ratio": om / dm,
        }
        print(f"{name:<22}{om * 1e3:>7.2f}ms{op * 1e3:>7.2f}ms{dm * 1e3:>8.2f}ms{dp * 1e3:>7.2f}ms{om / dm:>7.2f}")

    key_check, _ = timed(lambda: authenticate_credential(credential), n)
    instance = EngineInstance(state.get_runtime().compiled, state.get_runtime().facts_json())
    ping = {"message": '{"jsonrpc":"2.0","id":1,"method":"ping"}', "context": {}}
    crossing, _ = timed(lambda: instance.step(ping), n * 10)
    results["key_verification_us"] = key_check * 1e6
    results["engine_step_ping_us"] = crossing * 1e6
    print(f"\nkey verification (incl. its one query): {key_check * 1e6:.0f} µs")
    print(f"one engine step (ping, JSON in and out): {crossing * 1e6:.1f} µs")

    import shutil

    shutil.rmtree(WORKDIR / "cache", ignore_errors=True)
    cold = cold_start(credential)
    warm = cold_start(credential)
    results["cold_start_s"] = {"no_compiled_cache": cold, "compiled_cache": warm}
    print(f"cold start to first tools/list: {cold:.2f} s without the compiled-engine cache, {warm:.2f} s with it")
    (WORKDIR / "results.json").write_text(json.dumps(results, indent=2))
    print(f"\nJSON results: {WORKDIR / 'results.json'}")


if __name__ == "__main__":
    main()
