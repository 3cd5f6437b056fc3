"""Load the engine component and step requests through it.

The component is compiled once per process (or read back from a checksummed cache of the
compiled artifact); instances (each a wasmtime ``Store`` with its functions, never used by two
threads at once) are pooled: each step takes one and gives it back.
Each step runs with a fuel budget and a memory cap; a trap (runaway guest, panic, exhausted
memory) drops that instance, and the next request gets another. The process never dies of
the guest.

wasmtime runs the component through `wasmtime_capi`, the host's own binding of the few C
functions it needs on the library the `wasmtime` wheel ships: the package's Python modules,
which declare the whole C API, are never imported.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import mmap
import os
import tempfile
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from django_mcp import left_out, wasmtime_capi

if TYPE_CHECKING:
    from django_mcp.transcript import Recorder

_T = TypeVar("_T")

logger = logging.getLogger("django_mcp.engine")

ENGINE_INTERFACE = "django-mcp:engine/engine@0.1.0"
HOST_INTERFACE = "django-mcp:engine/host@0.1.0"

#: Fuel for one step, plus FUEL_PER_BYTE for each character of its input (a big, valid
#: message is parsed, validated and passed on in proportion; the message is sent unescaped,
#: so the body cap bounds it); a step that needs more is runaway code.
STEP_FUEL = 2_000_000_000
FUEL_PER_BYTE = 5_000
#: Fuel for deriving the catalogue from the facts (thousands of models need a lot).
LOAD_FUEL = 20_000_000_000
#: Linear memory one instance may grow to.
MEMORY_LIMIT = 256 * 1024 * 1024
#: Instances one process keeps (each holds the catalogue: ~20 MB at 500 admin models). A
#: step takes tens of microseconds to a millisecond and effects hold no instance, so one
#: serves any concurrency a process's threads reach under the GIL; a step waits only while
#: another runs.
MAX_INSTANCES = 1
#: Effect rounds one request may take before it is refused as a loop.
MAX_ROUNDS = 8
#: The step input that asks where each tool comes from (docs/engine-protocol.md).
TOOL_SOURCES = '{"tool_sources":true}'


class RawJSON(str):
    """JSON text an effect has rendered already: passed to the engine as it is, not encoded
    again (a DRF response's data, say, is rendered once)."""


class EngineTrap(Exception):
    """The guest trapped (fuel, memory, panic); its instance is gone."""


#: `json.dumps(value, separators=(",", ":"))`, its encoder built once.
_COMPACT = json.JSONEncoder(separators=(",", ":"))


def _inbound_text(message: str, context: dict[str, Any]) -> str:
    """The step input of an inbound message: its context's JSON, then the message text as the
    client sent it (docs/engine-protocol.md). Never escaped: JSON would write a control
    character in six bytes, and the fuel a step may burn grows with its input."""
    return _COMPACT.encode({"context": context}) + message


def _resume_text(state: str, results: list[dict[str, Any]]) -> str:
    """The step input that resumes a request with its effects' results, RawJSON kept as it is."""
    texts = [
        '{"ok":' + result["ok"] + "}" if isinstance(result.get("ok"), RawJSON) else _COMPACT.encode(result)
        for result in results
    ]
    return '{"resume":' + json.dumps(state) + ',"results":[' + ",".join(texts) + "]}"


def _release_free_memory() -> None:
    """Hand the memory the load freed (the forms built for the facts, the facts' text, the
    engine's compilation) back to the system: glibc keeps freed memory in its heap otherwise
    (6 MB of resident memory at 500 admins, for ~1 ms). Elsewhere, nothing to do."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None)  # the process's own symbols, libc among them
    except (OSError, TypeError):  # TypeError: Windows loads no library by None
        return None


def _trap_reason(exc: BaseException) -> str:
    """Why the guest trapped: wasmtime puts the cause ("all fuel consumed by WebAssembly",
    "unreachable", …) last, after the backtrace."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


class FactsRejected(Exception):
    """The engine refused the facts; the message says why."""


def default_wasm_path() -> Path:
    return Path(__file__).with_name("engine.wasm")


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "django-mcp"


def _forward_guest_log(level: int, message: str) -> None:
    logger.log(level or logging.INFO, "engine: %s", message)


class CompiledEngine:
    """The compiled component and a linker, shared by every thread's instance."""

    def __init__(self, wasm_path: Path | None = None, cache_dir: Path | None = None) -> None:
        self.wasm_path = Path(wasm_path or default_wasm_path())
        self.engine = wasmtime_capi.Engine()
        self.component = self._compile(cache_dir)
        self.linker = wasmtime_capi.Linker(self.engine, HOST_INTERFACE, _forward_guest_log)

    def _compile(self, cache_dir: Path | None) -> wasmtime_capi.Component:
        Component = wasmtime_capi.Component

        if cache_dir is None:
            return Component.compile(self.engine, self.wasm_path.read_bytes())
        # Keyed by the library file's stamp, not its wheel's version: reading package metadata
        # is slow for a start. wasmtime refuses an artifact another release compiled, so a
        # stamp that missed a change would cost a rebuild, never a wrong engine.
        key = hashlib.sha256(_file_sha256(self.wasm_path) + wasmtime_capi.library_stamp().encode())
        path = Path(cache_dir) / f"engine-{key.hexdigest()[:32]}-fuel.cwasm"
        if _checksum_matches(path):
            try:
                # Mapped, not copied: the compiled code is the file's pages, which every
                # worker process on the machine shares.
                return Component.deserialize_file(self.engine, str(path))
            except Exception:  # a stale or foreign artifact: rebuild it below
                logger.warning("ignoring unusable compiled engine cache %s", path.name)
        component = Component.compile(self.engine, self.wasm_path.read_bytes())
        _write_checksummed(path, component.serialize())
        return component

    def imports(self) -> dict[str, list[str]]:
        """Each imported interface and the functions in it (a test asserts only `log`)."""
        return self.component.imports()


def _checksum_matches(path: Path) -> bool:
    # wasmtime trusts a deserialized artifact completely, so only an artifact whose checksum we
    # wrote ourselves beside it is handed to it; a corrupt or truncated one is rebuilt. Both
    # files are only ever replaced whole, never written in place, so a mapped artifact stays
    # the one checked.
    try:
        return _file_sha256(path) == _checksum_path(path).read_bytes()
    except OSError:
        return False


def _file_sha256(path: Path) -> bytes:
    """The file's SHA-256, read through a mapping rather than copied into the heap."""
    with open(path, "rb") as file:
        if os.fstat(file.fileno()).st_size == 0:  # which cannot be mapped
            return hashlib.sha256().digest()
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return hashlib.sha256(mapped).digest()


def _checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _write_checksummed(path: Path, artifact: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A reader between the two sees a checksum that does not match, and rebuilds.
        _replace(path, artifact)
        _replace(_checksum_path(path), hashlib.sha256(artifact).digest())
    except OSError as exc:  # a read-only home only costs the next start a compile
        logger.info("compiled engine not cached (%s)", exc)


def _replace(path: Path, content: bytes) -> None:
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(content)
    os.replace(tmp.name, path)


class EngineInstance:
    """One Store + instance with the catalogue loaded. Used by one thread at a time."""

    def __init__(
        self, compiled: CompiledEngine, facts_json: str | None = None, recorder: Recorder | None = None
    ) -> None:
        self.recorder = recorder
        #: The runtime's catalogue generation it was loaded with (EngineRuntime._acquire).
        self.generation = 0
        self.store = wasmtime_capi.Store(compiled.engine, MEMORY_LIMIT)
        self.store.set_fuel(LOAD_FUEL)  # instantiation runs guest start-up code too
        try:
            instance = self.store.instantiate(compiled.linker, compiled.component)
        except wasmtime_capi.WasmtimeError as exc:
            raise EngineTrap(_trap_reason(exc)) from None
        self._load = self._export(instance, "load")
        self._step = self._export(instance, "step")
        self.warnings = []
        if facts_json is not None:
            ok, payload = self.load_text(facts_json)
            if not ok:
                raise FactsRejected(payload)
            self.warnings = json.loads(payload)

    def _export(self, instance: Any, name: str) -> wasmtime_capi.StringFunc:
        """The engine interface's function `name`; a component without it is not this engine."""
        func = self.store.export(instance, ENGINE_INTERFACE, name)
        if func is None:
            raise EngineTrap(f"the component exports no {ENGINE_INTERFACE}#{name}")
        return func

    def load_text(self, facts_json: str) -> tuple[bool, str]:
        """`load` as the WIT has it: (ok, warnings JSON) or (False, why)."""
        self.store.set_fuel(LOAD_FUEL)
        try:
            ok, payload = self._load.result(facts_json)
        except wasmtime_capi.WasmtimeError as exc:
            raise EngineTrap(_trap_reason(exc)) from None
        if self.recorder is not None:
            self.recorder.loaded(facts_json, ok, payload)
        return ok, payload

    def step_text(self, message: str) -> str:
        """`step` as the WIT has it: JSON text in, output text out."""
        return self.step_utf8(message).decode("utf-8")

    def step_utf8(self, message: str) -> bytes:
        """`step`, its output as the engine wrote it (UTF-8): a reply goes on to the client
        without being decoded and encoded again."""
        self.store.set_fuel(STEP_FUEL + FUEL_PER_BYTE * len(message))
        try:
            output = self._step.utf8(message)
        except wasmtime_capi.WasmtimeError as exc:
            if self.recorder is not None:
                self.recorder.stepped(message, None)
            raise EngineTrap(_trap_reason(exc)) from None
        if self.recorder is not None:
            self.recorder.stepped(message, output.decode("utf-8"))
        return output

    def step(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One step. A finished request's reply stays the engine's UTF-8 JSON text
        (`done["reply"]`, bytes, or None): the transports send it on as it is."""
        return self.step_json(json.dumps(payload, separators=(",", ":")))

    def step_json(self, message: str) -> dict[str, Any]:
        """`step` for an input already encoded."""
        header, _, reply = self.step_utf8(message).partition(b"\n")
        output = json.loads(header)
        if "done" in output:
            output["done"]["reply"] = reply or None
        return output


#: Carries out a batch of effects: (effects, notify) → results.
EffectRunner = Callable[[list, dict | None], list]


class Observer:
    """What the runtime reports as it works (telemetry.ENGINE); by default, to no one."""

    def step(self) -> contextlib.AbstractContextManager[object]:
        """A context manager around one step; sees the EngineTrap a step raises."""
        return contextlib.nullcontext()

    def instance_loaded(self) -> None:
        """An instance was created and loaded the catalogue."""


class EngineRuntime:
    """Process-wide: compiled once, a pool of instances, catalogue from `facts_source`."""

    def __init__(
        self,
        facts_source: Callable[[], str],
        wasm_path: Path | None = None,
        cache_dir: Path | None = None,
        observer: Observer | None = None,
    ) -> None:
        self._facts_source = facts_source
        self.observer = observer or Observer()
        self._wasm_path = wasm_path
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        #: Apart from `_lock`, held while the facts are gathered: gathering asks an instance
        #: without a catalogue which views to describe, and that instance is compiled here.
        self._compile_lock = threading.Lock()
        self._compiled: CompiledEngine | None = None
        #: The facts' JSON, compressed: an instance loaded later (after a trap) loads the same
        #: catalogue without gathering again, and the text itself, many times larger, is
        #: held only while an instance loads it.
        self._facts_packed: bytes | None = None
        #: What gathering the facts left out (left_out.report); with the engine's load
        #: warnings, what the catalogue last loaded left out.
        self._facts_warnings: list[dict] = []
        self._load_warnings: list[dict] = []
        self._generation = 0
        #: The pool (see `run`): idle instances, how many exist, and a condition to wait on
        #: when MAX_INSTANCES are all stepping.
        self._pool = threading.Condition()
        self._idle: list[EngineInstance] = []
        self._live = 0
        #: Receives every load and step (tests/transcripts/record.py); None in production.
        self.recorder: Recorder | None = None

    @property
    def compiled(self) -> CompiledEngine:
        with self._compile_lock:
            if self._compiled is None:
                self._compiled = CompiledEngine(self._wasm_path, self._cache_dir)
            return self._compiled

    def facts_json(self) -> str:
        """The facts' JSON text, gathered when needed."""
        return self._facts()[0]

    def gather(self) -> None:
        """Gather the facts now unless they are kept (the server's registry comes with them)."""
        with self._lock:
            self._gather()

    def _facts(self) -> tuple[str, list[dict]]:
        """The facts JSON and what gathering it left out."""
        with self._lock:
            text = self._gather()
            if text is None:
                assert self._facts_packed is not None
                text = zlib.decompress(self._facts_packed).decode("utf-8")
            return text, self._facts_warnings

    def _gather(self) -> str | None:
        """Gathers and keeps the facts unless they are kept (`_lock` held); their text when it
        just gathered them."""
        if self._facts_packed is not None:
            return None
        with left_out.kept() as reported:
            text = self._facts_source()
        # The fastest level: JSON this repetitive shrinks most of the way at any level.
        self._facts_packed = zlib.compress(text.encode("utf-8"), 1)
        self._facts_warnings = [{"source": "facts", "message": message} for message in reported]
        return text

    def load_warnings(self) -> list[dict]:
        """What the loaded catalogue left out or could describe only in part, and why, as
        start-up logged it: `{"source": "facts" | "engine", "message"}`, the facts' first.
        Empty until an instance has loaded the current facts."""
        return list(self._load_warnings)

    def tool_sources(self) -> list[dict]:
        """Where each tool of the catalogue comes from: `{"name", "surface", "source"}` in
        catalogue order (docs/engine-protocol.md)."""
        return self._lend(lambda instance: json.loads(instance.step_text(TOOL_SOURCES)))

    def _step(self, message: str) -> dict[str, Any]:
        with self.observer.step():
            return self._lend(lambda instance: instance.step_json(message))

    def _lend(self, use: Callable[[EngineInstance], _T]) -> _T:
        """`use(instance)` with an instance from the pool, given back unless it trapped."""
        instance = self._acquire()
        usable = False
        try:
            result = use(instance)
            usable = True
            return result
        finally:
            self._give_back(instance, usable)

    def _acquire(self) -> EngineInstance:
        """An idle instance of the current catalogue, a new one while fewer than
        MAX_INSTANCES exist, else the next one given back."""
        with self._pool:
            while True:
                generation = self._generation
                while self._idle:
                    instance = self._idle.pop()
                    if instance.generation == generation:
                        return instance
                    self._live -= 1  # loaded with facts that have changed since: dropped
                if self._live < MAX_INSTANCES:
                    self._live += 1
                    break
                self._pool.wait()
        try:
            facts_json, facts_warnings = self._facts()
            instance = EngineInstance(self.compiled, facts_json, self.recorder)
        except BaseException:
            self._give_back(None, usable=False)
            raise
        instance.generation = generation
        self.observer.instance_loaded()
        for warning in instance.warnings:
            logger.warning("%s", warning)
        self._load_warnings = [*facts_warnings, *({"source": "engine", "message": w} for w in instance.warnings)]
        _release_free_memory()
        return instance

    def _give_back(self, instance: EngineInstance | None, usable: bool) -> None:
        with self._pool:
            if usable and instance is not None and instance.generation == self._generation:
                self._idle.append(instance)
            else:
                self._live -= 1
            self._pool.notify()

    def reload(self) -> None:
        """Gather facts again on next use (settings changed, tests); instances follow."""
        with self._lock:
            self._facts_packed = None
            self._load_warnings = []
            self._generation += 1

    def run(self, message: str, context: dict[str, Any], carry_out: EffectRunner) -> dict[str, Any]:
        """Step one request (`message` as the client sent it, in `context`) to its end,
        carrying out effects in between; returns `done`.

        Each step takes an instance from the pool and gives it back: the continuation
        travels in the output, so any instance continues any request, and a few instances
        serve any number of concurrent requests (effects, the slow part, hold none).
        Raises EngineTrap; the instance that trapped is dropped.
        """
        output = self._step(_inbound_text(message, context))
        rounds = 0
        while "done" not in output:
            if rounds == MAX_ROUNDS:
                raise EngineTrap(f"request needed more than {MAX_ROUNDS} effect rounds")
            rounds += 1
            results = carry_out(output["effects"], output.get("notify"))
            output = self._step(_resume_text(output["state"], results))
        return output["done"]
