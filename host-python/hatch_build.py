"""Put engine.wasm into the package: built by cargo, or taken from DJANGO_MCP_PREBUILT_WASM.

The wheel stays `py3-none-any`: the component is data, and the wheel's users need no Rust.
"""

import os
import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TARGET = "wasm32-unknown-unknown"
ARTIFACT = "django_mcp_engine.wasm"


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
        raise RuntimeError("engine sources not found: set DJANGO_MCP_PREBUILT_WASM to a built engine.wasm")
