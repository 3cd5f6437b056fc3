"""The settings of model resources and user prompts as facts for the engine
(`facts/resources.py`) and as system checks: DJANGO_MCP_RESOURCE_MODELS,
DJANGO_MCP_RESOURCES_DISABLED, DJANGO_MCP_PROMPTS, DJANGO_MCP_FIELD_RESOURCE_MAX_BYTES.
A bad entry is a check error at startup and, at runtime, left out with a warning.
"""

import json
import logging
from io import StringIO

import pytest
from django.contrib import admin
from django.core import checks
from django.core.management import call_command
from django.utils.translation import gettext_lazy

from django_mcp.facts import gather

PROMPT = {
    "name": "summarise_book",
    "description": "Summarise a book for a reader",
    "arguments": [
        {"name": "title", "description": "The book's title"},
        {"name": "audience", "description": "Who reads it", "required": False},
    ],
    "body": "Summarise {title} for {audience}.",
    "permission": "library.view_book",
}


def facts():
    return json.loads(gather()[0])


def models(facts):
    return {model["label"] for model in facts["models"]}


@pytest.fixture
def no_admin(settings):
    """A configured admin site that registers nothing: every model may be a resource model."""
    settings.DJANGO_MCP_ADMIN_SITES = [admin.AdminSite(name="empty")]


@pytest.fixture
def warnings(caplog):
    caplog.set_level(logging.WARNING, logger="django_mcp.facts")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "django_mcp.facts"]


# Facts


def test_the_defaults(db):
    got = facts()
    assert got["settings"]["resources_disabled"] is False
    assert got["settings"]["field_resource_max_bytes"] == 10 * 1024 * 1024
    assert got["resource_models"] == [] and got["user_prompts"] == []


def test_the_kill_switch_and_the_size_limit(db, settings):
    settings.DJANGO_MCP_RESOURCES_DISABLED = True
    settings.DJANGO_MCP_FIELD_RESOURCE_MAX_BYTES = 1024
    got = facts()["settings"]
    assert (got["resources_disabled"], got["field_resource_max_bytes"]) == (True, 1024)


def test_resource_models_with_their_permissions_and_model_facts(db, settings, no_admin):
    settings.DJANGO_MCP_RESOURCE_MODELS = [
        "library.book",
        {"model": "sessions.Session", "permission": "sessions.change_session"},
        {"model": "library.Tag"},
        "library.Book",  # listed twice: once is enough
    ]
    got = facts()
    assert got["resource_models"] == [
        {"model": "library.Book", "permission": "library.view_book"},
        {"model": "sessions.Session", "permission": "sessions.change_session"},
        {"model": "library.Tag", "permission": "library.view_tag"},
    ]
    # Book's relations need their targets' facts (Author by its foreign key, Tag by M2M).
    assert {"library.Book", "sessions.Session", "library.Tag", "library.Author"} <= models(got)
    registry = gather()[1]
    assert registry.model("library.Book").__name__ == "Book"
    assert registry.model_permission("sessions.Session") == "sessions.change_session"
    with pytest.raises(KeyError):
        registry.model("library.Author")  # in the facts for its pk only: not a resource


def test_an_admin_registered_model_is_served_by_its_admin(db, settings):
    settings.DJANGO_MCP_RESOURCE_MODELS = ["library.Book", "sessions.Session"]
    out = StringIO()
    call_command("mcp_catalogue", "--json", stdout=out)
    assert {
        "source": "engine",
        "message": "DJANGO_MCP_RESOURCE_MODELS: library.Book is registered with the admin, "
        "whose ModelAdmin serves its resources; left out",
    } in json.loads(out.getvalue())["left_out"]
    with pytest.raises(KeyError):
        gather()[1].model("library.Book")


@pytest.mark.parametrize(
    "entry, logged",
    [
        ("library.Nope", "'library.Nope' is not an installed model"),
        ("nope", "'nope' is not an installed model"),
        (42, "is neither"),
        ({"model": "library.Tag", "perm": "x.y"}, "unknown keys ['perm']"),
        ({"model": "library.Tag", "permission": "view_tag"}, "is not an 'app_label.codename' string"),
        ("django_mcp.MCPAPIKey", "never through MCP"),
    ],
)
def test_a_bad_resource_model_is_left_out_with_a_warning(db, settings, no_admin, warnings, entry, logged):
    settings.DJANGO_MCP_RESOURCE_MODELS = [entry, "library.Author"]
    assert facts()["resource_models"] == [{"model": "library.Author", "permission": "library.view_author"}]
    assert any(logged in message for message in warnings()), warnings()


def test_user_prompts(db, settings):
    settings.DJANGO_MCP_PROMPTS = [PROMPT, {"name": "hello", "body": "Hello {name}"}]
    assert facts()["user_prompts"] == [
        {
            **PROMPT,
            "arguments": [
                {"name": "title", "description": "The book's title", "required": True},
                {"name": "audience", "description": "Who reads it", "required": False},
            ],
        },
        {"name": "hello", "description": "", "arguments": [], "body": "Hello {name}", "permission": None},
    ]


def test_lazy_translations_become_plain_strings(db, settings):
    settings.DJANGO_MCP_PROMPTS = [
        {
            "name": "lazy",
            "description": gettext_lazy("Lazy"),
            "body": gettext_lazy("Body {x}"),
            "arguments": [{"name": gettext_lazy("x"), "description": gettext_lazy("An argument")}],
        }
    ]
    (prompt,) = facts()["user_prompts"]  # json.dumps would have failed on a lazy string
    assert prompt == {
        "name": "lazy",
        "description": "Lazy",
        "body": "Body {x}",
        "permission": None,
        "arguments": [{"name": "x", "description": "An argument", "required": True}],
    }


BAD_PROMPTS = [
    ("not a dict", "is not a dict"),
    ({**PROMPT, "name": "with-dash"}, "is not made of letters, digits and underscores"),
    ({**PROMPT, "name": ""}, "is not made of letters"),
    ({**PROMPT, "title": "Extra"}, "unknown keys ['title']"),
    ({**PROMPT, "arguments": [{"name": "a", "choices": []}]}, "unknown keys ['choices']"),
    ({**PROMPT, "arguments": [{"name": "a"}, {"name": "a"}]}, "two arguments have the same name"),
    ({**PROMPT, "arguments": [{"name": ""}]}, "an argument's name is empty"),
    ({**PROMPT, "arguments": [{"name": "a", "required": "yes"}]}, "required must be True or False"),
    ({**PROMPT, "arguments": "title"}, "arguments must be a list"),
    ({**PROMPT, "arguments": ["title"]}, "is not a {'name', 'description', 'required'} dict"),
    ({**PROMPT, "description": 3}, "description must be a string"),
    ({**PROMPT, "body": ["Hi"]}, "body must be a string"),
    ({key: value for key, value in PROMPT.items() if key != "body"}, "a body template is required"),
    ({**PROMPT, "permission": "view_book"}, "is not an 'app_label.codename' string"),
]


@pytest.mark.parametrize("entry, logged", BAD_PROMPTS)
def test_a_bad_prompt_is_left_out_with_a_warning(db, settings, warnings, entry, logged):
    settings.DJANGO_MCP_PROMPTS = [entry, {"name": "fine", "body": "ok"}]
    assert [p["name"] for p in facts()["user_prompts"]] == ["fine"]
    assert any(logged in message for message in warnings()), warnings()


def test_a_second_prompt_of_the_same_name_is_left_out(db, settings, warnings):
    settings.DJANGO_MCP_PROMPTS = [PROMPT, {**PROMPT, "body": "another"}]
    assert [p["body"] for p in facts()["user_prompts"]] == [PROMPT["body"]]
    assert any("a second prompt named 'summarise_book'" in message for message in warnings())


def test_settings_that_are_not_lists_give_nothing(db, settings):
    settings.DJANGO_MCP_RESOURCE_MODELS = "library.Book"
    settings.DJANGO_MCP_PROMPTS = PROMPT
    got = facts()
    assert got["resource_models"] == [] and got["user_prompts"] == []


# System checks


def errors(*numbers):
    return [e.id for e in checks.run_checks() if e.id in {f"django_mcp.E{n:03d}" for n in numbers}]


RESOURCE_ERRORS = (12, 13, 14, 15)


def test_well_formed_resource_settings_pass_the_checks(settings):
    settings.DJANGO_MCP_RESOURCE_MODELS = [
        "sessions.Session",
        {"model": "library.Book", "permission": "library.add_book"},
    ]
    settings.DJANGO_MCP_RESOURCES_DISABLED = True
    settings.DJANGO_MCP_PROMPTS = [PROMPT, {"name": "hello", "body": gettext_lazy("Hello")}]
    settings.DJANGO_MCP_FIELD_RESOURCE_MAX_BYTES = 1
    assert errors(*RESOURCE_ERRORS) == []


@pytest.mark.parametrize(
    "value",
    [
        "library.Book",
        ["library.Nope"],
        [42],
        [{"model": "library.Book", "perms": "x.y"}],
        [{"permission": "library.view_book"}],
        [{"model": "library.Book", "permission": 3}],
        ["django_mcp.MCPAPIKey"],
    ],
)
def test_a_malformed_resource_model_setting_is_a_check_error(settings, value):
    settings.DJANGO_MCP_RESOURCE_MODELS = value
    assert errors(*RESOURCE_ERRORS) == ["django_mcp.E012"]


@pytest.mark.parametrize("value", ["false", 0, None])
def test_the_kill_switch_must_be_a_boolean(settings, value):
    settings.DJANGO_MCP_RESOURCES_DISABLED = value
    assert errors(*RESOURCE_ERRORS) == ["django_mcp.E013"]


@pytest.mark.parametrize("entry, _logged", BAD_PROMPTS)
def test_a_malformed_prompt_is_a_check_error(settings, entry, _logged):
    settings.DJANGO_MCP_PROMPTS = [entry]
    assert errors(*RESOURCE_ERRORS) == ["django_mcp.E014"]


def test_prompts_must_be_a_list_of_uniquely_named_dicts(settings):
    settings.DJANGO_MCP_PROMPTS = PROMPT
    assert errors(*RESOURCE_ERRORS) == ["django_mcp.E014"]
    settings.DJANGO_MCP_PROMPTS = [PROMPT, PROMPT]
    assert errors(*RESOURCE_ERRORS) == ["django_mcp.E014"]


@pytest.mark.parametrize("value", [0, -1, "10MB", 1.5, True])
def test_the_file_size_limit_must_be_a_positive_integer(settings, value):
    settings.DJANGO_MCP_FIELD_RESOURCE_MAX_BYTES = value
    assert errors(*RESOURCE_ERRORS) == ["django_mcp.E015"]
