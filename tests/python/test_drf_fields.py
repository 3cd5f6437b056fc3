"""DRF serializer fields as schemas, field type by field type (drf_views.Everything), the
paginators the demo's API does not use, and views that cannot be described.

The schemas come from the engine (the host sends field facts); they are checked with a
Draft 2020-12 validator: DRF's real rendering of a sample validates against the output
schema, a body the input schema accepts is accepted by the serializer, and values the
serializer would refuse are refused by the schema before anything runs.
"""

import json
import logging

import pytest
from jsonschema import Draft202012Validator

from conftest import db_dump, rpc_error
from library.models import Author, Tag

FORMATS = Draft202012Validator.FORMAT_CHECKER


@pytest.fixture
def fields_api(settings, library):
    settings.DJANGO_MCP_URLCONFS = ["fixtures.drf_views"]
    settings.DJANGO_MCP_VIEW_INCLUDE = ["fields:*", "fields/*"]


def tools(mcp):
    return {t["name"]: t for t in mcp.all_tools()}


def valid_body():
    return {
        "flag": False,
        "name": "Ok",
        "email": "b@example.com",
        "token": "12345678-1234-5678-1234-567812345678",
        "slug": "ok",
        "code": "XYZ-99",
        "count": 10,
        "ratio": 1,
        "price": "999.99",
        "when": "2026-01-02T03:04:05Z",
        "day": "2026-01-02",
        "colour": "g",
        "numbers": [1],
        "author": Author.objects.first().pk,
        "tags": [Tag.objects.first().pk],
        "tag_slug": Tag.objects.first().slug,
        "sizes": ["m", "l"],
        "labels": {"k": "v"},
        "extra": [1, {"x": None}],
        "weight": 1.5,
        "took": "1 02:00:00",
        "at": "10:30",
        "address": "::1",
        "site": "https://example.org/a",
        "maybe": None,
        "secret": "s3cret",
    }


def test_every_field_type_has_a_schema_drf_agrees_with(fields_api, mcp):
    listed = tools(mcp)
    create = listed["create_fields_everything"]["inputSchema"]["properties"]["body"]
    Draft202012Validator.check_schema(create)
    props = create["properties"]
    assert set(create["required"]) == {
        "flag",
        "name",
        "email",
        "token",
        "slug",
        "code",
        "count",
        "ratio",
        "price",
        "when",
        "day",
        "colour",
        "numbers",
        "author",
    }
    # Read-only, method and file fields are not inputs; the hidden field is nowhere.
    assert not {"described", "brief", "briefs", "words", "anything", "echo", "attachment", "owner"} & set(props)
    assert props["name"] == {"type": "string", "minLength": 2, "maxLength": 20, "description": "What it is called."}
    assert props["count"] == {"type": "integer", "minimum": 1, "maximum": 10}
    assert props["code"]["pattern"] == r"^[A-Z]{3}-\d{2}$"
    assert props["colour"]["enum"] == ["r", "g"]
    assert props["sizes"]["items"]["enum"] == ["s", "m", "l"]
    assert props["numbers"] == {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3}
    assert props["tags"]["type"] == "array" and props["tags"]["items"]["type"] == "integer"
    assert props["maybe"]["type"] == ["boolean", "null"]
    validator = Draft202012Validator(create, format_checker=FORMATS)
    assert not list(validator.iter_errors(valid_body()))

    # The same body, sent: the serializer takes every value the schema allowed.
    result = mcp.call("create_fields_everything", {"body": valid_body()})
    assert result["isError"] is False, result
    answer = result["structuredContent"]["object"]
    assert "secret" in answer["accepted"] and "tags" in answer["accepted"]
    assert answer["owner"] == "alice"  # HiddenField from the request

    # Values DRF would refuse are refused by the schema, before the view runs.
    for field, bad in [
        ("count", 11),
        ("name", "x"),
        ("code", "abc"),
        ("colour", "blue"),
        ("numbers", []),
        ("token", "not-a-uuid"),
        ("ratio", 2),
        ("price", "1.234"),
        ("flag", "yes"),
    ]:
        text = mcp.call("create_fields_everything", {"body": dict(valid_body(), **{field: bad})})["content"][0]["text"]
        assert f"body.{field}" in text, (field, text)


def test_what_drf_renders_validates_against_the_output_schema(fields_api, mcp):
    listed = tools(mcp)
    output = listed["list_fields_everything"]["outputSchema"]
    Draft202012Validator.check_schema(output)
    row = output["properties"]["results"]["items"]["properties"]
    assert "secret" not in row  # write-only
    assert row["words"] == {"type": ["array", "null"], "items": {"type": "string"}}  # -> list[str]
    assert row["anything"] == {} or row["anything"].get("type") in (None, ["null"])  # no annotation: any value
    assert row["brief"]["properties"]["name"]["type"] == "string"
    assert row["briefs"]["items"]["properties"]["id"]["type"] == "integer"
    assert row["when"]["format"] == "date-time" and row["day"]["format"] == "date"
    assert row["price"]["type"] == "string" and row["weight"]["type"] == "number"
    result = mcp.call("list_fields_everything", {})
    assert result["isError"] is False
    rendered = result["structuredContent"]
    Draft202012Validator(output, format_checker=FORMATS).validate(rendered)
    first = rendered["results"][0]
    assert (first["price"], first["weight"], first["words"], first["sizes"]) == ("12.50", 1.25, ["Two", "words"], ["s"])
    assert first["brief"]["id"] == Author.objects.order_by("pk").first().pk


def test_limit_offset_pages_and_an_unpaged_list_is_paged_by_the_tool(fields_api, mcp):
    listed = tools(mcp)
    authors = listed["list_fields_author"]["inputSchema"]["properties"]
    assert authors["page_size"] == {"type": "integer", "minimum": 1, "maximum": 5, "default": 2}
    page = mcp.call("list_fields_author", {"page": 2})["structuredContent"]
    expected = list(Author.objects.order_by("pk").values_list("id", flat=True))
    assert (page["count"], page["page"], page["page_size"]) == (len(expected), 2, 2)
    assert [a["id"] for a in page["results"]] == expected[2:4]
    assert mcp.call("list_fields_author", {"page_size": 6})["isError"] is True  # over max_limit

    tags = list(Tag.objects.order_by("pk").values_list("id", flat=True))
    page = mcp.call("list_fields_tag", {"page": 2, "page_size": 2})["structuredContent"]
    assert (page["count"], [t["id"] for t in page["results"]]) == (len(tags), tags[2:4])
    # get_serializer_class() decides the fields, as the view itself does.
    assert set(page["results"][0]) == {"id", "slug"}


def test_views_that_cannot_be_described_are_skipped_or_served_plainly(fields_api, mcp, caplog):
    with caplog.at_level(logging.WARNING, logger="django_mcp.facts"):
        listed = tools(mcp)
    assert not [name for name in listed if "broken" in name]
    assert any("fixtures.drf_views.UndescribableViewSet" in r.getMessage() for r in caplog.records)
    # The serializer that cannot list its fields: any object as the body, the view still runs.
    body = listed["create_fields_odd"]["inputSchema"]["properties"]["body"]
    assert body["type"] == "object" and "properties" not in body
    assert any("Exploding" in r.getMessage() for r in caplog.records)
    result = mcp.call("create_fields_odd", {"body": {"free": ["form"]}})
    assert result["structuredContent"]["object"] == {"got": {"free": ["form"]}}
    assert "list_fields_everything" in listed and "list_fields_author" in listed


def test_permission_classes_judge_each_handler_for_each_user(fields_api, mcp_as, alice_key, bob_key, make_key, library):
    guarded = ("staff-tags", "staff_tags", "read-or-sign-in", "read_or_sign_in", "picky", "by-action", "by_action")

    def shown(credential):
        return {name for name in tools(mcp_as(credential)) if any(g in name for g in guarded)}

    everything = shown(alice_key)  # a superuser whose name starts with "a"
    assert len(everything) == 8, everything
    by_kind = {
        kind: {n for n in everything if kind in n.replace("-", "_")}
        for kind in ("staff_tags", "read_or_sign_in", "picky", "by_action")
    }
    count = {n for n in by_kind["staff_tags"] if n.endswith("count")}
    creates = {n for n in everything if n.startswith("create_")}
    # bob is staff (IsAdminUser passes) but the project's own rule wants names starting with "a".
    assert shown(bob_key) == everything - by_kind["picky"]
    # carol (seeded) is only signed in: no staff views but the action open to anyone signed in, and
    # get_permissions keeps create to staff.
    carol = make_key("carol")
    assert shown(carol) == (everything - by_kind["picky"] - by_kind["staff_tags"] | count) - (
        creates & by_kind["by_action"]
    )
    before = db_dump()
    for name in sorted(by_kind["picky"] | (by_kind["staff_tags"] - count)):
        rpc_error(
            mcp_as(carol).post(
                {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": {}}}
            ),
            status=200,
            code=-32002,
        )
    assert db_dump() == before


def test_an_answer_past_the_result_limit_is_a_tool_error_and_the_server_keeps_serving(fields_api, mcp, settings):
    """An unpaged list is handed to the engine whole, to be paged there: an answer of tens of
    megabytes would exhaust the engine's memory. Past DJANGO_MCP_MAX_RESULT_BYTES the host
    refuses it with a sentence that says what to do."""
    Tag.objects.bulk_create(Tag(name="t" * 40, slug=f"bulk-{n}") for n in range(200))
    settings.DJANGO_MCP_MAX_RESULT_BYTES = 4096
    result = mcp.call("list_fields_tag", {"page_size": 2})
    assert result["isError"] is True, result
    text = result["content"][0]["text"]
    assert "4096 bytes" in text and "filters" in text, text
    settings.DJANGO_MCP_MAX_RESULT_BYTES = 10 * 1024 * 1024
    assert mcp.call("list_fields_tag", {"page_size": 2})["isError"] is False


def _serializer_facts_by_endpoint(settings):
    from django_mcp import facts

    settings.DJANGO_MCP_URLCONFS = ["fixtures.drf_context_views"]
    views = json.loads(facts.gather()[0])["drf"]
    return {v["label"]: {e["handler"]: e["serializer"] for e in v["endpoints"]} for v in views}


def _read_only(serializer, name):
    return next(f["read_only"] for f in serializer if f["name"] == name)


def test_serializer_fields_built_from_the_request_are_described_per_endpoint(settings, library):
    """A viewset's endpoints share the facts of a serializer class only when its fields cannot
    depend on the request or view: one whose fields do is described for each endpoint."""
    by_view = _serializer_facts_by_endpoint(settings)
    plain = by_view["context_plain"]
    assert plain["create"] == plain["update"] == plain["list"]
    assert not _read_only(plain["update"], "slug")
    for label in ("context_by-action", "context_by-method"):
        assert not _read_only(by_view[label]["create"], "slug"), label
        assert _read_only(by_view[label]["update"], "slug"), label
        assert _read_only(by_view[label]["partial_update"], "slug"), label
    nested = by_view["context_nested"]
    assert not _read_only(nested["create"][0]["fields"], "slug")
    assert _read_only(nested["update"][0]["fields"], "slug")


def test_which_serializers_describe_alike_in_any_context():
    from django_mcp.facts.drf_fields import context_free
    from fixtures import drf_context_views as views

    assert context_free(views.TagPlain())
    assert not context_free(views.SlugSetOnCreate(context={"view": views.ByActionTags(action="update")}))
    assert not context_free(views.SlugFieldOnCreate())
    assert not context_free(views.Nesting())
