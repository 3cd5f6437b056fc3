# Shared set-up for scripts/test and scripts/demo: every step installs what it needs and
# is cheap when already done, so both commands work on a fresh machine and stay fast after.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
WASM_TARGET=wasm32-unknown-unknown

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_rust() {
  if ! rustup target list --installed | grep -qx "$WASM_TARGET"; then
    say "adding the $WASM_TARGET target"
    rustup target add "$WASM_TARGET"
  fi
}

build_engine() {
  say "building the engine component"
  (cd "$ROOT" && cargo build --release --locked --target "$WASM_TARGET" -p django-mcp-engine)
  cp "$ROOT/target/$WASM_TARGET/release/django_mcp_engine.wasm" "$ROOT/host-python/django_mcp/engine.wasm"
}

ensure_venv() {
  local stamp="$VENV/.requirements.sha256"
  local want
  want="$(cat "$ROOT/requirements-dev.txt" "$ROOT/host-python/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$PY" ]; then
    say "creating the Python virtual environment"
    python3 -m venv "$VENV"
  fi
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python packages"
    "$PY" -m pip install --quiet --upgrade pip
    "$PY" -m pip install --quiet -r "$ROOT/requirements-dev.txt"
    DJANGO_MCP_PREBUILT_WASM="$ROOT/host-python/django_mcp/engine.wasm" \
      "$PY" -m pip install --quiet --no-deps -e "$ROOT/host-python"
    echo "$want" > "$stamp"
  fi
}

# A Debian package the tests start a server from (PostgreSQL, Redis): installed when missing.
ensure_debian_package() {
  if ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; then
    say "installing $1 (apt-get)"
    local sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$1" >/dev/null
  fi
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# A throwaway PostgreSQL server: a cluster in a temporary directory, run by an unprivileged user
# (PostgreSQL refuses root), on 127.0.0.1 and a free port, its socket in that directory; durability
# off, as nothing outlives the run. Exports DEMO_DATABASE_URL (a database of its own); stop_postgres
# stops it and removes the directory.
PG_USER=django_mcp_pg
start_postgres() {
  ensure_debian_package postgresql
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)"
  PG_AS=()
  PG_DIR="$(mktemp -d -t django-mcp-pg.XXXXXX)"
  if [ "$(id -u)" = 0 ]; then
    id -u "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
    chown "$PG_USER" "$PG_DIR"
    PG_AS=(runuser -u "$PG_USER" --)
  fi
  local port; port="$(free_port)"
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U django_mcp --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w start -o \
    "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null
  "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U django_mcp django_mcp
  export DEMO_DATABASE_URL="postgres://django_mcp@127.0.0.1:$port/django_mcp"
  say "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

stop_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || cat "$PG_DIR/server.log" >&2
  rm -rf "$PG_DIR"
  PG_DIR=
  unset DEMO_DATABASE_URL  # what follows runs on SQLite again
}

# A throwaway Redis server (the shared cache rate limits count in) on 127.0.0.1 and a free port,
# nothing persisted. Exports DJANGO_MCP_TEST_REDIS_URL; stop_redis stops it.
start_redis() {
  ensure_debian_package redis-server
  local port; port="$(free_port)"
  REDIS_DIR="$(mktemp -d -t django-mcp-redis.XXXXXX)"
  redis-server --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$REDIS_DIR" \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export DJANGO_MCP_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
  say "Redis on 127.0.0.1:$port"
}

stop_redis() {
  [ -n "${REDIS_DIR:-}" ] || return 0
  kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true
  rm -rf "$REDIS_DIR"
  REDIS_DIR=
  unset DJANGO_MCP_TEST_REDIS_URL
}
