// The JavaScript host: replays every engine transcript (tests/transcripts/README.md) against
// engine.wasm through jco, byte for byte, then measures what a step and a load cost here.
//
// The package used is @bytecodealliance/jco-transpile 0.15.0, the transpiler that `jco transpile`
// (@bytecodealliance/jco 1.35.0) calls: the full CLI also pulls in a bundler and componentizers
// with ~240 packages and native binaries for every platform, which made its lockfile incomplete
// here (and `npm ci` refuses an incomplete lockfile). The output is byte-identical.
// Even this tree lacked three optional entries from the reachable registry (jco-node-fs 0.3.2 for
// linux-arm64-musl, win32-x64-msvc, win32-arm64-msvc); package-lock.json lists them by hand, with
// os/cpu but no integrity, so `npm ci` accepts the lockfile and skips them on other platforms.
//
//   node replay.mjs [name.transcript …]   (or `npm test`, or ./run.sh which installs first)
//
// With names, only those transcripts are replayed; otherwise every ../transcripts/*.transcript.
//
// Environment:
//   DJANGO_MCP_ENGINE_WASM   the component (default ../../target/wasm32-unknown-unknown/release/django_mcp_engine.wasm)
//   DJANGO_MCP_BENCH_FACTS   facts file for the measurements (default: the largest in ../transcripts/facts/)
//   DJANGO_MCP_JS_LOG=1      print the engine's log lines as they come (otherwise only on a failure)
//   DJANGO_MCP_JS_TIMEOUT    seconds one transcript may take (default 30)
//
// JavaScript has no fuel: a guest that spins (debug/spin) cannot be stopped inside a call. So
// transcripts are replayed in a worker thread, and a transcript that overruns the deadline is
// reported as failed at the line it was on (the worker is terminated and a new one started).
//
// The last line is always `N passed, M failed` (transcript files) when the replay ran; the exit
// status is non-zero on any failure, or when there is no transcript to replay.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";

import * as host from "./host.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WASM = process.env.DJANGO_MCP_ENGINE_WASM
  ? path.resolve(process.env.DJANGO_MCP_ENGINE_WASM)
  : path.resolve(HERE, "../../target/wasm32-unknown-unknown/release/django_mcp_engine.wasm");
const TRANSCRIPTS = path.resolve(HERE, "../transcripts");
const FACTS = path.join(TRANSCRIPTS, "facts");
const BUILD = path.join(HERE, "build");
const JCO_DIR = path.join(HERE, "node_modules/@bytecodealliance/jco-transpile");
const ENGINE_INTERFACE = "django-mcp:engine/engine@0.1.0";
const PING =
  '{"message":"{\\"jsonrpc\\":\\"2.0\\",\\"id\\":1,\\"method\\":\\"ping\\"}",' +
  '"context":{"transport":"stdio","principal":null,"protocol_version_header":null}}';

const TIMEOUT_S = Number(process.env.DJANGO_MCP_JS_TIMEOUT || 30);

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// ---------------------------------------------------------------------------------------------
// 1. Transpile engine.wasm (only when it or jco changed) and instantiate it on demand.

/** Transpile with jco's transpiler (@bytecodealliance/jco-transpile, what `jco transpile` calls),
 *  the equivalent of `jco transpile engine.wasm -o build --name engine --instantiation async`. */
async function transpile() {
  if (!existsSync(WASM)) {
    throw new Error(`engine component not found: ${WASM} (build it, or set DJANGO_MCP_ENGINE_WASM)`);
  }
  const version = JSON.parse(readFileSync(path.join(JCO_DIR, "package.json"), "utf8")).version;
  const wasm = readFileSync(WASM);
  const stamp = `${createHash("sha256").update(wasm).digest("hex")} jco-transpile ${version}\n`;
  const stampFile = path.join(BUILD, "engine.stamp");
  if (existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) return;
  const { transpileBytes } = await import("@bytecodealliance/jco-transpile");
  const { files } = await transpileBytes(wasm, {
    name: "engine",
    instantiation: "async", // an instantiate() to call again after a trap
    noComponentErrorWrapping: false, // a WIT result err throws ComponentError (as `jco` does)
    emitTypescriptDeclarations: false,
  });
  rmSync(BUILD, { recursive: true, force: true });
  for (const [name, bytes] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(BUILD, name)), { recursive: true });
    writeFileSync(path.join(BUILD, name), bytes);
  }
  writeFileSync(stampFile, stamp);
}

let instantiateComponent;
const coreModules = new Map(); // compiled once per process, shared by every instance
const imports = {
  // jco 1.35 looks the import up without its version; the .d.ts names it with one.
  "django-mcp:engine/host": host,
  "django-mcp:engine/host@0.1.0": host,
};

function getCoreModule(name) {
  if (!coreModules.has(name)) {
    coreModules.set(name, WebAssembly.compile(readFileSync(path.join(BUILD, name))));
  }
  return coreModules.get(name);
}

/** A fresh component instance: its own memory, nothing loaded. */
async function newInstance() {
  const root = await instantiateComponent(getCoreModule, imports);
  return root[ENGINE_INTERFACE];
}

/** A guest trap (panic → unreachable, out of bounds, …). V8 reports a guest stack overflow as a
 *  RangeError rather than a RuntimeError; wasmtime calls that a trap too. */
function isTrap(err) {
  return err instanceof WebAssembly.RuntimeError ||
    (err instanceof RangeError && /call stack/i.test(err.message));
}

/** load() as {kind: "ok"|"err", text}; a WIT `result` err arrives as a thrown ComponentError. */
function callLoad(engine, facts) {
  try {
    return { kind: "ok", text: engine.load(facts) };
  } catch (err) {
    if (err && err.constructor?.name === "ComponentError" && "payload" in err) {
      return { kind: "err", text: err.payload };
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Replay.

class Mismatch extends Error {
  constructor(line, message) {
    super(message);
    this.line = line;
  }
}

function describeError(err) {
  const kind = isTrap(err) ? "trap" : "error";
  return `${kind}: ${err?.constructor?.name ?? "?"}: ${err?.message ?? err}`;
}

/** A line for the report: whole when short, a window around the difference when long. */
function show(buf, offset) {
  const LIMIT = 400;
  if (buf.length <= LIMIT) return JSON.stringify(buf.toString("utf8"));
  const start = Math.max(0, offset - 150);
  const end = Math.min(buf.length, offset + 150);
  return `${start ? "…" : ""}${JSON.stringify(buf.subarray(start, end).toString("utf8"))}` +
    `${end < buf.length ? "…" : ""} (${buf.length} bytes, bytes ${start}..${end} shown)`;
}

function compareText(line, what, expected, actual) {
  const e = Buffer.from(expected, "utf8");
  const a = Buffer.from(actual, "utf8");
  if (e.equals(a)) return;
  let offset = 0;
  while (offset < e.length && offset < a.length && e[offset] === a[offset]) offset++;
  const byte = (b) => (offset < b.length ? `0x${b[offset].toString(16).padStart(2, "0")}` : "end of line");
  throw new Mismatch(line,
    `${what} differs at byte ${offset} (expected ${byte(e)}, actual ${byte(a)})\n` +
    `  expected: ${show(e, offset)}\n` +
    `  actual:   ${show(a, offset)}`);
}

function parseTranscript(text, file) {
  const items = [];
  text.split("\n").forEach((line, index) => {
    const lineNo = index + 1;
    if (line.trim() === "" || line.startsWith("#")) return;
    if (line.endsWith("\r")) throw new Mismatch(lineNo, "CRLF line ending in the transcript");
    if (line.startsWith("load ")) {
      items.push({ lineNo, kind: "load", text: line.slice(5) });
      return;
    }
    const marker = line.slice(0, 2);
    if (!["<=", "<!", ">>", "<<", "!!"].includes(marker)) {
      throw new Mismatch(lineNo, `unrecognised transcript line in ${file}: ${JSON.stringify(line)}`);
    }
    let rest = line.slice(2);
    if (rest.startsWith(" ")) rest = rest.slice(1);
    else if (rest !== "") throw new Mismatch(lineNo, `expected a space after '${marker}'`);
    if (marker === "!!" && rest !== "trap") throw new Mismatch(lineNo, `unknown '!!' item: ${JSON.stringify(rest)}`);
    items.push({ lineNo, kind: marker, text: rest });
  });
  return items;
}

function readFacts(name, lineNo) {
  const file = path.resolve(FACTS, name);
  if (path.relative(FACTS, file).startsWith("..")) throw new Mismatch(lineNo, `facts outside facts/: ${name}`);
  if (!existsSync(file)) throw new Mismatch(lineNo, `facts file not found: ${file}`);
  return utf8.decode(readFileSync(file)); // passed on as it is, byte for byte
}

/** Replays one transcript; throws Mismatch at the first difference. */
async function replay(file, logLines, progress) {
  const items = parseTranscript(utf8.decode(readFileSync(file)), path.basename(file));
  let engine = null;
  let lastLoad = null; // {facts, expect, lineNo}

  const doLoad = async (facts, expect, lineNo, what) => {
    engine = await newInstance();
    let outcome;
    try {
      outcome = callLoad(engine, facts);
    } catch (err) {
      throw new Mismatch(lineNo, `${what}: load did not return (${describeError(err)})`);
    }
    const want = expect.kind === "<=" ? "ok" : "err";
    if (outcome.kind !== want) {
      throw new Mismatch(expect.lineNo,
        `${what}: load returned ${outcome.kind}, expected ${want}\n` +
        `  expected: ${JSON.stringify(expect.text)}\n  actual:   ${JSON.stringify(outcome.text)}`);
    }
    compareText(expect.lineNo, `${what}: load ${want} text`, expect.text, outcome.text);
  };

  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    logLines.length = 0;
    progress?.set(item.lineNo);
    if (item.kind === "load") {
      const expect = items[i + 1];
      if (!expect || (expect.kind !== "<=" && expect.kind !== "<!")) {
        throw new Mismatch(item.lineNo, "'load' must be followed by '<=' or '<!'");
      }
      const facts = readFacts(item.text, item.lineNo);
      await doLoad(facts, expect, item.lineNo, "load");
      lastLoad = { facts, expect };
      i++;
    } else if (item.kind === ">>") {
      if (!engine) throw new Mismatch(item.lineNo, "step before any 'load'");
      const expected = [];
      while (items[i + 1]?.kind === "<<") expected.push(items[++i]);
      const trapExpected = expected.length === 0 && items[i + 1]?.kind === "!!";
      if (trapExpected) i++;
      else if (expected.length === 0) throw new Mismatch(item.lineNo, "'>>' must be followed by '<<' lines or '!! trap'");

      let output;
      try {
        output = engine.step(item.text);
      } catch (err) {
        if (trapExpected && isTrap(err)) {
          // The instance is poisoned: start afresh with the last facts, as the hosts do.
          await doLoad(lastLoad.facts, lastLoad.expect, items[i].lineNo, "re-load after trap");
          continue;
        }
        throw new Mismatch(item.lineNo, `step did not return (${describeError(err)})`);
      }
      if (trapExpected) {
        throw new Mismatch(items[i].lineNo, `expected a trap, the step returned ${JSON.stringify(output)}`);
      }
      const lines = output.split("\n");
      for (let k = 0; k < Math.max(lines.length, expected.length); k++) {
        if (k >= expected.length) {
          throw new Mismatch(expected[expected.length - 1].lineNo + 1,
            `the step returned more lines than recorded; extra line ${k + 1}: ${JSON.stringify(lines[k])}`);
        }
        if (k >= lines.length) {
          throw new Mismatch(expected[k].lineNo,
            `the step returned ${lines.length} line(s); recorded line ${k + 1} missing: ${JSON.stringify(expected[k].text)}`);
        }
        compareText(expected[k].lineNo, `output line ${k + 1}`, expected[k].text, lines[k]);
      }
    } else {
      throw new Mismatch(item.lineNo, `'${item.kind}' without a preceding ${item.kind === "<<" || item.kind === "!!" ? "'>>'" : "'load'"}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Measurements.

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function benchFacts() {
  if (process.env.DJANGO_MCP_BENCH_FACTS) {
    const file = path.resolve(process.env.DJANGO_MCP_BENCH_FACTS);
    return { name: path.basename(file), text: utf8.decode(readFileSync(file)) };
  }
  const files = existsSync(FACTS) ? readdirSync(FACTS).filter((f) => f.endsWith(".json")) : [];
  if (files.length === 0) return { name: 'inline {"protocol":1}', text: '{"protocol":1}' };
  const largest = files.map((f) => path.join(FACTS, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0];
  return { name: path.basename(largest), text: utf8.decode(readFileSync(largest)) };
}

async function measure() {
  const facts = benchFacts();
  const factsBytes = Buffer.byteLength(facts.text);

  const instantiateMs = [];
  const loadMs = [];
  for (let run = 0; run < 33; run++) {
    let t = performance.now();
    const engine = await newInstance();
    const instantiated = performance.now() - t;
    t = performance.now();
    const outcome = callLoad(engine, facts.text);
    const loaded = performance.now() - t;
    if (outcome.kind !== "ok") throw new Error(`bench facts ${facts.name} refused: ${outcome.text}`);
    if (run >= 3) { instantiateMs.push(instantiated); loadMs.push(loaded); } // 3 warm-up runs
  }

  const engine = await newInstance();
  callLoad(engine, facts.text);
  const first = engine.step(PING);
  if (!first.startsWith('{"done":')) throw new Error(`ping did not finish: ${JSON.stringify(first)}`);
  for (let n = 0; n < 1000; n++) engine.step(PING); // warm-up (tier-up to optimised code)
  const stepUs = [];
  for (let n = 0; n < 10000; n++) {
    const t = process.hrtime.bigint();
    engine.step(PING);
    stepUs.push(Number(process.hrtime.bigint() - t) / 1000);
  }

  console.log(`measured (Node ${process.version}, facts ${facts.name}, ${factsBytes} bytes):`);
  console.log(`  step(ping) after load: median ${median(stepUs).toFixed(1)} µs (${stepUs.length} calls)`);
  console.log(`  load(facts):           median ${median(loadMs).toFixed(2)} ms (${loadMs.length} fresh instances)`);
  console.log(`  instantiate:           median ${median(instantiateMs).toFixed(2)} ms (core modules compiled once)`);
}

// ---------------------------------------------------------------------------------------------

async function loadBindings() {
  ({ instantiate: instantiateComponent } = await import(pathToFileURL(path.join(BUILD, "engine.js")).href));
}

/** Worker thread: replays the transcripts the main thread sends, one at a time. */
async function workerMain() {
  await loadBindings();
  const shared = new Int32Array(workerData.progress);
  const progress = { set: (line) => Atomics.store(shared, 0, line) };
  const logLines = [];
  host.setLogSink((level, message) => {
    logLines.push(`engine[${host.levelName(level)}]: ${message}`);
    if (process.env.DJANGO_MCP_JS_LOG) process.stderr.write(`${logLines.at(-1)}\n`);
  });
  parentPort.on("message", async ({ file }) => {
    progress.set(0);
    try {
      await replay(file, logLines, progress);
      parentPort.postMessage({ ok: true });
    } catch (err) {
      parentPort.postMessage({
        ok: false,
        line: err instanceof Mismatch ? err.line : null,
        message: err instanceof Mismatch ? err.message : String(err.stack ?? err),
        log: [...logLines],
      });
    }
  });
}

/** Main thread: hands transcripts to a worker, with a deadline per transcript. */
class Replayer {
  constructor() {
    this.progress = new Int32Array(new SharedArrayBuffer(4));
    this.worker = null;
  }

  run(file) {
    if (!this.worker) {
      this.worker = new Worker(new URL(import.meta.url), { workerData: { progress: this.progress.buffer } });
    }
    const worker = this.worker;
    return new Promise((resolve) => {
      const finish = (result) => {
        clearTimeout(timer);
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
        resolve(result);
      };
      const onMessage = (result) => finish(result);
      const onError = (err) => { this.worker = null; finish({ ok: false, line: null, message: `worker failed: ${err.stack ?? err}` }); };
      const onExit = (code) => { this.worker = null; finish({ ok: false, line: null, message: `worker exited (${code})` }); };
      const timer = setTimeout(() => {
        const line = Atomics.load(this.progress, 0) || null;
        this.worker = null;
        worker.terminate();
        finish({
          ok: false, line,
          message: `no result within ${TIMEOUT_S} s: the guest is presumably spinning ` +
            "(the JS host has no fuel to stop it; use a panic, not debug/spin, for a trap step)",
        });
      }, TIMEOUT_S * 1000);
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
      worker.postMessage({ file });
    });
  }

  close() {
    return this.worker?.terminate();
  }
}

async function main() {
  try {
    await transpile();
    await loadBindings();
  } catch (err) {
    console.error(`js-host: ${err.message}`);
    return 2;
  }
  host.setLogSink(() => {}); // the measurements' engine stays quiet

  const only = process.argv.slice(2).map((arg) => path.basename(arg));
  const files = (existsSync(TRANSCRIPTS) ? readdirSync(TRANSCRIPTS) : [])
    .filter((f) => f.endsWith(".transcript") && (only.length === 0 || only.includes(f)))
    .sort();
  const missing = only.filter((name) => !files.includes(name));
  if (missing.length) {
    console.error(`js-host: no such transcript: ${missing.join(", ")}`);
    return 2;
  }
  let passed = 0;
  let failed = 0;
  const replayer = new Replayer();
  for (const name of files) {
    const result = await replayer.run(path.join(TRANSCRIPTS, name));
    if (result.ok) {
      passed++;
      console.log(`ok   ${name}`);
    } else {
      failed++;
      console.log(`FAIL ${name}${result.line ? `:${result.line}` : ""}: ${result.message}`);
      if (result.log?.length) {
        console.log(`  engine log during the failing call:\n    ${result.log.join("\n").replaceAll("\n", "\n    ")}`);
      }
    }
  }
  await replayer.close();
  if (files.length === 0) console.log(`no *.transcript files in ${TRANSCRIPTS}`);

  let benchFailed = false;
  try {
    await measure();
  } catch (err) {
    benchFailed = true;
    console.log(`measurement failed: ${err.stack ?? err}`);
  }

  console.log(`${passed} passed, ${failed} failed`);
  return failed || benchFailed || files.length === 0 ? 1 : 0;
}

if (isMainThread) process.exitCode = await main();
else await workerMain();
