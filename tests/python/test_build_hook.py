"""`pip install ./host-python` where Rust is incomplete: the build hook adds the wasm target
with rustup when it can, and otherwise stops with one sentence naming what to run.

Each case builds a wheel for real (pip, hatchling, the hook) from a copy of host-python, with
PATH holding only fake `cargo`/`rustup`/`rustc` scripts and the system's basics. The fakes share
a sysroot directory: the wasm target is "installed" when its `lib/rustlib/<target>` exists, and
the fake cargo fails as the real one does without it (`can't find crate for std`)."""

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from servers import ROOT

TARGET = "wasm32-unknown-unknown"
FAKE_ENGINE = b"\0asm\x01\0\0\0 fake engine"

FAKE_RUSTC = """#!/bin/sh
echo "rustc $*" >> "$FAKE_RUST_LOG"
if [ "$1 $2" = "--print sysroot" ]; then echo "$FAKE_SYSROOT"; exit 0; fi
exit 1
"""

FAKE_RUSTUP = """#!/bin/sh
echo "rustup $*" >> "$FAKE_RUST_LOG"
if [ "$1 $2" = "target add" ]; then mkdir -p "$FAKE_SYSROOT/lib/rustlib/$3"; exit 0; fi
if [ "$1 $2 $3" = "target list --installed" ]; then ls "$FAKE_SYSROOT/lib/rustlib"; exit 0; fi
exit 1
"""

FAKE_CARGO = """#!/bin/sh
echo "cargo $*" >> "$FAKE_RUST_LOG"
if [ ! -d "$FAKE_SYSROOT/lib/rustlib/wasm32-unknown-unknown" ]; then
  echo "error[E0463]: can't find crate for \\`std\\`" >&2
  exit 101
fi
mkdir -p target/wasm32-unknown-unknown/release
printf '\\000asm\\001\\000\\000\\000 fake engine' > target/wasm32-unknown-unknown/release/django_mcp_engine.wasm
"""


class FakeRust:
    """A source tree of the package beside a workspace, and a PATH with the chosen fakes."""

    def __init__(self, tmp_path, tools):
        self.tmp_path = tmp_path
        workspace = tmp_path / "src"
        self.package = workspace / "host-python"
        shutil.copytree(ROOT / "host-python", self.package, ignore=shutil.ignore_patterns("engine.wasm", "__pycache__"))
        (workspace / "Cargo.toml").touch()  # what the hook recognises a workspace by
        (workspace / "component").mkdir()
        self.sysroot = tmp_path / "sysroot"
        (self.sysroot / "lib" / "rustlib" / "x86_64-unknown-linux-gnu").mkdir(parents=True)
        self.log = tmp_path / "calls.log"
        self.log.touch()
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        scripts = {"cargo": FAKE_CARGO, "rustup": FAKE_RUSTUP, "rustc": FAKE_RUSTC}
        for tool in tools:
            (self.bin / tool).write_text(scripts[tool])
            (self.bin / tool).chmod(0o755)

    def build(self, **extra_env):
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DJANGO_MCP_PREBUILT_WASM", "CARGO_TARGET_DIR", "RUSTC", "CARGO"}
        }
        env.update(
            PATH=f"{self.bin}:/usr/bin:/bin", FAKE_SYSROOT=str(self.sysroot), FAKE_RUST_LOG=str(self.log), **extra_env
        )
        for tool in ("cargo", "rustup", "rustc"):
            assert (shutil.which(tool, path=env["PATH"]) is None) == (not (self.bin / tool).exists())
        out = self.tmp_path / "wheel"
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--no-deps",
                "--no-build-isolation",
                "-w",
                str(out),
                str(self.package),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def wheel_engine(self):
        [built] = (self.tmp_path / "wheel").glob("*.whl")
        with zipfile.ZipFile(built) as archive:
            return archive.read("django_mcp/engine.wasm")

    def calls(self):
        """What the build ran, less pip's own `rustc --version` (for its user agent)."""
        return [call for call in self.log.read_text().splitlines() if call != "rustc --version"]


def the_sentence(output):
    """The one line of the build's output that names the alternative: the hook's message."""
    [line] = [line.strip() for line in output.splitlines() if "DJANGO_MCP_PREBUILT_WASM" in line]
    return line


def assert_one_sentence(sentence):
    assert sentence.endswith(".")
    assert ". " not in sentence[:-1], sentence


def test_a_missing_wasm_target_is_added_with_rustup(tmp_path):
    rust = FakeRust(tmp_path, ["cargo", "rustup", "rustc"])
    built = rust.build()
    assert built.returncode == 0, built.stdout + built.stderr
    calls = rust.calls()
    added = calls.index(f"rustup target add {TARGET}")
    [cargo_build] = [i for i, call in enumerate(calls) if call.startswith("cargo build")]
    assert added < cargo_build
    assert rust.wheel_engine() == FAKE_ENGINE


def test_an_installed_wasm_target_is_not_added_again(tmp_path):
    rust = FakeRust(tmp_path, ["cargo", "rustup", "rustc"])
    (rust.sysroot / "lib" / "rustlib" / TARGET).mkdir()
    built = rust.build()
    assert built.returncode == 0, built.stdout + built.stderr
    assert not [call for call in rust.calls() if call.startswith("rustup target add")]
    assert rust.wheel_engine() == FAKE_ENGINE


def test_without_rustup_the_build_stops_with_the_command_to_run(tmp_path):
    rust = FakeRust(tmp_path, ["cargo", "rustc"])
    built = rust.build()
    output = built.stdout + built.stderr
    assert built.returncode != 0
    sentence = the_sentence(output)
    assert f"`rustup target add {TARGET}`" in sentence
    assert_one_sentence(sentence)
    assert "Traceback" not in output
    assert not [call for call in rust.calls() if call.startswith("cargo build")]


def test_without_cargo_the_build_stops_with_the_command_to_run(tmp_path):
    rust = FakeRust(tmp_path, [])
    built = rust.build()
    output = built.stdout + built.stderr
    assert built.returncode != 0
    sentence = the_sentence(output)
    assert "https://rustup.rs" in sentence
    assert f"`rustup target add {TARGET}`" in sentence
    assert_one_sentence(sentence)
    assert "Traceback" not in output


@pytest.mark.parametrize("tools", [[], ["cargo", "rustc"]], ids=["no cargo", "no rustup"])
def test_a_prebuilt_engine_needs_no_rust(tmp_path, tools):
    rust = FakeRust(tmp_path, tools)
    prebuilt = tmp_path / "engine.wasm"
    prebuilt.write_bytes(FAKE_ENGINE)
    built = rust.build(DJANGO_MCP_PREBUILT_WASM=str(prebuilt))
    assert built.returncode == 0, built.stdout + built.stderr
    assert rust.calls() == []
    assert rust.wheel_engine() == FAKE_ENGINE
