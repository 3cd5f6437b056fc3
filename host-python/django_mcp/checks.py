"""System checks: a bad setting is reported at startup, not as an error on every request."""

import importlib
import importlib.util
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from django_mcp import conf, oauth, rate_limits


@checks.register()
def check_settings(app_configs=None, **kwargs):
    errors = []

    def error(number, message, hint=None):
        errors.append(_error(number, message, hint))

    from django.contrib.admin import AdminSite

    sites = conf.get("DJANGO_MCP_ADMIN_SITES")
    if isinstance(sites, str) or not hasattr(sites, "__iter__"):
        error(1, "DJANGO_MCP_ADMIN_SITES must be a list of dotted paths to AdminSite instances.")
    else:
        for path in sites:
            try:
                site = import_string(path) if isinstance(path, str) else path
            except ImportError as exc:
                error(2, f"DJANGO_MCP_ADMIN_SITES: cannot import {path!r} ({exc}).")
                continue
            if not isinstance(site, AdminSite):
                error(3, f"DJANGO_MCP_ADMIN_SITES: {path!r} is not an AdminSite instance.")
    if conf.get("DJANGO_MCP_TOOL_NAMES") not in ("portable", "dotted"):
        error(4, "DJANGO_MCP_TOOL_NAMES must be 'portable' or 'dotted'.")
    for name in ("DJANGO_MCP_PAGE_SIZE", "DJANGO_MCP_MAX_BODY_BYTES", "DJANGO_MCP_ANONYMOUS_MAX_BODY_BYTES"):
        value = conf.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            error(5, f"{name} must be a positive integer.")
    if conf.get("DJANGO_MCP_DISCOVERY") not in ("auto", "always", "off"):
        error(23, "DJANGO_MCP_DISCOVERY must be 'auto', 'always' or 'off'.")
    threshold = conf.get("DJANGO_MCP_DISCOVERY_THRESHOLD")
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
        error(23, "DJANGO_MCP_DISCOVERY_THRESHOLD must be a non-negative integer.")
    threads = conf.get("DJANGO_MCP_THREADS")
    if not isinstance(threads, int) or isinstance(threads, bool) or threads < 0:
        error(28, "DJANGO_MCP_THREADS must be a non-negative integer (0: each request's own thread).")
    redact = conf.get("DJANGO_MCP_REDACT_FIELDS")
    if isinstance(redact, str) or not all(isinstance(r, str) for r in redact):
        error(6, "DJANGO_MCP_REDACT_FIELDS must be a list of 'field' or 'app.Model.field' strings.")
    errors.extend(_oauth_errors())
    errors.extend(_rate_limit_errors())
    errors.extend(_failure_limit_errors())
    if conf.get("DJANGO_MCP_TEST_HOOKS") and not _running_tests():
        error(
            21,
            "DJANGO_MCP_TEST_HOOKS is on outside a test run: it answers debug/* methods that make the "
            "engine spin, panic or allocate before any authentication.",
            hint="Turn it off. A test fixture that serves with it in another process silences this check "
            "with SILENCED_SYSTEM_CHECKS = ['django_mcp.E021'].",
        )
    errors.extend(_resource_errors())
    errors.extend(_view_errors())
    errors.extend(_search_errors())
    errors.extend(_telemetry_errors())
    errors.extend(_engine_errors())
    return errors


def _error(number, message, hint=None):
    return checks.Error(message, hint=hint, id=f"django_mcp.E{number:03d}")


def _oauth_errors():
    resolver = conf.get("DJANGO_MCP_BEARER_RESOLVER")
    if resolver is not None:
        try:
            resolve = import_string(resolver) if isinstance(resolver, str) else None
        except ImportError as exc:
            yield _error(7, f"DJANGO_MCP_BEARER_RESOLVER: cannot import {resolver!r} ({exc}).")
        else:
            if not callable(resolve):
                yield _error(
                    7,
                    "DJANGO_MCP_BEARER_RESOLVER must be the dotted path of a callable "
                    "resolve(token, request) -> user | None.",
                )
    config = conf.get("DJANGO_MCP_OAUTH")
    if config is None:
        return
    if not isinstance(config, dict) or not set(config) <= _OAUTH_KEYS:
        yield _error(
            8,
            "DJANGO_MCP_OAUTH must be a dict with authorization_servers (or server) and optionally "
            f"{', '.join(sorted(_OAUTH_KEYS - {'authorization_servers', 'server'}))}.",
        )
        return
    server = config.get("server")
    if server is not None and server != oauth.SERVER:
        yield _error(
            8,
            f"DJANGO_MCP_OAUTH['server'] must be {oauth.SERVER!r} (the site is its own authorization "
            "server) or absent.",
        )
    servers = config.get("authorization_servers")
    if (servers is not None or server is None) and (
        not isinstance(servers, (list, tuple)) or not servers or not all(_is_web_url(s) for s in servers)
    ):
        yield _error(8, "DJANGO_MCP_OAUTH['authorization_servers'] must be a non-empty list of http(s) issuer URLs.")
    scopes = config.get("scopes_supported", ())
    if not isinstance(scopes, (list, tuple)) or not all(isinstance(s, str) and _SCOPE.fullmatch(s) for s in scopes):
        yield _error(8, "DJANGO_MCP_OAUTH['scopes_supported'] must be a list of OAuth scope names.")
    if "resource" in config and not _is_web_url(config["resource"]):
        yield _error(8, "DJANGO_MCP_OAUTH['resource'] must be the http(s) URL of the MCP endpoint.")
    for switch in ("client_id_metadata_documents", "dynamic_client_registration"):
        if not isinstance(config.get(switch, True), bool):
            yield _error(8, f"DJANGO_MCP_OAUTH[{switch!r}] must be True or False.")
    if config.get("registration_rate") is not None:
        try:
            rate_limits.parse(config["registration_rate"])
        except ValueError as exc:
            yield _error(10, f"DJANGO_MCP_OAUTH['registration_rate']: {exc}.")
    if server == oauth.SERVER:
        yield from _authorization_server_errors(config)


_OAUTH_KEYS = {
    "authorization_servers",
    "scopes_supported",
    "resource",
    "server",
    "client_id_metadata_documents",
    "dynamic_client_registration",
    "registration_rate",
    "cimd_loopback_ca_for_tests",
}


def _authorization_server_errors(config):
    """The site as its own authorization server: django-oauth-toolkit installed, its rules kept."""
    import importlib.metadata  # here: every start imports this module, few check this

    from django.apps import apps

    try:
        version = importlib.metadata.version("django-oauth-toolkit")
    except importlib.metadata.PackageNotFoundError:
        version = None
    if version is None or tuple(int(p) for p in re.findall(r"\d+", version)[:2]) < (3, 4):
        yield _error(
            24,
            "DJANGO_MCP_OAUTH['server'] needs django-oauth-toolkit 3.4 or later"
            + (f" (found {version})." if version else "."),
            hint='pip install "django-mcp-framework[oauth]"',
        )
        return
    if not apps.is_installed("oauth2_provider"):
        yield _error(24, "DJANGO_MCP_OAUTH['server'] needs 'oauth2_provider' in INSTALLED_APPS.")
        return
    from django_mcp import oauth_server

    own = getattr(settings, "OAUTH2_PROVIDER", None) or {}
    for name, value in oauth_server.RULES.items():
        if name in own and own[name] != value:
            yield _error(
                25,
                f"OAUTH2_PROVIDER[{name!r}] must be {value!r} when the site is the MCP authorization "
                "server (PKCE S256 only, rotating refresh tokens, no implicit or password grant).",
                hint=f"Remove {name!r} from OAUTH2_PROVIDER: DJANGO_MCP_OAUTH sets it.",
            )
    if config.get("cimd_loopback_ca_for_tests") and not _running_tests():
        yield _error(
            26,
            "DJANGO_MCP_OAUTH['cimd_loopback_ca_for_tests'] is set outside a test run: it lets the "
            "authorization server fetch client metadata from 127.0.0.1.",
            hint="Remove it. A test fixture that serves with it in another process silences this check "
            "with SILENCED_SYSTEM_CHECKS = ['django_mcp.E026'].",
        )


# RFC 6749 section 3.3: printable ASCII but space, quote and backslash.
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")


def _is_web_url(value):
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


def _rate_limit_errors():
    limits = conf.get("DJANGO_MCP_RATE_LIMITS")
    if not limits:
        return
    shape = "DJANGO_MCP_RATE_LIMITS must be a dict like {'key': '120/m', 'tool': {'*': '60/m', '<tool>': '5/m'}}."
    if not isinstance(limits, dict) or not set(limits) <= {"key", "tool"}:
        yield _error(9, shape)
        return
    rates = {"key": limits.get("key")} if limits.get("key") is not None else {}
    tools = limits.get("tool") or {}
    if not isinstance(tools, dict):
        yield _error(9, shape)
        return
    rates.update((f"tool[{name!r}]", rate) for name, rate in tools.items())
    for where, rate in rates.items():
        try:
            rate_limits.parse(rate)
        except ValueError as exc:
            yield _error(10, f"DJANGO_MCP_RATE_LIMITS {where}: {exc}.")
    alias = conf.get("DJANGO_MCP_RATE_LIMIT_CACHE")
    if alias not in settings.CACHES:
        yield _error(11, f"DJANGO_MCP_RATE_LIMIT_CACHE: {alias!r} is not a cache in CACHES.")
        return
    backend = settings.CACHES[alias].get("BACKEND")
    if backend in UNSHARED_COUNTERS:
        yield checks.Warning(
            f"DJANGO_MCP_RATE_LIMITS counts in the cache {alias!r} ({backend.rsplit('.', 1)[-1]}), which "
            f"{UNSHARED_COUNTERS[backend]}: with several worker processes or instances, a limit is not the "
            "limit of the site.",
            hint="Point DJANGO_MCP_RATE_LIMIT_CACHE at a cache every process shares with atomic increments "
            "(Redis, Memcached); docs/concurrency.md.",
            id="django_mcp.W001",
        )


# Cache backends a rate limit cannot be counted exactly in across processes, and why.
UNSHARED_COUNTERS = {
    "django.core.cache.backends.locmem.LocMemCache": "keeps its counters in each process's memory",
    "django.core.cache.backends.dummy.DummyCache": "keeps no counters, so nothing is ever limited",
    "django.core.cache.backends.filebased.FileBasedCache": "counts by reading then writing a file, so calls at the same time are counted once",  # noqa: E501
    "django.core.cache.backends.db.DatabaseCache": "counts by reading then writing a row, so calls at the same time are counted once",  # noqa: E501
}


def _running_tests():
    """Under pytest, or Django's test runner (`manage.py test`, `django-admin test`)."""
    return "pytest" in sys.modules or sys.argv[1:2] == ["test"]


def _failure_limit_errors():
    limits = conf.get("DJANGO_MCP_AUTH_FAILURE_LIMITS")
    if limits is None:
        return
    if not isinstance(limits, dict) or not set(limits) <= {"key", "address"}:
        yield _error(
            22,
            "DJANGO_MCP_AUTH_FAILURE_LIMITS must be a dict like {'key': '10/m', 'address': '60/m'} "
            "(or None: failed credential checks are not limited).",
        )
        return
    for kind, rate in limits.items():
        if rate is None:
            continue
        try:
            rate_limits.parse(rate)
        except ValueError as exc:
            yield _error(10, f"DJANGO_MCP_AUTH_FAILURE_LIMITS[{kind!r}]: {exc}.")


def _resource_errors():
    # Imported when the checks run, not with the app: gathering's modules are the first
    # request's, and a process that runs no checks (a served worker) needs them only then.
    from django_mcp.facts.resources import parsed_entries, resource_model, user_prompt

    models = conf.get("DJANGO_MCP_RESOURCE_MODELS")
    if not isinstance(models, (list, tuple)):
        yield _error(
            12,
            "DJANGO_MCP_RESOURCE_MODELS must be a list of 'app_label.ModelName' strings or "
            "{'model': 'app_label.ModelName', 'permission': 'app_label.codename'} dicts.",
        )
    else:
        for entry in models:
            try:
                resource_model(entry)
            except ValueError as exc:
                yield _error(12, f"DJANGO_MCP_RESOURCE_MODELS: {exc}.")
    if not isinstance(conf.get("DJANGO_MCP_RESOURCES_DISABLED"), bool):
        yield _error(13, "DJANGO_MCP_RESOURCES_DISABLED must be True or False.")
    prompts = conf.get("DJANGO_MCP_PROMPTS")
    if not isinstance(prompts, (list, tuple)):
        yield _error(
            14, "DJANGO_MCP_PROMPTS must be a list of {'name', 'description', 'arguments', 'body', 'permission'} dicts."
        )
    else:
        for _prompt, problem, repeated in parsed_entries(prompts, user_prompt, lambda p: p["name"]):
            if problem is not None:
                yield _error(14, f"DJANGO_MCP_PROMPTS: {problem}.")
            elif repeated is not None:
                yield _error(14, f"DJANGO_MCP_PROMPTS: two prompts are named {repeated!r}.")
    size = conf.get("DJANGO_MCP_FIELD_RESOURCE_MAX_BYTES")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        yield _error(15, "DJANGO_MCP_FIELD_RESOURCE_MAX_BYTES must be a positive integer.")


def _view_errors():
    urlconfs = conf.get("DJANGO_MCP_URLCONFS")
    if urlconfs is not None:  # the original's "not set"
        if not isinstance(urlconfs, (list, tuple)) or not all(isinstance(u, str) for u in urlconfs):
            yield _error(16, "DJANGO_MCP_URLCONFS must be a list of URLconf module paths.")
        else:
            for name in urlconfs:
                try:
                    importlib.import_module(name)
                except ImportError as exc:
                    yield _error(17, f"DJANGO_MCP_URLCONFS: cannot import {name!r} ({exc}).")
    for name in ("DJANGO_MCP_VIEW_EXCLUDE", "DJANGO_MCP_VIEW_INCLUDE"):
        patterns = conf.get(name)
        if patterns is None and name == "DJANGO_MCP_VIEW_INCLUDE":
            continue
        if not isinstance(patterns, (list, tuple)) or not all(isinstance(p, str) for p in patterns):
            yield _error(
                18,
                f"{name} must be a list of fnmatch patterns (matched against a view's URL name, "
                "route and module.qualname).",
            )
    if not isinstance(conf.get("DJANGO_MCP_REQUIRE_AUTH"), bool):
        yield _error(
            20,
            "DJANGO_MCP_REQUIRE_AUTH must be True (views with no recognised authorization gate are "
            "not served) or False.",
        )


def _search_errors():
    from django_mcp.facts.resources import parsed_entries
    from django_mcp.facts.search import model_search

    entries = conf.get("DJANGO_MCP_MODEL_SEARCH")
    if not isinstance(entries, (list, tuple)):
        yield _error(
            19,
            "DJANGO_MCP_MODEL_SEARCH must be a list of 'app_label.ModelName' strings or {'model', "
            "'search_fields', 'filter_fields', 'fields', 'permission'} dicts.",
        )
        return
    ask = _engine_without_catalogue()

    def parse(entry):
        return model_search(entry, ask)

    for _search, problem, repeated in parsed_entries(entries, parse, lambda s: s.model._meta.label):
        if problem is not None:
            yield _error(19, f"DJANGO_MCP_MODEL_SEARCH: {problem}.")
        elif repeated is not None:
            yield _error(19, f"DJANGO_MCP_MODEL_SEARCH: {repeated} is listed twice.")


def _engine_without_catalogue():
    """Steps an engine instance of one run of the checks, which the search entries' paths ask
    which secrets they cross (the engine's rule): loaded at the first question (the compiled
    artifact mapped from its cache), dropped with the run. None answers where the engine
    cannot load (E029 reports it) or read the settings (E006)."""
    from django_mcp.engine import CompiledEngine, EngineInstance, default_cache_dir

    instance = None

    def ask(text):
        nonlocal instance
        if instance is None:
            cache_dir = conf.get("DJANGO_MCP_ENGINE_CACHE_DIR") or default_cache_dir()
            try:
                instance = EngineInstance(CompiledEngine(conf.get("DJANGO_MCP_ENGINE_WASM"), cache_dir))
            except (ImportError, OSError):
                return None
        answer = json.loads(instance.step_text(text).partition("\n")[0])
        return answer if isinstance(answer, list) else None  # unreadable settings: E006

    return ask


def _telemetry_errors():
    from django.core.exceptions import ImproperlyConfigured

    from django_mcp import telemetry

    switches = conf.get(telemetry.SETTING)
    token = conf.get("DJANGO_MCP_METRICS_TOKEN")
    if token is not None and not (isinstance(token, str) and token):
        yield _error(
            27, "DJANGO_MCP_METRICS_TOKEN must be a non-empty string (or None: the metrics view asks for no token)."
        )
    if (
        not isinstance(switches, dict)
        or not set(switches) <= set(telemetry.PARTS)
        or not all(value is None or isinstance(value, bool) for value in switches.values())
    ):
        yield _error(
            27,
            f"{telemetry.SETTING} must be a dict like {{'opentelemetry': True, 'prometheus': False}} "
            "(None, or a part left out: on when its package is installed).",
        )
        return
    for part in telemetry.PARTS:
        try:
            telemetry.wanted(part)
        except ImproperlyConfigured as exc:
            yield _error(27, str(exc))


def _engine_errors():
    """The engine's runtime and component, found without loading either (the first MCP request
    does): a broken install is reported here, not by that request."""
    from django_mcp.engine import default_wasm_path

    if importlib.util.find_spec("wasmtime") is None:
        yield _error(
            29, "wasmtime is not installed: the MCP endpoint cannot run its engine.", hint="pip install wasmtime"
        )
    path = conf.get("DJANGO_MCP_ENGINE_WASM") or default_wasm_path()
    if not Path(path).is_file():
        yield _error(29, f"DJANGO_MCP_ENGINE_WASM: no engine component at {str(path)!r}.")
