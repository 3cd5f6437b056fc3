// The engine's only import, django-mcp:engine/host@0.1.0: log(level: u8, message: string).
// Levels are Python logging levels (10 debug, 20 info, 30 warning, 40 error).
//
// Lines go to a sink that replay.mjs swaps out to keep expected panic messages quiet;
// by default (or with DJANGO_MCP_JS_LOG=1 in replay.mjs) they are printed to stderr.

const NAMES = { 10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL" };

export function levelName(level) {
  return NAMES[level] ?? `LEVEL${level}`;
}

function printToStderr(level, message) {
  process.stderr.write(`engine[${levelName(level)}]: ${message}\n`);
}

let sink = printToStderr;

/** Route log lines elsewhere (a function (level, message)); null restores stderr. */
export function setLogSink(fn) {
  sink = fn ?? printToStderr;
}

export function log(level, message) {
  sink(level, message);
}
