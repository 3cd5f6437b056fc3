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
