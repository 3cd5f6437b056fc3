"""The engine component itself: its imports, its compiled-artifact cache, and how the host
survives a guest that runs away, panics or exhausts memory."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import django_mcp
from django_mcp.engine import CompiledEngine, default_wasm_path


def test_the_component_imports_nothing_but_the_log_function():
    assert CompiledEngine().imports() == {"django-mcp:engine/host@0.1.0": ["log"]}


class TestCompiledArtifactCache:
    def _artifact(self, cache_dir):
        """The one artifact in `cache_dir`, beside its checksum."""
        files = sorted(cache_dir.iterdir())
        assert [f.suffix for f in files] == [".cwasm", ".sha256"], files
        return files[0]

    def test_first_start_writes_the_artifact_and_later_starts_reuse_it(self, tmp_path):
        CompiledEngine(cache_dir=tmp_path)
        artifact = self._artifact(tmp_path)
        written = artifact.stat().st_mtime_ns
        CompiledEngine(cache_dir=tmp_path)
        assert self._artifact(tmp_path).stat().st_mtime_ns == written

    def test_a_corrupt_artifact_is_rebuilt_and_the_engine_still_works(self, tmp_path):
        CompiledEngine(cache_dir=tmp_path)
        artifact = self._artifact(tmp_path)
        blob = bytearray(artifact.read_bytes())
        blob[len(blob) // 2] ^= 0xFF
        artifact.write_bytes(bytes(blob))

        from django_mcp.engine import EngineInstance

        compiled = CompiledEngine(cache_dir=tmp_path)
        assert self._artifact(tmp_path).read_bytes() != bytes(blob)  # rewritten
        instance = EngineInstance(compiled, '{"protocol": 1}')
        out = instance.step({"message": '{"jsonrpc":"2.0","id":1,"method":"ping"}', "context": {}})
        assert json.loads(out["done"]["reply"]) == {"jsonrpc": "2.0", "id": 1, "result": {}}

    def test_an_artifact_without_its_checksum_is_rebuilt(self, tmp_path):
        CompiledEngine(cache_dir=tmp_path)
        artifact = self._artifact(tmp_path)
        written = artifact.stat().st_mtime_ns
        artifact.with_name(artifact.name + ".sha256").unlink()
        CompiledEngine(cache_dir=tmp_path)
        assert self._artifact(tmp_path).stat().st_mtime_ns != written

    @pytest.mark.parametrize("kept", [100, 0])
    def test_a_truncated_artifact_is_rebuilt(self, tmp_path, kept):
        CompiledEngine(cache_dir=tmp_path)
        artifact = self._artifact(tmp_path)
        artifact.write_bytes(artifact.read_bytes()[:kept])
        CompiledEngine(cache_dir=tmp_path)
        assert artifact.stat().st_size > 100_000

    def test_the_artifact_is_found_without_reading_package_metadata(self, tmp_path):
        """A start finds its compiled engine without `importlib.metadata`, which costs a start
        more to import and read than the checksums; the artifact is the one a later start
        reuses."""
        script = (
            "import sys\n"
            "sys.modules['importlib.metadata'] = None  # as if it could not be imported\n"
            "from django_mcp.engine import CompiledEngine\n"
            f"CompiledEngine(cache_dir={str(tmp_path)!r})\n"
        )
        host = str(Path(django_mcp.__file__).parents[1])
        env = {**os.environ, "PYTHONPATH": host}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        written = self._artifact(tmp_path).stat().st_mtime_ns
        CompiledEngine(cache_dir=tmp_path)
        assert self._artifact(tmp_path).stat().st_mtime_ns == written


def test_facts_of_another_protocol_are_refused():
    from django_mcp.engine import EngineInstance, FactsRejected

    with pytest.raises(FactsRejected, match="protocol 99"):
        EngineInstance(CompiledEngine(default_wasm_path()), '{"protocol": 99}')


@pytest.fixture
def hooks(settings):
    settings.DJANGO_MCP_TEST_HOOKS = True


class TestGuestFailuresAreSurvived:
    def _still_serving(self, mcp):
        assert mcp.rpc("ping")["result"] == {}
        result = mcp.call("list_library_author", {"page_size": 2})
        assert result["isError"] is False
        assert result["structuredContent"]["count"] == 3

    def test_a_runaway_step_is_stopped_by_fuel(self, mcp, hooks):
        reply = mcp.rpc("debug/spin")
        assert reply["error"]["code"] == -32603
        assert reply["id"] is not None
        assert len(reply["error"]["data"]["correlation_id"]) == 32
        self._still_serving(mcp)

    def test_a_panic_is_logged_and_survived(self, mcp, hooks, caplog):
        with caplog.at_level(logging.INFO, logger="django_mcp.engine"):
            reply = mcp.rpc("debug/panic")
        assert reply["error"]["code"] == -32603
        assert any("debug/panic requested" in r.getMessage() for r in caplog.records)
        self._still_serving(mcp)

    def test_memory_beyond_the_cap_traps_instead_of_growing(self, mcp, hooks):
        reply = mcp.rpc("debug/allocate", {"bytes": 1024 * 1024 * 1024})
        assert reply["error"]["code"] == -32603
        self._still_serving(mcp)

    def test_a_modest_allocation_is_fine(self, mcp, hooks):
        # The same hook under the cap: proves the trap above is the cap, not the hook.
        reply = mcp.rpc("debug/allocate", {"bytes": 1024 * 1024})
        assert reply["result"] == {"allocated": 1024 * 1024, "pages": 16}

    def test_the_hooks_do_not_exist_unless_enabled(self, mcp):
        assert mcp.rpc("debug/spin")["error"]["code"] == -32601


def test_requests_on_new_threads_reuse_pooled_instances(client, db, monkeypatch):
    """Django's ASGI handler runs each request on a new thread: an instance per thread
    would derive the catalogue once per request. Instances are pooled instead."""
    import threading

    from django_mcp import engine
    from conftest import InProcessMCP

    anonymous = InProcessMCP(client)  # ping needs no credential, so no database either
    assert anonymous.rpc("ping")["result"] == {}
    built = []
    original = engine.EngineInstance.__init__

    def counted(self, *args, **kwargs):
        built.append(threading.get_ident())
        original(self, *args, **kwargs)

    monkeypatch.setattr(engine.EngineInstance, "__init__", counted)
    answers = []
    for _ in range(5):
        thread = threading.Thread(target=lambda: answers.append(anonymous.rpc("ping")))
        thread.start()
        thread.join()
    assert [a["result"] for a in answers] == [{}] * 5
    assert built == []


def test_concurrent_requests_share_a_bounded_pool(client, db, monkeypatch):
    """Each step takes an instance and gives it back, so many concurrent requests need no
    more instances than the pool's bound (each one holds the whole catalogue)."""
    import threading

    from django_mcp import engine
    from django_mcp.server import state
    from conftest import InProcessMCP

    anonymous = InProcessMCP(client)
    state.get_runtime().reload()  # a fresh catalogue: every instance is built below
    built = []
    original = engine.EngineInstance.__init__

    def counted(self, *args, **kwargs):
        built.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(engine.EngineInstance, "__init__", counted)
    start = threading.Barrier(16)
    answers = []

    def ping_five_times():
        start.wait()
        for _ in range(5):
            answers.append(anonymous.rpc("ping")["result"])

    threads = [threading.Thread(target=ping_five_times) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [{}] * 80
    assert 1 <= len(built) <= engine.MAX_INSTANCES


def _strings_reachable(root, depth=4):
    """The str objects reachable from `root` within `depth` references."""
    import gc

    seen, found, layer = set(), [], [root]
    for _ in range(depth):
        following = []
        for obj in layer:
            for ref in gc.get_referents(obj):
                if id(ref) in seen:
                    continue
                seen.add(id(ref))
                (found if isinstance(ref, str) else following).append(ref)
        layer = following
    return found


def test_an_instance_loaded_after_a_trap_has_the_same_catalogue_and_no_facts_text_is_kept(mcp, hooks, monkeypatch):
    """The runtime keeps the facts for instances loaded later, compressed: not their text (at
    500 admin models 1.8 MB), and without gathering them again."""
    from django_mcp import server

    gathered = []
    gather = server.facts.gather
    monkeypatch.setattr(server.facts, "gather", lambda **kwargs: gathered.append(1) or gather(**kwargs))
    server.reset()
    first = mcp.rpc("tools/list")["result"]
    runtime = server.state.get_runtime()
    facts_size = len(runtime.facts_json())
    assert max(map(len, _strings_reachable(runtime))) < facts_size / 10
    assert mcp.rpc("debug/panic")["error"]["code"] == -32603  # the instance is dropped
    assert mcp.rpc("tools/list")["result"] == first
    assert gathered == [1]


def test_start_up_loads_no_engine_and_the_checks_find_it_without_loading_it(tmp_path):
    """In a fresh process: `django.setup()` imports neither the server nor the engine's runtime
    (nor `django.test`, which a process serving requests never needs, nor `importlib.metadata`),
    nor do the system checks, which still report a missing wasmtime, unless a search entry names
    field paths (the engine judges which cross a secret); the first MCP message loads it, and no
    effect handler it does not ask for."""
    from servers import demo_probe

    report = demo_probe(
        tmp_path,
        "import json, sys\n"
        "import django\n"
        "def loaded():  # the library the wasmtime wheel ships, by the host's own binding\n"
        "    runtime = sys.modules.get('django_mcp.wasmtime_capi')\n"
        "    return runtime is not None and runtime.loaded()\n"
        "django.setup()\n"
        "set_up = sorted(m for m in ('wasmtime', 'django_mcp.server', 'django_mcp.facts', 'django.test', 'importlib.metadata') if m in sys.modules)\n"  # noqa: E501
        "set_up += ['runtime'] if loaded() else []\n"
        "from django.core import checks\n"
        "from django.test import Client, override_settings\n"
        "with override_settings(DJANGO_MCP_MODEL_SEARCH=[]):\n"
        "    passed = [e.id for e in checks.run_checks() if e.id.startswith('django_mcp')]\n"
        "checked = loaded()\n"
        "sys.modules['wasmtime'] = None  # as if not installed\n"
        "missing = [e.id + ': ' + e.msg for e in checks.run_checks() if e.id.startswith('django_mcp')]\n"
        "del sys.modules['wasmtime']\n"
        "searched = [e.id for e in checks.run_checks() if e.id.startswith('django_mcp')]\n"
        "judged = loaded()\n"
        "with override_settings(ALLOWED_HOSTS=['*']):\n"
        "    r = Client().post('/mcp/', {'jsonrpc': '2.0', 'id': 1, 'method': 'ping'}, content_type='application/json')\n"  # noqa: E501
        "    assert r.status_code == 200 and r.json()['result'] == {}, r.content\n"
        "effects = sorted(m for m in sys.modules if m.startswith('django_mcp.effects.'))\n"
        "print(json.dumps([set_up, passed, checked, missing, searched, judged, effects]))\n",
    )
    assert report == [
        [],
        [],
        False,
        ["django_mcp.E029: wasmtime is not installed: the MCP endpoint cannot run its engine."],
        [],
        True,
        ["django_mcp.effects.collisions"],  # a ping asks for no effect: no handler is imported
    ]


def test_the_first_answer_never_imports_wasmtimes_python_package(tmp_path):
    """The engine runs on the library the `wasmtime` wheel ships, bound by the host itself:
    the package's Python bindings (every function of the C API) are never imported, by the
    first answer nor by one after a trap."""
    from servers import demo_probe

    report = demo_probe(
        tmp_path,
        "import json, sys\n"
        "import django\n"
        "django.setup()\n"
        "from django.test import Client, override_settings\n"
        "with override_settings(ALLOWED_HOSTS=['*'], DJANGO_MCP_TEST_HOOKS=True):\n"
        "    answers = [Client().post('/mcp/', {'jsonrpc': '2.0', 'id': 1, 'method': m}, content_type='application/json').json()\n"  # noqa: E501
        "               for m in ('ping', 'debug/panic', 'ping')]\n"
        "imported = sorted(m for m in sys.modules if m.split('.')[0] == 'wasmtime')\n"
        "print(json.dumps([[sorted(a) for a in answers], imported]))\n",
    )
    assert report == [[["id", "jsonrpc", "result"], ["error", "id", "jsonrpc"], ["id", "jsonrpc", "result"]], []]


def test_the_binding_agrees_with_the_wheels_own_declarations():
    """The host's binding declares its structures and functions itself; the wheel's Python
    bindings (a test may import them) are generated from the C headers of the same release,
    so a release that changes a layout or a signature the host uses fails here."""
    import ctypes

    from wasmtime import _bindings, _ffi

    from django_mcp import wasmtime_capi as capi

    pairs = [
        (capi._Val, _ffi.wasmtime_component_val_t),
        (capi._ValResult, _ffi.wasmtime_component_valresult_t),
        (capi._ByteVec, _ffi.wasm_byte_vec_t),
        (capi._Func, _ffi.wasmtime_component_func_t),
        (capi._Instance, _ffi.wasmtime_component_instance_t),
        (capi._Item, _ffi.wasmtime_component_item_t),
    ]
    for ours, theirs in pairs:
        assert (ctypes.sizeof(ours), ctypes.alignment(ours)) == (ctypes.sizeof(theirs), ctypes.alignment(theirs))
    assert capi._Val.of.offset == _ffi.wasmtime_component_val_t.of.offset
    assert capi._ValResult.val.offset == _ffi.wasmtime_component_valresult_t.val.offset
    assert (capi._U8, capi._STRING, capi._RESULT) == (
        _ffi.WASMTIME_COMPONENT_U8.value,
        _ffi.WASMTIME_COMPONENT_STRING.value,
        _ffi.WASMTIME_COMPONENT_RESULT.value,
    )
    assert capi._ITEM_INSTANCE == _ffi.WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE.value
    for name, (restype, argtypes) in {**capi._SIGNATURES, **capi._TYPE_SIGNATURES}.items():
        declared = getattr(_bindings, "_" + name)
        assert len(argtypes) == len(declared.argtypes), name
        assert (restype is None) == (declared.restype is None), name
        for ours, theirs in zip(argtypes, declared.argtypes, strict=True):
            assert ctypes.sizeof(ours) == ctypes.sizeof(theirs), name
