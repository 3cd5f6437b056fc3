"""Put engine.wasm into the package: built by cargo, or taken from DJANGO_MCP_PREBUILT_WASM.

The wheel stays `py3-none-any`: the component is data, and the wheel's users need no Rust.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TARGET = "wasm32-unknown-unknown"
ARTIFACT = "django_mcp_engine.wasm"
PREBUILT = "or set DJANGO_MCP_PREBUILT_WASM to a built engine.wasm"

# One sentence each, and no traceback: the build stops where the fix is obvious, not deep
# inside cargo with "can't find crate for `std`".
NO_CARGO = (
    f"Building django-mcp-framework from source needs Rust, and cargo is not on PATH: install it "
    f"from https://rustup.rs and run `rustup target add {TARGET}`, {PREBUILT}."
)
NO_RUSTUP = (
    f"The Rust on PATH has no standard library for {TARGET} and no rustup to add it: install "
    f"Rust from https://rustup.rs and run `rustup target add {TARGET}`, {PREBUILT}."
)
RUSTUP_FAILED = f"`rustup target add {TARGET}` failed (its error is above): run it yourself, {PREBUILT}."


class EngineBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            return
        wasm = self._engine_wasm()
        if version == "editable":
            # An editable install imports from the source tree: the component goes there.
            destination = Path(self.root) / "django_mcp" / "engine.wasm"
            if wasm.resolve() != destination.resolve():
                shutil.copyfile(wasm, destination)
        else:
            build_data["force_include"][str(wasm)] = "django_mcp/engine.wasm"

    def _engine_wasm(self) -> Path:
        prebuilt = os.environ.get("DJANGO_MCP_PREBUILT_WASM")
        if prebuilt:
            return Path(prebuilt).resolve()
        workspace = self._workspace()
        ensure_wasm_target(workspace)
        subprocess.run(
            ["cargo", "build", "--release", "--locked", "--target", TARGET, "-p", "django-mcp-engine"],
            cwd=workspace,
            check=True,
        )
        target_dir = Path(os.environ.get("CARGO_TARGET_DIR") or workspace / "target")
        return target_dir / TARGET / "release" / ARTIFACT

    def _workspace(self) -> Path:
        for candidate in (Path(self.root).parent, Path(self.root)):
            if (candidate / "Cargo.toml").exists() and (candidate / "component").is_dir():
                return candidate
        raise SystemExit(f"The engine's Rust sources are not beside this package: {PREBUILT}.")


def ensure_wasm_target(workspace: Path) -> None:
    """Cargo is there and its Rust has the wasm standard library, added with rustup if need be."""
    if shutil.which("cargo") is None:
        raise SystemExit(NO_CARGO)
    if has_wasm_std(workspace):
        return
    rustup = shutil.which("rustup")
    if rustup is None:
        raise SystemExit(NO_RUSTUP)
    print(f"adding the {TARGET} target with rustup", file=sys.stderr)
    if subprocess.run([rustup, "target", "add", TARGET], cwd=workspace).returncode != 0:
        raise SystemExit(RUSTUP_FAILED)


def has_wasm_std(workspace: Path) -> bool:
    """Whether the rustc cargo will use (the toolchain selected in `workspace`, with rustup)
    has the target's standard library: its sysroot holds one directory per installed target."""
    try:
        sysroot = subprocess.run(
            [os.environ.get("RUSTC", "rustc"), "--print", "sysroot"], cwd=workspace, capture_output=True, text=True
        )
    except OSError:  # no rustc: rustup can still add the target, or the message says what to do
        return False
    if sysroot.returncode != 0:
        return False
    return (Path(sysroot.stdout.strip()) / "lib" / "rustlib" / TARGET).is_dir()
