"""Render the side-by-side results (results.json) as Markdown tables.

    python bench/sidebyside/report.py bench/sidebyside/results/results.json

Ratios are to the floor: in process, the token-authenticated bare view doing the same ORM
work (measured interleaved in this package's process, the reference for both packages);
over HTTP, the same view on a uvicorn server of the project without `django_mcp`.
"""

from __future__ import annotations

import json
import sys

INPROCESS_TARGETS = {
    "retrieve": 1.3,
    "admin list, 50 rows": 1.5,
    "search, 50 rows": 1.5,
    "create": 1.3,
    "update": 1.3,
    "tools/list, one page": 2.0,
}


def ms(value):
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def ratio(value, floor):
    if value is None or not floor:
        return ""
    return f" ({value / floor:.2f}×)" if value / floor < 100 else f" ({value / floor:.0f}×)"


def _get(d, *keys):
    for key in keys:
        if not isinstance(d, dict) or key not in d or d[key] is None:
            return None
        d = d[key]
    return d


def inprocess_table(size):
    ours = _get(size, "inprocess", "ours", "ops") or {}
    original = _get(size, "inprocess", "original", "ops") or {}
    lines = [
        "| operation | floor: view + token | bare view | ORM alone | ours median | ours p95 | original median | original p95 | target |",  # noqa: E501
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for op, variants in ours.items():
        if "error" in variants:
            lines.append(f"| {op} | error: {variants['error'][:80]} |||||||")
            continue
        floor = variants.get("floor_auth") or {}
        fm, fp = floor.get("median_ms"), floor.get("p95_ms")
        pkg = variants.get("pkg") or {}
        orig = original.get(op) or {}
        if "error" in orig:
            om = op_ = None
            orig_cell = f"error: {orig['error'][:60]}"
            orig_p95 = ""
        else:
            om, op_ = _get(orig, "pkg", "median_ms"), _get(orig, "pkg", "p95_ms")
            orig_cell = ms(om) + ratio(om, fm) + (f" n={orig['pkg']['n']}" if om is not None else "")
            orig_p95 = ms(op_) + ratio(op_, fp)
        target = INPROCESS_TARGETS.get(op)
        target_cell = f"≤ {target}×" if target else ("≤ 100 ms at N = 500" if op == "tools/list, all pages" else "")
        lines.append(
            f"| {op} | {ms(fm)} (p95 {ms(fp)}) | {ms(_get(variants, 'floor', 'median_ms'))} | "
            f"{ms(_get(variants, 'orm', 'median_ms'))} | **{ms(pkg.get('median_ms'))}{ratio(pkg.get('median_ms'), fm)}** | "  # noqa: E501
            f"{ms(pkg.get('p95_ms'))}{ratio(pkg.get('p95_ms'), fp)} | {orig_cell} | {orig_p95} | {target_cell} |"
        )
    return "\n".join(lines)


def http_table(size):
    http = size.get("http") or {}
    lines = [
        "| operation | conc. | floor req/s | floor median / p95 | ours req/s | ours median / p95 | ours errors | original req/s | original median / p95 | original errors |",  # noqa: E501
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for op, by_c in (http.get("ops") or {}).items():
        for c, row in by_c.items():
            f, o, g = row.get("floor") or {}, row.get("ours") or {}, row.get("original")
            frps = f.get("throughput_rps")

            def rps(r):
                if not r or r.get("throughput_rps") is None:
                    return "–"
                text = f"{r['throughput_rps']:.0f}" if r["throughput_rps"] >= 10 else f"{r['throughput_rps']:.1f}"
                return text + (f" ({r['throughput_rps'] / frps:.2f}×)" if frps else "")

            def lat(r):
                if not r or r.get("median_ms") is None:
                    return "–"
                return f"{ms(r['median_ms'])} / {ms(r['p95_ms'])}"

            def errs(r):
                if not r:
                    return "–"
                return f"{r['errors']}/{r['requests']}"

            lines.append(
                f"| {op} | {c} | {rps(f)} | {lat(f)} | **{rps(o)}** | {lat(o)} | {errs(o)} | "
                f"{rps(g)} | {lat(g)} | {errs(g)} |"
            )
    return "\n".join(lines)


def targets(results):
    """(target, where, measured, met) rows for this package."""
    sizes = results["sizes"]
    rows = []
    largest = max(sizes, key=int) if sizes else None
    for n, size in sizes.items():
        ops = _get(size, "inprocess", "ours", "ops") or {}
        for op, limit in INPROCESS_TARGETS.items():
            pkg, floor = _get(ops, op, "pkg", "median_ms"), _get(ops, op, "floor_auth", "median_ms")
            if pkg is None or not floor:
                continue
            what = "ping floor" if op == "tools/list, one page" else "floor"
            rows.append((f"{op} ≤ {limit}× {what}", f"N = {n}", f"{pkg / floor:.2f}×", pkg / floor <= limit))
        http_ops = _get(size, "http", "ops") or {}
        for op, by_c in http_ops.items():
            for c in ("8", "32"):
                row = by_c.get(c)
                if not row:
                    continue
                f, o = row["floor"], row["ours"]
                if not f.get("throughput_rps"):
                    continue
                r = o["throughput_rps"] / f["throughput_rps"]
                rows.append(
                    (
                        f"throughput ≥ 0.8× floor, 0 errors: {op}",
                        f"N = {n}, c = {c}",
                        f"{r:.2f}×, {o['errors']} errors",
                        r >= 0.8 and o["errors"] == 0,
                    )
                )
    if largest is not None:
        size = sizes[largest]
        where = f"N = {largest}" + ("" if largest == "500" else " (largest measured; target is at N = 500)")
        allp = _get(size, "inprocess", "ours", "ops", "tools/list, all pages", "pkg", "median_ms")
        if allp is not None:
            rows.append(("tools/list, all pages ≤ 100 ms", where, ms(allp), allp <= 100))
        cold = _get(size, "cold_start", "ours", "median_s")
        if cold is not None:
            floor = _get(size, "cold_start", "floor", "median_s")
            rows.append(
                (
                    "cold start ≤ 0.5 s (cached engine)",
                    where,
                    f"{cold:.2f} s (floor {floor:.2f} s)" if floor else f"{cold:.2f} s",
                    cold <= 0.5,
                )
            )
        rss = _get(size, "http", "rss_mb")
        if rss and _get(rss, "ours", "after_warmup") and _get(rss, "floor", "after_warmup"):
            delta = rss["ours"]["after_warmup"] - rss["floor"]["after_warmup"]
            rows.append(("RSS ≤ 30 MB above the floor", where, f"+{delta:.1f} MB", delta <= 30))
    secret = [
        (_get(size, "inprocess", "ours", "key_verification", "secret_only", "median_ms"), n)
        for n, size in sizes.items()
    ]
    secret = [(v, n) for v, n in secret if v is not None]
    if secret:
        value, n = min(secret)
        rows.append(("key verification ≤ 50 µs (secret check)", f"N = {n}", f"{value * 1e3:.1f} µs", value * 1e3 <= 50))
    return rows


ISSUE23_HTTP = {"retrieve": "retrieve", "admin list, 50 rows": "list", "tools/list, one page": "tools/list"}
#: "the same at N = 10 and N = 500": the cost over the ping floor moves by no more than this
SAME_MS = 0.3


def _mark(value_text, met):
    if met is None:
        return value_text
    return f"{value_text} {'✓' if met else '✗'}"


def _over(asgi, op, floor="floor_auth"):
    pkg, base = _get(asgi, "ops", op, "median_ms"), _get(asgi, "ops", floor, "median_ms")
    return None if pkg is None or base is None else pkg - base


def issue23_rows(results):
    """Issue 23's targets: (target, {N: cell}) with each cell the value and ✓/✗ where the
    target applies."""
    sizes = results["sizes"]
    rows = []

    def row(name, cell):
        rows.append((name, {n: cell(n, size) for n, size in sizes.items()}))

    def cold_start(stat, detail):
        def cell(n, size):
            ours, floor = _get(size, "cold_start", "ours", stat), _get(size, "cold_start", "floor", stat)
            if ours is None or floor is None:
                return "–"
            limit = {"100": 100, "500": 250}.get(n)
            delta = (ours - floor) * 1e3
            text = f"+{delta:.0f} ms" + (f" ({ours:.2f} s / {floor:.2f} s)" if detail else "")
            return _mark(text, None if limit is None else delta <= limit)

        return cell

    row(
        "cold start to first answer, over the floor's (≤ +100 ms at N = 100, +250 ms at 500)",
        cold_start("median_s", detail=False),
    )
    row("… the same in CPU time of the new interpreter (ours / the floor's)", cold_start("cpu_median_s", detail=True))

    def rss(n, size):
        ours, floor = (
            _get(size, "http", "rss_mb", "ours", "after_warmup"),
            _get(size, "http", "rss_mb", "floor", "after_warmup"),
        )
        if ours is None or floor is None:
            return "–"
        return _mark(f"+{ours - floor:.1f} MB", (ours - floor) <= 25 if n == "500" else None)

    row("resident memory over the floor's (≤ +25 MB at N = 500)", rss)
    configs = [c for c in ("default", "threads", "pool") if any(_get(s, "asgi", c) for s in sizes.values())]
    label = {
        "default": "DATABASES as generated",
        "threads": "DJANGO_MCP_THREADS = 8, CONN_MAX_AGE = None",
        "pool": 'OPTIONS {"pool": True}',
    }
    smallest = min(sizes, key=int) if sizes else None
    for config in configs:
        where = f"ASGI, {label[config]}"

        def ping(n, size, floor, config=config):
            over = _over(_get(size, "asgi", config), "ping", floor)
            return "–" if over is None else _mark(f"{over:+.2f} ms", over <= 0.3)

        row(f"MCP ping over the ping floor (token view) ≤ +0.3 ms; {where}", lambda n, s: ping(n, s, "floor_auth"))
        row(f"MCP ping over the bare view (no token) ≤ +0.3 ms; {where}", lambda n, s: ping(n, s, "floor"))
        for op in ("initialize", "ping", "tools/list, one page"):

            def same(n, size, op=op, config=config):
                # over the bare view, which opens no connection: what grows with N shows
                over = _over(_get(size, "asgi", config), op, "floor")
                first = _over(_get(sizes[smallest], "asgi", config), op, "floor")
                median = _get(size, "asgi", config, "ops", op, "median_ms")
                if over is None or median is None:
                    return "–"
                if n == smallest or first is None:
                    return f"{median:.2f} ms (bare {over:+.2f})"
                return _mark(
                    f"{median:.2f} ms (bare {over:+.2f}, {over - first:+.2f} vs N = {smallest})",
                    over - first <= SAME_MS,
                )

            row(
                f"`{op}` cost the same at every N (bare view + x, x within {SAME_MS} ms of N = {smallest}); {where}",
                same,
            )

        for floor, floor_name in (("floor_auth", "ping floor (token view)"), ("floor", "bare view")):

            def page(n, size, config=config, floor=floor):
                pkg = _get(size, "asgi", config, "ops", "tools/list, one page", "median_ms")
                base = _get(size, "asgi", config, "ops", floor, "median_ms")
                if pkg is None or not base:
                    return "–"
                return _mark(f"{pkg / base:.2f}×", pkg / base <= 2.0)

            row(f"`tools/list` one page / {floor_name} ≤ 2×; {where}", page)

        for floor, floor_name in (("floor_auth", "ping floor (token view)"), ("floor", "bare view")):

            def find(n, size, config=config, floor=floor):
                d = _get(size, "asgi", config, "discovery")
                pkg, base = _get(d, "ops", "find_tools", "median_ms"), _get(d, "ops", floor, "median_ms")
                if pkg is None or not base:
                    return "–"
                return _mark(f"{pkg / base:.2f}× ({pkg:.2f} ms)", pkg / base <= 2.0 if n == "500" else None)

            row(f"`find_tools` / {floor_name} ≤ 2× at N = 500 (discovery on); {where}", find)

    def page_bytes(n, size):
        b = _get(size, "asgi", "default", "tools_list_page_bytes")
        t = _get(size, "asgi", "default", "tools_list_page_tools")
        return "–" if b is None else f"{b / 1024:.0f} KB ({t} tools)"

    row("page size (one `tools/list` page)", page_bytes)

    def probe(n, size):
        p = _get(size, "asgi", "default", "connection_probe")
        if not p:
            return "–"
        return (
            f"connect {p['connect']['median_ms']:.2f} + first query {p['first_query']['median_ms']:.2f} ms "
            f"(again: {p['second_query']['median_ms']:.2f})"
        )

    row("a request thread's fresh connection (no pool): connect, first query", probe)

    def action(n, size):
        pkg = _get(size, "inprocess", "ours", "ops", "action, 50 rows", "pkg", "median_ms")
        floor = _get(size, "inprocess", "ours", "ops", "action, 50 rows", "floor_auth", "median_ms")
        return "–" if pkg is None or not floor else _mark(f"{pkg / floor:.2f}×", pkg / floor <= 1.3)

    row("admin action on 50 rows / floor ≤ 1.3× (test client)", action)
    for op, short in ISSUE23_HTTP.items():
        for c in ("1", "8", "32"):

            def tput(n, size, op=op, c=c):
                r = _get(size, "http", "ops", op, c)
                if not r or not _get(r, "floor", "throughput_rps"):
                    return "–"
                ratio_ = r["ours"]["throughput_rps"] / r["floor"]["throughput_rps"]
                errors = r["ours"]["errors"]
                text = f"{ratio_:.2f}×" + (f", {errors} errors" if errors else "")
                return _mark(text, ratio_ >= 0.9 and errors == 0)

            row(f"throughput over HTTP ≥ 0.9× floor, 0 errors: {short}, c = {c}", tput)
    return rows


def issue23_table(results):
    sizes = list(results["sizes"])
    lines = ["| target | " + " | ".join(f"N = {n}" for n in sizes) + " |", "|---|" + "---|" * len(sizes)]
    for name, cells in issue23_rows(results):
        lines.append(f"| {name} | " + " | ".join(cells[n] for n in sizes) + " |")
    return "\n".join(lines)


def asgi_table(size):
    lines = ["| config | operation | median | p95 | n |", "|---|---|---|---|---|"]
    for config, data in (size.get("asgi") or {}).items():
        for label, part in ((config, data), (f"{config}, discovery on", data.get("discovery") or {})):
            for op, st in (part.get("ops") or {}).items():
                if st:
                    lines.append(f"| {label} | {op} | {ms(st['median_ms'])} | {ms(st['p95_ms'])} | {st['n']} |")
    return "\n".join(lines)


def render(results):
    out = []
    m = results.get("machine", {})
    v = results.get("versions", {})
    out.append(f"# Side-by-side benchmark ({results.get('mode')} run, {results.get('started')})\n")
    load = m.get("load_average")
    out.append(
        f"Machine: {m.get('cpu', '?')}, {m.get('cpus')} CPUs, load average at start "
        f"{', '.join(f'{x:.1f}' for x in load) if load else '?'}"
        + (f", at end {', '.join(f'{x:.1f}' for x in m['load_average_end'])}" if m.get("load_average_end") else "")
        + f"; commit {m.get('commit', '?')}, engine.wasm {m.get('engine_wasm_sha256', '?')}."
    )
    ours_v, orig_v = v.get("ours") or {}, v.get("original") or {}
    out.append(
        f"Python {ours_v.get('python')}, Django {ours_v.get('Django')}, DRF {ours_v.get('djangorestframework')}, "
        f"uvicorn {ours_v.get('uvicorn')}, wasmtime {ours_v.get('wasmtime')}; original: "
        + (
            f"django-mcp-framework {orig_v.get('django-mcp-framework')} with Django {orig_v.get('Django')}"
            if orig_v
            else "not measured"
        )
        + "."
    )
    s = results.get("settings", {})
    out.append(
        f"Database: {results.get('database', 'sqlite')}. "
        f"Rows in the measured model: {s.get('rows')}; rounds per operation: this package up to "
        f"{s.get('iterations')}, the original up to {s.get('original_iterations')} (each of its requests "
        f"pays a PBKDF2 key check); soft budget {s.get('budget')} s per operation.\n"
    )

    out.append("## Issue 23 targets (ASGI in process one request at a time; ✓/✗ where a target applies)\n")
    out.append(issue23_table(results) + "\n")
    out.append("## Targets (this package)\n")
    out.append("| target | where | measured | met |\n|---|---|---|---|")
    for name, where, value, met in targets(results):
        out.append(f"| {name} | {where} | {value} | {'yes' if met else '**no**'} |")
    out.append("")

    for n, size in results["sizes"].items():
        out.append(f"## N = {n} admin models ({size.get('drf_viewsets')} DRF ViewSets, {size.get('rows')} rows)\n")
        ours = _get(size, "inprocess", "ours") or {}
        orig = _get(size, "inprocess", "original") or {}
        out.append(
            f"tools/list: this package {ours.get('tools')} tools in {ours.get('pages')} pages; "
            f"the original {orig.get('tools', '–')} tools in {orig.get('pages', '–')} pages.\n"
        )
        out.append("### In process (Django test client; medians, ratio to the floor in brackets)\n")
        out.append(inprocess_table(size))
        kv = ours.get("key_verification") or {}
        okv = orig.get("key_verification") or {}
        lines = []
        if kv:
            lines.append(
                f"Key verification, this package: {_get(kv, 'with_query', 'pkg', 'median_ms') * 1e3:.0f} µs with its "
                f"query (the floor's token lookup: {_get(kv, 'with_query', 'floor_auth', 'median_ms') * 1e3:.0f} µs), "
                f"{_get(kv, 'secret_only', 'median_ms') * 1e3:.1f} µs for the secret check alone"
            )
        if okv:
            lines.append(
                f"the original: {_get(okv, 'with_query', 'pkg', 'median_ms'):.0f} ms with its query, "
                f"{_get(okv, 'secret_only', 'median_ms'):.0f} ms for the secret check (PBKDF2)"
            )
        step = ours.get("engine_step_ping_us")
        if step:
            lines.append(
                f"one engine step from Python (ping): {step['median_us']:.1f} µs (p95 {step['p95_us']:.1f} µs)"
            )
        if lines:
            out.append("\n" + "; ".join(lines) + ".\n")
        cold = size.get("cold_start") or {}
        if cold:

            def c(name):
                return f"{cold[name]['median_s']:.2f} s" if name in cold else "–"

            out.append(
                "Cold start, new interpreter to the first answer (median): floor "
                + c("floor")
                + ", this package "
                + c("ours")
                + " with the compiled-engine cache warm"
                + (f" ({cold['ours_no_cache_s']:.2f} s without it)" if "ours_no_cache_s" in cold else "")
                + ", the original "
                + c("original")
                + ".\n"
            )
        if size.get("asgi"):
            out.append("### In process under ASGI (one request at a time; medians)\n")
            out.append(asgi_table(size) + "\n")
        if size.get("http"):
            out.append("### Over HTTP (uvicorn, 127.0.0.1; req/s with the ratio to the floor)\n")
            out.append(http_table(size))
            rss = size["http"].get("rss_mb") or {}
            if rss:
                f = _get(rss, "floor", "after_warmup")
                parts = []
                for kind in ("floor", "ours", "original"):
                    value = _get(rss, kind, "after_warmup")
                    if value is not None:
                        parts.append(
                            f"{kind} {value:.0f} MB" + (f" (+{value - f:.0f})" if f and kind != "floor" else "")
                        )
                after = [
                    f"{k} {_get(rss, k, 'after_load'):.0f} MB"
                    for k in ("floor", "ours", "original")
                    if _get(rss, k, "after_load") is not None
                ]
                out.append(
                    "\nResident memory of the server after warm-up: "
                    + ", ".join(parts)
                    + "; after the load: "
                    + ", ".join(after)
                    + ".\n"
                )
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(json.loads(open(sys.argv[1]).read())))
