"""The few functions of wasmtime's C API the engine's host uses, bound with ctypes.

The shared library is the one the `wasmtime` wheel ships (the dependency stays for it), found
beside that package without importing it: its Python bindings declare every function of the
C API and cost a process more to import than everything it runs here. Only what `engine.py`
needs is declared: an engine with fuel, a component compiled or mapped from its artifact, a
linker holding the one host import (`host.log`), stores with a memory cap and fuel, and calls
of `func(string) -> string` and `func(string) -> result<string, string>`.

Layouts and signatures are those of the C API of wasmtime 50 and 51 (`wasmtime/component/*.h`).
Every object this module creates is owned by one Python object and freed once by its
finalizer; values the library returns are copied out and freed before the call returns.
"""

from __future__ import annotations

import ctypes
import importlib.util
import platform
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Component value kinds (wasmtime/component/val.h).
_U8 = 2
_STRING = 12
_RESULT = 19
#: A component item's kind (wasmtime/component/types/component.h): an instance.
_ITEM_INSTANCE = 1


class WasmtimeError(Exception):
    """An error or trap wasmtime reported; its text is wasmtime's message."""


class _ByteVec(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("data", ctypes.POINTER(ctypes.c_uint8))]


class _Val(ctypes.Structure):
    pass


class _ValResult(ctypes.Structure):
    _fields_ = [("is_ok", ctypes.c_bool), ("val", ctypes.POINTER(_Val))]


class _ValUnion(ctypes.Union):
    # Only the members read or written here, and `_room` for the largest of the others (a
    # variant: a name and a pointer), so that the size, and so an argument array's stride,
    # is the library's.
    _fields_ = [
        ("u8", ctypes.c_uint8),
        ("string", _ByteVec),
        ("result", _ValResult),
        ("_room", ctypes.c_void_p * 3),
    ]


_Val._fields_ = [("kind", ctypes.c_uint8), ("of", _ValUnion)]


class _FuncHandle(ctypes.Structure):
    _fields_ = [("store_id", ctypes.c_uint64), ("_index", ctypes.c_uint32)]


class _Func(ctypes.Structure):
    _fields_ = [("_handle", _FuncHandle), ("_private2", ctypes.c_uint32), ("_private3", ctypes.c_void_p)]


class _Instance(ctypes.Structure):
    _fields_ = [("store_id", ctypes.c_uint64), ("_index", ctypes.c_uint32)]


class _ItemUnion(ctypes.Union):
    # Every member is a pointer but the value type's (two words).
    _fields_ = [("component_instance", ctypes.c_void_p), ("_room", ctypes.c_void_p * 2)]


class _Item(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_uint8), ("of", _ItemUnion)]


_P = ctypes.c_void_p  # every opaque object (engine, store, component, linker, error, …)
_SIZE = ctypes.c_size_t
_NAME = ctypes.c_char_p
_VAL = ctypes.POINTER(_Val)

#: wasmtime_component_func_callback_t: (env, context, type, args, nargs, results, nresults)
#: → an error or NULL.
_HostFunc = ctypes.CFUNCTYPE(_P, _P, _P, _P, _VAL, _SIZE, _VAL, _SIZE)
_Finalizer = ctypes.CFUNCTYPE(None, _P)

_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "wasm_config_new": (_P, []),
    "wasmtime_config_consume_fuel_set": (None, [_P, ctypes.c_bool]),
    "wasm_engine_new_with_config": (_P, [_P]),
    "wasm_engine_delete": (None, [_P]),
    "wasm_byte_vec_new": (None, [ctypes.POINTER(_ByteVec), _SIZE, _NAME]),
    "wasm_byte_vec_delete": (None, [ctypes.POINTER(_ByteVec)]),
    "wasmtime_error_new": (_P, [_NAME]),
    "wasmtime_error_message": (None, [_P, ctypes.POINTER(_ByteVec)]),
    "wasmtime_error_delete": (None, [_P]),
    "wasmtime_component_new": (_P, [_P, _NAME, _SIZE, ctypes.POINTER(_P)]),
    "wasmtime_component_serialize": (_P, [_P, ctypes.POINTER(_ByteVec)]),
    "wasmtime_component_deserialize_file": (_P, [_P, _NAME, ctypes.POINTER(_P)]),
    "wasmtime_component_delete": (None, [_P]),
    "wasmtime_component_linker_new": (_P, [_P]),
    "wasmtime_component_linker_root": (_P, [_P]),
    "wasmtime_component_linker_instance_add_instance": (_P, [_P, _NAME, _SIZE, ctypes.POINTER(_P)]),
    "wasmtime_component_linker_instance_add_func": (_P, [_P, _NAME, _SIZE, _HostFunc, _P, _Finalizer]),
    "wasmtime_component_linker_instance_delete": (None, [_P]),
    "wasmtime_component_linker_instantiate": (_P, [_P, _P, _P, ctypes.POINTER(_Instance)]),
    "wasmtime_component_linker_delete": (None, [_P]),
    "wasmtime_store_new": (_P, [_P, _P, _Finalizer]),
    "wasmtime_store_context": (_P, [_P]),
    "wasmtime_store_limiter": (
        None,
        [_P, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64],
    ),
    "wasmtime_context_set_fuel": (_P, [_P, ctypes.c_uint64]),
    "wasmtime_store_delete": (None, [_P]),
    "wasmtime_component_instance_get_export_index": (_P, [ctypes.POINTER(_Instance), _P, _P, _NAME, _SIZE]),
    "wasmtime_component_instance_get_func": (ctypes.c_bool, [ctypes.POINTER(_Instance), _P, _P, ctypes.POINTER(_Func)]),
    "wasmtime_component_export_index_delete": (None, [_P]),
    "wasmtime_component_func_call": (_P, [ctypes.POINTER(_Func), _P, _VAL, _SIZE, _VAL, _SIZE]),
    "wasmtime_component_val_delete": (None, [_VAL]),
}

#: Read only by `imports()` (a diagnostic): declared when first asked for.
_TYPE_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "wasmtime_component_type": (_P, [_P]),
    "wasmtime_component_type_delete": (None, [_P]),
    "wasmtime_component_type_import_count": (_SIZE, [_P, _P]),
    "wasmtime_component_type_import_nth": (
        ctypes.c_bool,
        [_P, _P, _SIZE, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(_SIZE), ctypes.POINTER(_P)],
    ),
    "wasmtime_component_extern_type": (None, [_P, ctypes.POINTER(_Item)]),
    "wasmtime_component_extern_delete": (None, [_P]),
    "wasmtime_component_item_delete": (None, [ctypes.POINTER(_Item)]),
    "wasmtime_component_instance_type_export_count": (_SIZE, [_P, _P]),
    "wasmtime_component_instance_type_export_nth": (
        ctypes.c_bool,
        [_P, _P, _SIZE, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(_SIZE), ctypes.POINTER(_P)],
    ),
}


def library_path() -> Path:
    """The shared library in the installed `wasmtime` wheel, laid out as the wheel lays it out:
    `<package>/<platform>-<machine>/<name>`. Raises OSError naming what is missing."""
    try:
        spec = importlib.util.find_spec("wasmtime")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise OSError("wasmtime is not installed: the MCP endpoint needs its library (pip install wasmtime)")
    system = "android" if hasattr(sys, "getandroidapilevel") else sys.platform
    names = {"linux": "_libwasmtime.so", "android": "_libwasmtime.so", "darwin": "_libwasmtime.dylib"}
    name = names.get(system, "_wasmtime.dll" if system == "win32" else None)
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    if name is None:
        raise OSError(f"wasmtime ships no library for the platform {system!r}")
    for location in locations:
        path = Path(location) / f"{system}-{machine}" / name
        if path.is_file():
            return path
    raise OSError(f"the installed wasmtime package has no {system}-{machine}/{name}: reinstall wasmtime")


class _Library:
    """The library with the functions above declared, loaded once per process."""

    def __init__(self, path: Path) -> None:
        self.dll = ctypes.CDLL(str(path))
        status = path.stat()
        self.stamp = f"{path.name}:{status.st_size}:{status.st_mtime_ns}"
        self._declare(_SIGNATURES)
        self._types_declared = False

    def _declare(self, signatures: dict[str, tuple[Any, list[Any]]]) -> None:
        for name, (restype, argtypes) in signatures.items():
            function = getattr(self.dll, name)
            function.restype, function.argtypes = restype, argtypes
            setattr(self, name, function)

    def declare_types(self) -> None:
        if not self._types_declared:
            self._declare(_TYPE_SIGNATURES)
            self._types_declared = True

    def __getattr__(self, name: str) -> Any:  # the declared functions, for the type checker
        raise AttributeError(name)


_lib: _Library | None = None


def loaded() -> bool:
    """Whether this process has loaded the library."""
    return _lib is not None


def lib() -> _Library:
    global _lib
    if _lib is None:
        _lib = _Library(library_path())
    return _lib


def library_stamp() -> str:
    """What tells the loaded library file from another release's: its name, size and
    modification time."""
    return lib().stamp


def _check(error: int | None) -> None:
    """Raises the error a function returned (and frees it), if it returned one."""
    if error:
        raise WasmtimeError(_take_message(error))


def _take_message(error: int) -> str:
    library = lib()
    message = _ByteVec()
    library.wasmtime_error_message(error, ctypes.byref(message))
    try:
        return ctypes.string_at(message.data, message.size).decode("utf-8", "replace")
    finally:
        library.wasm_byte_vec_delete(ctypes.byref(message))
        library.wasmtime_error_delete(error)


def _owned(owner: object, delete: Callable[[int], None], pointer: int) -> None:
    """Frees `pointer` once, when `owner` is collected (or at exit)."""
    weakref.finalize(owner, delete, pointer)


def _string(val: _Val) -> str:
    return _utf8(val).decode("utf-8")


def _utf8(val: _Val) -> bytes:
    """A string value as the component wrote it, UTF-8."""
    if val.kind != _STRING:
        raise WasmtimeError(f"expected a string from the engine, got value kind {val.kind}")
    text = val.of.string
    return ctypes.string_at(text.data, text.size) if text.size else b""


# The host function the linker holds and the no-op finalizer it is given: module globals, so
# they live as long as any store instantiated through a linker might call them.
_log_sink: Callable[[int, str], None] | None = None


@_HostFunc
def _host_log(_env: Any, _context: Any, _type: Any, args: Any, nargs: int, _results: Any, _nresults: int) -> int | None:
    try:
        if nargs != 2 or args[0].kind != _U8:
            raise TypeError("host.log takes (u8, string)")
        if _log_sink is not None:
            _log_sink(args[0].of.u8, _string(args[1]))
        return None
    except BaseException:  # a trap in the guest rather than an exception through C frames
        return lib().wasmtime_error_new(b"host.log failed")


@_Finalizer
def _no_finalizer(_data: Any) -> None:
    return None


class Engine:
    """A wasmtime engine that meters fuel, and the component compiled for it."""

    def __init__(self) -> None:
        library = lib()
        config = library.wasm_config_new()
        library.wasmtime_config_consume_fuel_set(config, True)
        self.ptr = library.wasm_engine_new_with_config(config)  # takes the config
        _owned(self, library.wasm_engine_delete, self.ptr)


class Component:
    """A compiled component; keeps its engine alive."""

    def __init__(self, engine: Engine, pointer: int) -> None:
        self.engine, self.ptr = engine, pointer
        _owned(self, lib().wasmtime_component_delete, pointer)

    @classmethod
    def compile(cls, engine: Engine, wasm: bytes) -> Component:
        out = _P()
        _check(lib().wasmtime_component_new(engine.ptr, wasm, len(wasm), ctypes.byref(out)))
        return cls(engine, out.value or 0)

    @classmethod
    def deserialize_file(cls, engine: Engine, path: str) -> Component:
        """The artifact at `path`, mapped: trusted completely, so only one checked first."""
        out = _P()
        _check(lib().wasmtime_component_deserialize_file(engine.ptr, path.encode(), ctypes.byref(out)))
        return cls(engine, out.value or 0)

    def serialize(self) -> bytes:
        library = lib()
        artifact = _ByteVec()
        _check(library.wasmtime_component_serialize(self.ptr, ctypes.byref(artifact)))
        try:
            return ctypes.string_at(artifact.data, artifact.size)
        finally:
            library.wasm_byte_vec_delete(ctypes.byref(artifact))

    def imports(self) -> dict[str, list[str]]:
        """Each imported instance's name and the names it exports (other kinds: none)."""
        library = lib()
        library.declare_types()
        engine = self.engine.ptr
        ty = library.wasmtime_component_type(self.ptr)
        found: dict[str, list[str]] = {}
        try:
            for i in range(library.wasmtime_component_type_import_count(ty, engine)):
                name, item = _nth(library.wasmtime_component_type_import_nth, ty, engine, i)
                try:
                    found[name] = _instance_exports(library, item, engine)
                finally:
                    library.wasmtime_component_extern_delete(item)
        finally:
            library.wasmtime_component_type_delete(ty)
        return found


def _nth(function: Any, ty: int, engine: int, i: int) -> tuple[str, int]:
    name, size, item = ctypes.c_char_p(), _SIZE(), _P()
    if not function(ty, engine, i, ctypes.byref(name), ctypes.byref(size), ctypes.byref(item)):
        raise WasmtimeError(f"no item {i}")
    return ctypes.string_at(name, size.value).decode("utf-8"), item.value or 0


def _instance_exports(library: _Library, extern: int, engine: int) -> list[str]:
    item = _Item()
    library.wasmtime_component_extern_type(extern, ctypes.byref(item))
    try:
        if item.kind != _ITEM_INSTANCE:
            return []
        instance = item.of.component_instance
        names = []
        for j in range(library.wasmtime_component_instance_type_export_count(instance, engine)):
            name, export = _nth(library.wasmtime_component_instance_type_export_nth, instance, engine, j)
            library.wasmtime_component_extern_delete(export)
            names.append(name)
        return sorted(names)
    finally:
        library.wasmtime_component_item_delete(ctypes.byref(item))


class Linker:
    """A component linker defining `<interface>#log` (level, message) and nothing else."""

    def __init__(self, engine: Engine, interface: str, log: Callable[[int, str], None]) -> None:
        global _log_sink
        library = lib()
        self.engine = engine
        self.ptr = library.wasmtime_component_linker_new(engine.ptr)
        _owned(self, library.wasmtime_component_linker_delete, self.ptr)
        _log_sink = log
        root = library.wasmtime_component_linker_root(self.ptr)
        try:
            host = _P()
            name = interface.encode()
            _check(library.wasmtime_component_linker_instance_add_instance(root, name, len(name), ctypes.byref(host)))
            try:
                _check(
                    library.wasmtime_component_linker_instance_add_func(
                        host.value, b"log", 3, _host_log, None, _no_finalizer
                    )
                )
            finally:
                library.wasmtime_component_linker_instance_delete(host.value)
        finally:
            library.wasmtime_component_linker_instance_delete(root)


class Store:
    """A store with a memory cap, metered by fuel; holds the one instance made in it."""

    def __init__(self, engine: Engine, memory_limit: int) -> None:
        library = lib()
        self.engine = engine
        self.ptr = library.wasmtime_store_new(engine.ptr, None, _no_finalizer)
        _owned(self, library.wasmtime_store_delete, self.ptr)
        self.context = library.wasmtime_store_context(self.ptr)
        library.wasmtime_store_limiter(self.ptr, memory_limit, -1, -1, -1, -1)

    def set_fuel(self, fuel: int) -> None:
        _check(lib().wasmtime_context_set_fuel(self.context, fuel))

    def instantiate(self, linker: Linker, component: Component) -> _Instance:
        instance = _Instance()
        _check(
            lib().wasmtime_component_linker_instantiate(linker.ptr, self.context, component.ptr, ctypes.byref(instance))
        )
        self._keep = (linker, component)  # what the instance was made from outlives it
        return instance

    def export(self, instance: _Instance, interface: str, name: str) -> StringFunc | None:
        """`interface#name` of `instance`, or None when it has no such function."""
        library = lib()
        outer = self._export_index(instance, None, interface)
        if not outer:
            return None
        try:
            index = self._export_index(instance, outer, name)
            if not index:
                return None
            try:
                func = _Func()
                found = library.wasmtime_component_instance_get_func(
                    ctypes.byref(instance), self.context, index, ctypes.byref(func)
                )
                return StringFunc(self, func) if found else None
            finally:
                library.wasmtime_component_export_index_delete(index)
        finally:
            library.wasmtime_component_export_index_delete(outer)

    def _export_index(self, instance: _Instance, within: int | None, name: str) -> int | None:
        encoded = name.encode()
        return lib().wasmtime_component_instance_get_export_index(
            ctypes.byref(instance), self.context, within, encoded, len(encoded)
        )


class StringFunc:
    """A function of one string argument, called with one copy each way: its result a string,
    or a `result<string, string>` as (ok, payload). Used only with its own store."""

    def __init__(self, store: Store, func: _Func) -> None:
        library = lib()
        self._store = store  # the store outlives its functions
        self._func = func
        self._func_ref = ctypes.byref(func)
        self._context = store.context
        self._call = library.wasmtime_component_func_call
        self._new_string = library.wasm_byte_vec_new
        self._delete_val = library.wasmtime_component_val_delete

    def _invoke(self, text: str, result: _Val) -> None:
        data = text.encode("utf-8")
        argument = _Val()
        argument.kind = _STRING
        self._new_string(ctypes.byref(argument.of.string), len(data), data)
        try:
            error = self._call(self._func_ref, self._context, ctypes.byref(argument), 1, ctypes.byref(result), 1)
        finally:
            self._delete_val(ctypes.byref(argument))
        _check(error)

    def utf8(self, text: str) -> bytes:
        """`func(string) -> string`, the string returned as the component wrote it (UTF-8)."""
        result = _Val()
        self._invoke(text, result)
        try:
            return _utf8(result)
        finally:
            self._delete_val(ctypes.byref(result))

    def result(self, text: str) -> tuple[bool, str]:
        """`func(string) -> result<string, string>`: (is ok, the string either side holds)."""
        result = _Val()
        self._invoke(text, result)
        try:
            if result.kind != _RESULT:
                raise WasmtimeError(f"expected a result from the engine, got value kind {result.kind}")
            outcome = result.of.result
            return bool(outcome.is_ok), _string(outcome.val.contents) if outcome.val else ""
        finally:
            self._delete_val(ctypes.byref(result))
