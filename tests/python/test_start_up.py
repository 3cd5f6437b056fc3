"""The first request of a process (issue 23). Gathering the facts pauses Python's cyclic
collector, whose full collections walk a heap that grows with the project, and leaves it as the
project set it: on stays on, off stays off. A client is told the same either way. It imports
only what the project uses."""

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


def test_the_first_answer_does_not_create_the_custom_items_classes_of_a_project_declaring_none(tmp_path):
    """A project that declares no custom items (the demo) gathers its facts without importing
    `django_mcp.custom`, whose item classes only the modules declaring items need."""
    from servers import demo_probe

    report = demo_probe(
        tmp_path,
        "import json, sys\n"
        "import django\n"
        "django.setup()\n"
        "from django.test import Client, override_settings\n"
        "with override_settings(ALLOWED_HOSTS=['*']):\n"
        "    r = Client().post('/mcp/', {'jsonrpc': '2.0', 'id': 1, 'method': 'ping'}, content_type='application/json')\n"  # noqa: E501
        "    assert r.status_code == 200 and r.json()['result'] == {}, r.content\n"
        "print(json.dumps([m in sys.modules for m in ('django_mcp.facts', 'django_mcp.custom')]))\n",
    )
    assert report == [True, False]


def test_model_facts_keep_no_validators_they_made():
    """Django makes a model field's validators when they are first read and keeps them on the
    field; a model's facts read them for every field of every model gathering describes and
    keep none they made (a process validates few of those models), while those made before
    stay."""
    from django.contrib import admin

    from django_mcp.facts.models import model_facts

    models = list(admin.site._registry)
    fields = [field for model in models for field in model._meta.concrete_fields]
    for field in fields:
        field.__dict__.pop("validators", None)
    made_before = fields[0]
    assert made_before.validators is made_before.validators
    for model in models:
        model_facts(model)
    assert [field for field in fields if "validators" in field.__dict__] == [made_before]
