"""The engine's hot paths stepped from Python through engine.wasm (wasmtime-py), for
comparison with the native criterion benchmarks (component/benches/engine.rs): the same
facts, the same messages. The difference is what the wasm boundary and the guest's
compilation cost per step.

    .venv/bin/python bench/sidebyside/crossing.py [--copies 100,500] [--json out.json]

Needs only wasmtime and this package (no Django project): the facts are
tests/transcripts/facts/library.json, and synthetic ones with that many copies of its
`Book` admin (as the criterion bench builds them).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FACTS = ROOT / "tests" / "transcripts" / "facts" / "library.json"
CONTEXT = {
    "transport": "http",
    "principal": {"user_id": 1, "key_id": "bench-key-0000000000000000", "allowed_tools": []},
    "headers": {},
}


def synthetic(facts: dict, copies: int) -> dict:
    facts = copy.deepcopy(facts)
    model = next(m for m in facts["models"] if m["label"] == "library.Book")
    admin = next(a for a in facts["admins"] if a["model"] == "library.Book")
    for i in range(copies):
        obj, lower = f"Thing{i:04d}", f"thing{i:04d}"
        m = copy.deepcopy(model)
        m.update(
            label=f"bench.{obj}",
            app_label="bench",
            model_name=lower,
            object_name=obj,
            verbose_name=f"thing {i}",
            verbose_name_plural=f"things {i}",
        )
        facts["models"].append(m)
        a = copy.deepcopy(admin)
        a.update(id=f"admin/bench.{lower}", model=f"bench.{obj}")
        facts["admins"].append(a)
    return facts


def timed(fn, *, seconds=2.0, max_n=20000, min_n=5):
    for _ in range(3):
        fn()
    samples, started = [], time.perf_counter()
    while len(samples) < max_n and (len(samples) < min_n or time.perf_counter() - started < seconds):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    return {
        "median_us": statistics.median(samples) * 1e6,
        "p95_us": samples[max(0, math.ceil(0.95 * len(samples)) - 1)] * 1e6,
        "n": len(samples),
    }


def message(rpc: dict) -> str:
    return json.dumps({"message": json.dumps(rpc), "context": CONTEXT})


def resume(output: str, results) -> str:
    head = json.loads(output.partition("\n")[0])
    return json.dumps({"resume": head["state"], "results": results})


def book_rows(n):
    return [
        {
            "title": f"The Curious Machines, Volume {i}",
            "author": i % 7 + 1,
            "status": "published",
            "price": f"{10 + i % 30}.49",
            "published": f"199{i % 10}-01-18",
            "since_2000": i % 2 == 0,
        }
        for i in range(1, n + 1)
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", default="100,500")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--json")
    args = parser.parse_args()

    from django_mcp.engine import CompiledEngine, EngineInstance

    with tempfile.TemporaryDirectory() as cache:
        compiled = CompiledEngine(cache_dir=Path(cache))
    library = json.loads(FACTS.read_text())
    results = {}
    sets = [("library", library)] + [
        (f"synthetic-{n}", synthetic(library, int(n))) for n in args.copies.split(",") if n
    ]
    for name, facts in sets:
        text = json.dumps(facts)
        results[f"load/{name}"] = timed(lambda: EngineInstance(compiled, text), seconds=args.seconds, max_n=50, min_n=3)
        instance = EngineInstance(compiled, text)
        listing = message({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        asked = instance.step_text(listing)
        checks = len(json.loads(asked.partition("\n")[0])["effects"][0]["checks"])
        answered = resume(asked, [{"ok": [True] * checks}])
        results[f"tools_list/{name}/gates ({checks})"] = timed(
            lambda: instance.step_text(listing), seconds=args.seconds
        )
        results[f"tools_list/{name}/page"] = timed(lambda: instance.step_text(answered), seconds=args.seconds)

    instance = EngineInstance(compiled, FACTS.read_text())
    ping = json.dumps({"message": '{"jsonrpc":"2.0","id":1,"method":"ping"}', "context": {}})
    results["ping"] = timed(lambda: instance.step_text(ping), seconds=args.seconds)
    results["ping (dict in, dict out: EngineInstance.step)"] = timed(
        lambda: instance.step({"message": '{"jsonrpc":"2.0","id":1,"method":"ping"}', "context": {}}),
        seconds=args.seconds,
    )
    call = message(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "list_library_book", "arguments": {"page_size": 50, "ordering": "-price,title"}},
        }
    )
    planned = instance.step_text(call)
    page = resume(planned, [{"ok": True}, {"ok": {"results": book_rows(50), "count": 10000}}])
    assert "structuredContent" in instance.step_text(page)
    results["tools_call/admin list/effect"] = timed(lambda: instance.step_text(call), seconds=args.seconds)
    results["tools_call/admin list/shape 50 rows"] = timed(lambda: instance.step_text(page), seconds=args.seconds)
    get = message(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get_library_book", "arguments": {"pk": 7}},
        }
    )
    planned = instance.step_text(get)
    obj = {
        "object": {
            "id": 7,
            "title": "The Analytical Engines, Volume 7",
            "slug": "book-07",
            "summary": "",
            "status": "draft",
            "pages": 80,
            "price": "9.99",
            "rating": None,
            "in_print": True,
            "published": None,
            "isbn": "6d8be7d0-2dd4-5b96-bdcb-0bdf3c49d96c",
            "author": 1,
            "cover": "covers/book-07.png",
            "metadata": {"edition": 1},
            "reading_time": "P0DT01H00M00S",
            "website": "https://example.com/books/book-07",
            "tags": [1, 3],
        }
    }
    answered = resume(planned, [{"ok": True}, {"ok": obj}])
    assert "structuredContent" in instance.step_text(answered)
    results["tools_call/retrieve/effect"] = timed(lambda: instance.step_text(get), seconds=args.seconds)
    results["tools_call/retrieve/shape"] = timed(lambda: instance.step_text(answered), seconds=args.seconds)

    width = max(len(k) for k in results)
    print(f"{'step (through engine.wasm from Python)':<{width}}  {'median':>12}  {'p95':>12}")
    for name, r in results.items():
        unit = (1e3, "ms") if r["median_us"] >= 1000 else (1, "µs")
        print(f"{name:<{width}}  {r['median_us'] / unit[0]:>9.2f} {unit[1]}  {r['p95_us'] / unit[0]:>9.2f} {unit[1]}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
