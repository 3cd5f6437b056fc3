"""Gathering the facts (issue 23: the first request of a process) pauses Python's cyclic
collector, whose full collections walk a heap that grows with the project, and leaves it as the
project set it: on stays on, off stays off. A client is told the same either way."""

import gc
import json

import pytest
from conftest import InProcessMCP

from django_mcp import server


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_left_as_the_project_set_it(client, alice_key, enabled):
    mcp = InProcessMCP(client, alice_key)
    server.reset()
    told_collecting = json.dumps(list(mcp.pages()))
    was = gc.isenabled()
    try:
        if not enabled:
            gc.disable()
        server.reset()
        told = json.dumps(list(mcp.pages()))
        assert gc.isenabled() is enabled
    finally:
        if was:
            gc.enable()
    assert told == told_collecting
