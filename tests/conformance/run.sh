#!/usr/bin/env bash
# The official MCP conformance suite against the real Django server on 127.0.0.1: the demo
# project plus the conformance fixture (conformance_fixture/), authentication on (a real key,
# given by the fixture's middleware because the suite cannot send one). Runs the 2025-11-25
# and the 2026-07-28 requirement sets, each against its baseline (docs/conformance.md).
# Usage: run.sh [requirement set...]   Needs: the venv and engine of scripts/lib.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${PY:-$ROOT/.venv/bin/python}"
source "$HERE/node.sh"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

export DEMO_DB="$work/db.sqlite3" DEMO_MEDIA="$work/media" DEMO_DEBUG=0
# Scenarios look for their tools in tools/list: the full list unless asked otherwise
# (DEMO_MCP_DISCOVERY=auto runs the suite against the discovery meta-tools; docs/protocol.md).
export DEMO_MCP_DISCOVERY="${DEMO_MCP_DISCOVERY:-off}"
export DJANGO_SETTINGS_MODULE=conformance_fixture.settings
export PYTHONPATH="$ROOT/demo:$HERE${PYTHONPATH:+:$PYTHONPATH}"
"$PY" "$ROOT/demo/manage.py" migrate --verbosity 0
"$PY" "$ROOT/demo/manage.py" demo_seed >/dev/null
export CONFORMANCE_KEY="$("$PY" "$ROOT/demo/manage.py" mcp_key create alice --name conformance 2>/dev/null)"

port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$PY" -m uvicorn demo_project.asgi:application --host 127.0.0.1 --port "$port" --log-level warning \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  if "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then break; fi
  sleep 0.1
done

status=0
for revision in "${@:-2025-11-25 2026-07-28}"; do
  for r in $revision; do
    printf '\033[1m==> %s\033[0m\n' "conformance: the $r requirement set" >&2
    "$HERE/node_modules/.bin/conformance" server --url "http://127.0.0.1:$port/mcp" --requirements "$r" \
      --expected-failures "$HERE/baseline-$r.yml" -o "$ROOT/build/conformance/$r" || status=1
  done
done
if [ "$status" -ne 0 ]; then
  echo "--- server log ---" >&2; tail -50 "$work/server.log" >&2
fi
exit "$status"
