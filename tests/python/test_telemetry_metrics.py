"""Prometheus: real requests through the HTTP endpoint, then a scrape of the metrics view the
project mounts (telemetry_urls.py), read with prometheus_client's own parser."""

import pytest
from django.core.cache import caches
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.urls("fixtures.telemetry_urls")

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@pytest.fixture(autouse=True)
def _prometheus_on(settings):
    settings.DJANGO_MCP_TELEMETRY = {"prometheus": True}
    caches["default"].clear()  # rate-limit counters


def _samples(text):
    """The value of every django_mcp sample of a scrape: {(name, ((label, value), ...)): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name.startswith("django_mcp_")
    }


def _key(name, **labels):
    return (name, tuple(sorted(labels.items())))


@pytest.fixture
def scrape(client):
    """The view's samples (`_samples`), read through the test client."""

    def read(**headers):
        response = client.get("/metrics/", **headers)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain; version=")
        return _samples(response.content.decode())

    return read


def _moved(before, after, name, **labels):
    key = _key(name, **labels)
    return after.get(key, 0) - before.get(key, 0)


def _requests_moved(before, after, method, outcome):
    """How far the HTTP endpoint's request counter of `method` and `outcome` moved."""
    return _moved(
        before, after, "django_mcp_requests_total", transport="streamable-http", method=method, outcome=outcome
    )


def test_requests_steps_effects_and_loads_are_counted(mcp, scrape):
    before = scrape()
    for _ in range(3):
        assert mcp.call("list_library_author", {"page_size": 2})["isError"] is False
    assert mcp.call("get_library_book", {"pk": 99999})["isError"] is True
    after = scrape()
    calls = {"method": "tools/call", "outcome": "allow"}
    assert _requests_moved(before, after, **calls) == 3
    assert _requests_moved(before, after, "tools/call", "handler_error") == 1
    assert _moved(before, after, "django_mcp_request_duration_seconds_count", **calls) == 3
    assert _moved(before, after, "django_mcp_request_duration_seconds_bucket", le="+Inf", **calls) == 3
    assert _moved(before, after, "django_mcp_request_duration_seconds_sum", **calls) > 0
    # Two steps a call (ask, resume), and the effects between them.
    assert _moved(before, after, "django_mcp_engine_step_duration_seconds_count") == 8
    assert _moved(before, after, "django_mcp_effect_duration_seconds_count", kind="admin.list") == 3
    assert _moved(before, after, "django_mcp_effect_duration_seconds_count", kind="admin.retrieve") == 1
    # The catalogue is derived afresh for each test (conftest): one instance loaded it.
    assert _moved(before, after, "django_mcp_engine_instance_loads_total") == 1
    assert _moved(before, after, "django_mcp_engine_traps_total") == 0


def test_refusals_before_the_engine_are_counted_by_the_audit_lines_words(mcp_as, library, scrape):
    before = scrape()
    assert mcp_as("nope.nope").post(PING).status_code == 401
    after = scrape()
    assert _requests_moved(before, after, "<pre-dispatch>", "unauthenticated") == 1


def test_rate_limited_calls_are_counted(mcp, settings, scrape):
    settings.DJANGO_MCP_RATE_LIMITS = {"key": "100/h", "tool": {"list_library_tag": "1/h"}}
    before = scrape()
    assert mcp.call("list_library_tag")["isError"] is False
    assert (
        mcp.post(
            {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_library_tag", "arguments": {}}}
        ).status_code
        == 429
    )
    settings.DJANGO_MCP_RATE_LIMITS = {"key": "1/h"}
    caches["default"].clear()
    assert mcp.post(PING).status_code == 200
    assert mcp.post(PING).status_code == 429
    after = scrape()
    assert _moved(before, after, "django_mcp_rate_limited_total", method="tools/call") == 1
    assert _moved(before, after, "django_mcp_rate_limited_total", method="ping") == 1
    assert _requests_moved(before, after, "ping", "rate_limited") == 1


def test_a_trap_is_counted_and_the_next_request_loads_a_new_instance(mcp, settings, scrape):
    settings.DJANGO_MCP_TEST_HOOKS = True
    assert mcp.rpc("ping")["result"] == {}
    before = scrape()
    assert mcp.rpc("debug/panic")["error"]["code"] == -32603
    assert mcp.rpc("ping")["result"] == {}
    after = scrape()
    assert _moved(before, after, "django_mcp_engine_traps_total") == 1
    assert _moved(before, after, "django_mcp_engine_instance_loads_total") == 1
    # A method the client made up is one label, whatever it was called.
    assert _requests_moved(before, after, "_OTHER", "handler_error") == 1


def test_switched_off_nothing_moves(mcp, settings, scrape):
    settings.DJANGO_MCP_TELEMETRY = {"prometheus": False}
    before = scrape()
    mcp.call("list_library_tag")
    assert scrape() == before


def test_with_a_token_the_view_answers_only_its_bearer(client, settings, scrape):
    settings.DJANGO_MCP_METRICS_TOKEN = "s3cret-scraper"
    response = client.get("/metrics/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics/", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert ("django_mcp_engine_traps_total", ()) in scrape(HTTP_AUTHORIZATION="Bearer s3cret-scraper")
    assert client.post("/metrics/", HTTP_AUTHORIZATION="Bearer s3cret-scraper").status_code == 405


def test_two_server_processes_sharing_a_multiprocess_directory_serve_one_total(tmp_path):
    """prometheus_client's multiprocess mode, as docs/telemetry.md sets it up for several
    workers: two uvicorn processes count into one directory, and whichever answers the scrape
    serves the requests both answered."""
    import json
    import urllib.request

    from servers import DEMO, demo_env, serve_uvicorn

    (tmp_path / "metrics").mkdir()
    env = demo_env(
        tmp_path,
        DJANGO_SETTINGS_MODULE="fixtures.telemetry_settings",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )

    def ping(url):
        body = json.dumps(PING).encode()
        request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response)["result"] == {}

    def pings_counted(url):
        with urllib.request.urlopen(url.replace("/mcp/", "/metrics/"), timeout=30) as response:
            samples = _samples(response.read().decode())
        return samples.get(
            _key("django_mcp_requests_total", method="ping", outcome="allow", transport="streamable-http")
        )

    app = "demo_project.asgi:application"
    with serve_uvicorn(app, DEMO, env, tmp_path / "a.log") as a, serve_uvicorn(app, DEMO, env, tmp_path / "b.log") as b:
        for url in (a, a, a, b, b):
            ping(url)
        assert (pings_counted(a), pings_counted(b)) == (5, 5)
