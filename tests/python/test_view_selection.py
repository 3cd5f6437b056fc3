"""Which views are served (DJANGO_MCP_VIEW_INCLUDE, DJANGO_MCP_VIEW_EXCLUDE,
DJANGO_MCP_REQUIRE_AUTH), as the endpoint lists and calls them and as `manage.py
mcp_catalogue` reports what was left out, on the views of `fixtures/selection_views.py`."""

import json
import logging
from io import StringIO

import pytest
from django.core.management import call_command

OLD_REPORT_EXCLUDED = (
    "not serving the view fixtures.selection_views.old_report at 'reports/old/': "
    "DJANGO_MCP_VIEW_EXCLUDE pattern 'reports/old/' matches it"
)
BROKEN = "skipping the URLs included at broken/: they cannot be loaded"
NOTICE_UNGATED = (
    "not serving the view fixtures.selection_views.notice at 'notice/': no authorization gate was "
    "recognised on it (DJANGO_MCP_REQUIRE_AUTH = False serves such views too)"
)
COUNT_EXCLUDED = (
    "not serving the DRF route of fixtures.selection_views.Count at 'count/': "
    "DJANGO_MCP_VIEW_EXCLUDE pattern 'count/' matches it"
)


@pytest.fixture(autouse=True)
def selection_views(settings):
    settings.DJANGO_MCP_URLCONFS = ["fixtures.selection_views"]


def left_out():
    out = StringIO()
    call_command("mcp_catalogue", "--json", stdout=out)
    return [warning["message"] for warning in json.loads(out.getvalue())["left_out"]]


def tool_names(mcp):
    return {tool["name"] for tool in mcp.all_tools()}


def test_an_excluded_view_takes_no_name_from_the_view_served_after_it(mcp, settings):
    # Both views are named "report", as are both routes of Count's: the first of each is excluded.
    settings.DJANGO_MCP_VIEW_EXCLUDE = ["reports/old/", "count/"]
    names = tool_names(mcp)
    assert {"invoke_report", "invoke_count_again"} <= names
    assert not {"invoke_report_2", "invoke_count"} & names
    assert mcp.call("invoke_report")["structuredContent"]["body"] == {"report": "current"}
    assert mcp.call("invoke_count_again")["structuredContent"]["body"] == {"count": 1, "route": "/count-again/"}
    assert [OLD_REPORT_EXCLUDED, COUNT_EXCLUDED] == [m for m in left_out() if "not serving" in m and "selection" in m]


def test_include_and_exclude_together(mcp, settings):
    settings.DJANGO_MCP_VIEW_INCLUDE = ["report", "*.Count"]
    settings.DJANGO_MCP_VIEW_EXCLUDE = ["*/old/*", "count-again"]
    names = tool_names(mcp)
    assert {"invoke_report", "invoke_count"} <= names
    assert not {"invoke_report_2", "invoke_count_again", "invoke_notice", "list_library_book_list"} & names
    assert mcp.call("invoke_report")["structuredContent"]["body"] == {"report": "current"}
    messages = left_out()
    assert OLD_REPORT_EXCLUDED.replace("'reports/old/' matches", "'*/old/*' matches") in messages
    assert (
        "not serving the DRF route of fixtures.selection_views.Count at 'count-again/': "
        "DJANGO_MCP_VIEW_EXCLUDE pattern 'count-again' matches it"
    ) in messages
    not_included = "no DJANGO_MCP_VIEW_INCLUDE pattern matches it"
    assert f"not serving the view fixtures.selection_views.notice at 'notice/': {not_included}" in messages
    assert [m for m in messages if m.startswith("not serving the view library.views.") and m.endswith(not_included)]


def test_a_view_without_a_gate_is_served_only_with_require_auth_off(mcp, settings):
    settings.DJANGO_MCP_REQUIRE_AUTH = False
    assert "invoke_notice" in tool_names(mcp)
    assert mcp.call("invoke_notice")["structuredContent"]["body"] == {"notice": "open"}
    assert not [m for m in left_out() if "notice" in m]
    settings.DJANGO_MCP_REQUIRE_AUTH = True
    assert "invoke_notice" not in tool_names(mcp)
    assert NOTICE_UNGATED in left_out()


def test_what_is_left_out_is_reported_in_the_order_of_the_url_walk(library, settings):
    # The views' walk, then DRF's: each reports an include it cannot load in its place.
    settings.DJANGO_MCP_REQUIRE_AUTH = True
    settings.DJANGO_MCP_VIEW_EXCLUDE = ["reports/old/", "count/"]
    ours = [m for m in left_out() if "selection_views" in m or m == BROKEN]
    assert ours == [OLD_REPORT_EXCLUDED, BROKEN, NOTICE_UNGATED, BROKEN, COUNT_EXCLUDED]


def test_patterns_that_are_not_strings_stop_the_catalogue_with_a_message(mcp, settings, caplog):
    settings.DJANGO_MCP_VIEW_INCLUDE = [3]  # what system check E018 reports
    with caplog.at_level(logging.ERROR, logger="django_mcp.server"):
        reply = mcp.rpc("tools/list")
    assert reply["error"]["code"] == -32603
    assert [
        r for r in caplog.records if "DJANGO_MCP_VIEW_INCLUDE and DJANGO_MCP_VIEW_EXCLUDE must be" in r.getMessage()
    ]
