#!/usr/bin/env bash
# The JavaScript host: install jco (pinned by package-lock.json) when needed, then replay every
# engine transcript and measure. Arguments are passed on (transcript names to replay only those).
# Needs Node >= 20 and npm; the engine is DJANGO_MCP_ENGINE_WASM or the cargo release build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

stamp=node_modules/.django-mcp-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  printf '\033[1m==> %s\033[0m\n' "installing the JS host's packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
exec node replay.mjs "$@"
