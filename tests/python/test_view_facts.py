"""Routed views on the host side: their facts (`facts/views.py`, the gate recognisers of
`facts/view_gates.py`), the `view` gate of the permission effects, and the `view.call`
effect (`effects/views.py`, `effects/responses.py`), on the demo library's views and on the
awkward ones of `odd_views.py`.
"""

import json
import logging

import pytest
from conftest import db_dump
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required, user_passes_test
from django.contrib.auth.mixins import PermissionRequiredMixin, UserPassesTestMixin
from django.contrib.auth.models import AnonymousUser, Permission, User
from django.core import checks
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from library.models import Book, Tag
from fixtures.odd_views import SECRET

from django_mcp.effects import EffectRunner
from django_mcp.effects.responses import BODY_LIMIT, html_text
from django_mcp.facts import gather, view_gates
from django_mcp.requests import CallerContext

LOGIN = {"kind": "login"}
STAFF = {"kind": "staff"}
PUBLIC = {"kind": "public"}
LOGIN_MIDDLEWARE = "django.contrib.auth.middleware.LoginRequiredMiddleware"


def view_facts():
    facts_json, _registry = gather()
    return {view["id"]: view for view in json.loads(facts_json)["views"]}


@pytest.fixture
def odd(settings):
    """The awkward views of odd_views.py, walked beside ROOT_URLCONF."""
    settings.DJANGO_MCP_URLCONFS = ["fixtures.odd_views"]


def user(name):
    if name == "anonymous":
        return AnonymousUser()
    if name == "inactive":
        return User.objects.get_or_create(username="inactive", defaults={"is_active": False, "is_staff": True})[0]
    return User.objects.get(username=name)


def run(caller, *effects):
    _facts, registry = gather()
    caller = user(caller) if isinstance(caller, str) else caller
    return EffectRunner(CallerContext(caller, correlation_id="c0ffee"), registry)(list(effects))


def call(caller, view, method="GET", path=None, query=None, body=None):
    effect = {
        "kind": "view.call",
        "view": view,
        "method": method,
        "path": path or {},
        "query": query,
        "body": body,
        # What the engine says of a view call (plan.rs): a method that may write is atomic.
        "atomic": method not in ("GET", "HEAD", "OPTIONS", "TRACE"),
        "rollback_from": 500,
        "masked": ["password"],
    }
    return run(caller, effect)[0]


def ok(result):
    assert "ok" in result, result
    return result["ok"]


def error(result):
    assert "error" in result, result
    return result["error"]


def passes(caller, *view_ids):
    checks_ = [{"gate": "view", "view": view_id} for view_id in view_ids]
    return ok(run(caller, {"kind": "permissions", "checks": checks_})[0])


def book(n):
    return Book.objects.get(slug=f"book-{n:02d}")


# --- facts of the demo's views --------------------------------------------------------------

DEMO = {
    # id: (kind, class_kind, methods, is_async, gates, path params)
    "library:home": ("class", "redirect", ["get", "post", "put", "patch", "delete", "head"], False, [], []),
    "library:about": ("class", "template", ["get"], False, [], []),
    "library:book-list": ("class", "list", ["get"], False, [], []),
    "library:book-detail": ("class", "detail", ["get"], False, [], [("pk", "int", "[0-9]+")]),
    "library:book-json": ("function", None, ["get"], False, [], [("pk", "int", "[0-9]+")]),
    "library:book-edit": (
        "class",
        "form",
        ["get", "post", "put"],
        False,
        [{"kind": "permission", "permissions": ["library.change_book"]}],
        [("pk", "int", "[0-9]+")],
    ),
    "library:book-publish": (
        "class",
        "other",
        ["post"],
        False,
        [{"kind": "test", "test": "PublishBookView.test_func"}],
        [("pk", "int", "[0-9]+")],
    ),
    "library:books-by-year": ("function", None, ["get"], False, [], [("year", "regex", "[0-9]{4}")]),
    "library:tag-create": ("function", None, ["post"], False, [LOGIN], []),
    "library:catalogue": (
        "function",
        None,
        ["get"],
        False,
        [{"kind": "permission", "permissions": ["library.view_book", "library.view_author"]}],
        [],
    ),
    "library:drafts": ("function", None, [], False, [{"kind": "test", "test": "is_editor"}], []),
    "library:stock": ("function", None, [], False, [STAFF], []),
    "library:stats": ("function", None, [], True, [], []),
    "library:author-list": ("class", "list", ["get"], False, [LOGIN], []),
    "library:account": ("class", "other", ["get"], False, [LOGIN], []),
}


def test_every_demo_view_is_described(library):
    views = view_facts()
    assert set(views) == set(DEMO)
    for view_id, (kind, class_kind, methods, is_async, gates, params) in DEMO.items():
        view = views[view_id]
        assert view["name"] == view_id
        assert (view["kind"], view["class_kind"], view["methods"], view["is_async"], view["gates"]) == (
            kind,
            class_kind,
            methods,
            is_async,
            gates,
        ), view_id
        assert [(p["name"], p["converter"], p["pattern"]) for p in view["path_params"]] == params, view_id


def test_a_view_is_described_by_its_route_module_and_docstring(library):
    views = view_facts()
    detail = views["library:book-detail"]
    assert detail["route"] == "library/books/<int:pk>/"
    assert (detail["module"], detail["qualname"]) == ("library.views", "BookDetailView")
    assert detail["description"] == "One book's page: title, author, status, summary and tags."
    assert views["library:books-by-year"]["route"] == "library/published/<yyyy:year>/"
    # as_view(**initkwargs) of a generic view: Django's class, its own docstring.
    assert (views["library:home"]["module"], views["library:home"]["qualname"]) == (
        "django.views.generic.base",
        "RedirectView",
    )


def test_admin_urls_our_endpoints_and_file_serving_are_left_out(library, odd):
    views = view_facts()
    assert not [v for v in views.values() if v["route"].startswith(("admin/", "mcp", ".well-known"))]
    assert not [v for v in views.values() if v["module"].startswith(("django.contrib.admin", "django_mcp"))]
    assert not [v for v in views.values() if v["route"].startswith("^files/")]


def test_includes_keep_their_namespaces_and_regex_routes_their_regex(library, odd):
    views = view_facts()
    assert views["outer:inner:leaf"]["route"] == "outer/inner/leaf/"
    assert views["outer:here"]["route"] == "outer/here/"
    assert views["item"]["route"] == "^api/items/<int:pk>/"
    archive = views["archive"]
    assert archive["route"] == "^archive/(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/$"
    assert archive["path_params"] == [
        {"name": "year", "converter": "regex", "pattern": "[0-9]{4}"},
        {"name": "month", "converter": "regex", "pattern": "[0-9]{2}"},
    ]
    assert [p["converter"] for p in views["echo-path"]["path_params"]] == ["uuid", "path"]


def test_unnamed_views_are_known_by_module_and_qualname(library, odd):
    views = view_facts()
    assert views["fixtures.odd_views.plain"]["route"] == "plain/<slug:slug>/"
    assert views["fixtures.odd_views.plain#2"]["route"] == "plain-again/<slug:slug>/"
    assert views["fixtures.odd_views.plain"]["name"] is None


def test_a_view_that_cannot_be_described_is_skipped_with_a_warning(library, odd, caplog):
    with caplog.at_level(logging.WARNING, logger="django_mcp.facts"):
        views = view_facts()
    assert not {"mixed", "forgotten", "legacy"} & set(views)
    skipped = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'mixed/'" in m for m in skipped) and any("'forgotten/'" in m for m in skipped)
    assert any("legacy" in m for m in skipped)
    assert {"echo", "library:book-detail", "tag-count"} <= set(views)  # the others are still there


def test_exclude_matches_name_route_or_dotted_path(library, settings):
    settings.DJANGO_MCP_VIEW_EXCLUDE = ["library:book-*", "library/stats/", "library.views.AccountView"]
    views = view_facts()
    assert not [v for v in views if v.startswith("library:book-")]
    assert "library:stats" not in views and "library:account" not in views
    assert {"library:books-by-year", "library:tag-create"} <= set(views)


def test_include_keeps_only_what_it_matches(library, settings, odd):
    settings.DJANGO_MCP_VIEW_INCLUDE = ["library:*"]
    assert set(view_facts()) == set(DEMO)
    settings.DJANGO_MCP_VIEW_INCLUDE = ["fixtures.odd_views.plain", "library/books/*"]
    settings.DJANGO_MCP_VIEW_EXCLUDE = ["*edit*"]
    assert set(view_facts()) == {
        "fixtures.odd_views.plain",
        "fixtures.odd_views.plain#2",
        "library:book-list",
        "library:book-detail",
        "library:book-json",
        "library:book-publish",
    }


def test_drf_views_are_left_to_their_own_surface(library):
    # The demo's API: ViewSets on a router, APIViews, an @api_view function, the API root.
    views = view_facts()
    assert not [name for name in views if name.startswith("api:")]
    assert "library:book-detail" in views


def test_login_required_middleware_gates_every_view_not_marked_login_not_required(library, odd, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, LOGIN_MIDDLEWARE]
    views = view_facts()
    assert views["library:book-list"]["gates"] == [LOGIN]
    assert views["library:tag-create"]["gates"] == [LOGIN]  # not twice
    assert views["library:catalogue"]["gates"] == [LOGIN, DEMO["library:catalogue"][4][0]]
    assert views["open"]["gates"] == [PUBLIC]
    assert passes("anonymous", "library:book-list", "open") == [False, True]
    assert passes("carol", "library:book-list", "open") == [True, True]
    assert ok(call(None, "open"))["body"] == "open"  # no user at all: Django's AnonymousUser


def test_without_the_middleware_login_not_required_still_says_public(library, odd):
    assert view_facts()["open"]["gates"] == [PUBLIC]


def test_view_settings_are_checked_at_startup(settings):
    settings.DJANGO_MCP_URLCONFS = "fixtures.odd_views"
    settings.DJANGO_MCP_VIEW_EXCLUDE = "library:*"
    settings.DJANGO_MCP_VIEW_INCLUDE = [3]
    settings.DJANGO_MCP_REQUIRE_AUTH = "no"
    ids = {e.id for e in checks.run_checks() if e.id.startswith("django_mcp")}
    assert {"django_mcp.E016", "django_mcp.E018", "django_mcp.E020"} <= ids
    settings.DJANGO_MCP_REQUIRE_AUTH = False
    settings.DJANGO_MCP_URLCONFS = ["no.such.urlconf"]
    settings.DJANGO_MCP_VIEW_EXCLUDE = ()
    settings.DJANGO_MCP_VIEW_INCLUDE = None
    ids = {e.id for e in checks.run_checks() if e.id.startswith("django_mcp")}
    assert ids == {"django_mcp.E017"}


# --- the recognisers, on views decorated for real --------------------------------------------


def plain_view(request, *args, **kwargs):
    pass


async def async_view(request, *args, **kwargs):
    pass


def gates_of(callback):
    return [gate.facts() for gate in view_gates.decorator_gates(callback)]


def test_login_required_is_recognised_with_or_without_arguments_sync_or_async():
    assert gates_of(login_required(plain_view)) == [LOGIN]
    assert gates_of(login_required(login_url="/sign-in/")(plain_view)) == [LOGIN]
    assert gates_of(login_required(redirect_field_name="to")(async_view)) == [LOGIN]


def test_permission_required_keeps_every_permission():
    assert gates_of(permission_required("library.view_tag")(plain_view)) == [
        {"kind": "permission", "permissions": ["library.view_tag"]}
    ]
    several = permission_required(("library.view_tag", "library.add_tag"), raise_exception=True)(async_view)
    assert gates_of(several) == [{"kind": "permission", "permissions": ["library.view_tag", "library.add_tag"]}]


def test_staff_member_required_is_recognised():
    assert gates_of(staff_member_required(plain_view)) == [STAFF]
    assert gates_of(staff_member_required(login_url="/elsewhere/")(plain_view)) == [STAFF]


def is_night_owl(user):
    return user.username.startswith("a")


def test_user_passes_test_names_its_test_and_keeps_it_to_run():
    (gate,) = view_gates.decorator_gates(user_passes_test(is_night_owl)(plain_view))
    assert gate.facts() == {"kind": "test", "test": "is_night_owl"} and gate.test is is_night_owl
    anonymous_test = user_passes_test(lambda u: u.is_superuser)(plain_view)
    assert gates_of(anonymous_test)[0]["test"].endswith("<lambda>")


def test_stacked_decorators_keep_their_order_and_methods_intersect():
    view = login_required(
        permission_required("library.view_tag")(
            require_http_methods(["GET", "POST"])(require_POST(never_cache(plain_view)))
        )
    )
    assert gates_of(view) == [LOGIN, {"kind": "permission", "permissions": ["library.view_tag"]}]
    assert view_gates.allowed_methods(view) == ["post"]
    assert view_gates.allowed_methods(require_safe(plain_view)) == ["get", "head"]
    assert view_gates.allowed_methods(never_cache(plain_view)) is None


def test_decorators_that_are_not_gates_are_not_taken_for_gates():
    def homemade(view):
        def wrapper(request):
            return view(request)

        return wrapper

    assert gates_of(never_cache(plain_view)) == []
    assert gates_of(homemade(login_required(plain_view))) == []  # the chain is lost without functools.wraps


def class_gates(view_class, **initkwargs):
    return [gate.facts() for gate in view_gates.class_gates(view_class, initkwargs)]


def test_method_decorator_on_dispatch_in_every_form():
    class OnMethod(View):
        @method_decorator(login_required)
        def dispatch(self, *args, **kwargs):
            return super().dispatch(*args, **kwargs)

    @method_decorator(staff_member_required, name="dispatch")
    @method_decorator([never_cache, permission_required("library.view_tag")], name="dispatch")
    class OnClass(View):
        pass

    class Inherited(OnClass):
        pass

    assert class_gates(OnMethod) == [LOGIN]
    assert class_gates(OnClass) == [STAFF, {"kind": "permission", "permissions": ["library.view_tag"]}]
    assert class_gates(Inherited) == class_gates(OnClass)


def test_permission_required_mixin_reads_the_attribute_initkwargs_or_asks_at_call_time():
    class Several(PermissionRequiredMixin, View):
        permission_required = ["library.view_tag", "library.add_tag"]

    class Configured(PermissionRequiredMixin, View):
        pass

    class Dynamic(PermissionRequiredMixin, View):
        def get_permission_required(self):
            return [f"library.{self.kwargs['action']}_tag"]

    assert class_gates(Several) == [{"kind": "permission", "permissions": ["library.view_tag", "library.add_tag"]}]
    assert class_gates(Configured, permission_required="library.view_tag") == [
        {"kind": "permission", "permissions": ["library.view_tag"]}
    ]
    (gate,) = class_gates(Dynamic)
    assert gate["kind"] == "test" and gate["test"].endswith("Dynamic.get_permission_required")


def test_user_passes_test_mixin_names_the_test_it_runs():
    class Picky(UserPassesTestMixin, View):
        def test_func(self):
            return True

    class PickyElsewhere(Picky):
        def get_test_func(self):
            return lambda: False

    assert class_gates(Picky)[0]["test"].endswith("Picky.test_func")
    assert class_gates(PickyElsewhere)[0]["test"].endswith("PickyElsewhere.get_test_func")


# --- the view gate for callers ----------------------------------------------------------------


def test_method_decorator_on_a_handler_guards_that_method_only(library, odd):
    class OnPost(View):
        def get(self, request):
            pass

        @method_decorator(login_required)
        def post(self, request):
            pass

    assert class_gates(OnPost) == [dict(LOGIN, methods=["POST"])]
    shelf = view_facts()["tag-shelf"]
    assert shelf["gates"] == [LOGIN, {"kind": "permission", "permissions": ["library.add_tag"], "methods": ["POST"]}]
    # Carol (signed in, no permission) is shown the view: she may GET it, not POST to it.
    assert passes("carol", "tag-shelf") == [True]
    assert ok(call("carol", "tag-shelf", "GET"))["status"] == 200
    before = db_dump("library_")
    assert error(call("carol", "tag-shelf", "POST"))["kind"] == "forbidden"
    assert db_dump("library_") == before
    assert ok(call("alice", "tag-shelf", "POST"))["status"] == 201


def test_without_require_auth_off_ungated_views_are_not_served(library, odd, settings, caplog):
    settings.DJANGO_MCP_REQUIRE_AUTH = True  # the default; the demo turns it off
    with caplog.at_level(logging.WARNING, logger="django_mcp.facts"):
        views = view_facts()
    assert {"library:tag-create", "library:account", "library:book-edit", "tag-shelf"} <= set(views)
    assert not {"library:about", "library:home", "echo", "open"} & set(views)  # no gate; `open` is login_not_required
    assert any(
        "library/about/" in r.getMessage() and "DJANGO_MCP_REQUIRE_AUTH" in r.getMessage() for r in caplog.records
    )


GATED = [
    "library:tag-create",
    "library:catalogue",
    "library:drafts",
    "library:stock",
    "library:author-list",
    "library:book-edit",
    "library:book-publish",
    "library:account",
    "library:book-list",
]


@pytest.mark.parametrize(
    "caller, expected",
    [
        # login, 2 permissions, is_editor test, staff, LoginRequiredMixin, PermissionRequiredMixin,
        # UserPassesTestMixin, method_decorator(login_required), no gate
        ("alice", [True, True, True, True, True, True, True, True, True]),
        ("bob", [True, False, False, True, True, False, False, True, True]),
        ("carol", [True, False, False, False, True, False, False, True, True]),
        ("anonymous", [False, False, False, False, False, False, False, False, True]),
        ("inactive", [False, False, False, False, False, False, False, False, True]),
    ],
)
def test_view_gates_for_each_kind_of_caller(library, caller, expected):
    assert passes(caller, *GATED) == expected


def test_permissions_and_tests_follow_the_user(library):
    bob = user("bob")
    bob.user_permissions.add(Permission.objects.get(codename="view_book"))
    from django.contrib.auth.models import Group

    editors = Group.objects.create(name="Editors")
    carol = user("carol")
    carol.groups.add(editors)
    assert passes(User.objects.get(username="bob"), "library:catalogue", "library:drafts") == [True, False]
    assert passes(User.objects.get(username="carol"), "library:drafts", "library:book-publish") == [True, True]


def test_an_object_level_test_is_closed_without_path_values_and_judged_with_them(library, odd, caplog):
    with caplog.at_level(logging.WARNING, logger="django_mcp.effects"):
        assert passes("carol", "own") == [False]
    assert any("OwnBookOnly.test_func" in r.getMessage() for r in caplog.records)
    assert ok(call("carol", "own", path={"pk": 3})) == {
        "status": 200,
        "headers": {"Content-Type": "application/json"},
        "body": {"pk": 3},
    }
    assert error(call("carol", "own", path={"pk": 2}))["kind"] == "forbidden"


# --- view.call --------------------------------------------------------------------------------


def test_a_json_body_reaches_the_view_as_request_body(library):
    result = ok(call("carol", "library:tag-create", "POST", body={"name": "Poetry"}))
    tag = Tag.objects.get(slug="poetry")
    assert result == {
        "status": 201,
        "headers": {"Content-Type": "application/json"},
        "body": {"id": tag.pk, "name": "Poetry", "slug": "poetry"},
    }
    again = ok(call("carol", "library:tag-create", "POST", body={"name": "Poetry"}))
    assert again["status"] == 409 and again["body"] == {"error": "the tag 'poetry' exists already"}


def test_gates_are_checked_again_when_the_view_is_called(library):
    before = db_dump("library_")
    assert error(call("anonymous", "library:tag-create", "POST", body={"name": "Poetry"}))["kind"] == "forbidden"
    title = book(1).title
    assert (
        error(
            call(
                "bob",
                "library:book-edit",
                "POST",
                path={"pk": book(1).pk},
                body={"title": "Hijacked", "status": "draft"},
            )
        )["kind"]
        == "forbidden"
    )
    assert db_dump("library_") == before and book(1).title == title


def test_a_template_view_is_rendered_to_readable_text(library):
    target = book(2)
    result = ok(call("carol", "library:book-detail", path={"pk": target.pk}))
    assert result["status"] == 200 and result["headers"]["Content-Type"] == "text/html; charset=utf-8"
    text = result["body"]
    assert target.title in text and f"by {target.author.name}" in text
    assert "<" not in text and "font-family" not in text  # tags and styles are gone
    assert text.splitlines()[0] == target.title  # the <title>, then the page, a line per block


def test_a_list_view_pages_with_the_query(library):
    first = ok(call("carol", "library:book-list"))["body"]
    assert Book.objects.order_by("title").first().title in first and "Page 1 of 3" in first
    assert "Page 2 of 3" in ok(call("carol", "library:book-list", query={"page": 2}))["body"]


def test_a_head_request_reports_no_body(library):
    result = ok(call("carol", "library:book-list", "HEAD"))
    assert (result["status"], result["body"]) == (200, None)


def test_as_view_initkwargs_are_honoured(library):
    assert "A small catalogue of books" in ok(call("carol", "library:about"))["body"]


def test_an_async_view_is_awaited(library):
    assert ok(call("carol", "library:stats"))["body"] == {"books": 60, "authors": 3, "tags": 5}


def test_a_redirect_is_reported_not_followed(library):
    result = ok(call("carol", "library:home"))
    assert result == {
        "status": 302,
        "headers": {"Content-Type": "text/html; charset=utf-8", "Location": "/library/books/"},
        "body": None,
    }


def test_a_form_view_gets_a_dict_body_form_encoded_and_redirects(library):
    target = book(3)
    result = ok(
        call(
            "alice",
            "library:book-edit",
            "POST",
            path={"pk": target.pk},
            body={"title": "A New Title", "summary": "", "status": "published"},
        )
    )
    assert (result["status"], result["headers"]["Location"]) == (302, f"/library/books/{target.pk}/")
    target.refresh_from_db()
    assert (target.title, target.status) == ("A New Title", "published")
    invalid = ok(call("alice", "library:book-edit", "POST", path={"pk": target.pk}, body={"status": "lost"}))
    assert invalid["status"] == 200 and "This field is required." in invalid["body"]


def test_a_test_mixin_view_runs_for_an_editor(library):
    target = book(1)
    result = ok(call("alice", "library:book-publish", "POST", path={"pk": target.pk}))
    assert (result["status"], result["headers"]["Location"]) == (302, f"/library/books/{target.pk}/")
    target.refresh_from_db()
    assert target.status == "published"


def test_unknown_objects_answer_404_with_the_message(library):
    assert ok(call("carol", "library:book-json", path={"pk": 999999})) == {
        "status": 404,
        "headers": {"Content-Type": "text/plain; charset=utf-8"},
        "body": "No Book matches the given query.",
    }
    assert ok(call("carol", "library:book-detail", path={"pk": 999999}))["status"] == 404


def test_permission_denied_answers_403(library, odd):
    assert ok(call("carol", "members"))["status"] == 403
    assert ok(call("carol", "members"))["body"] == "Members only."


def test_a_custom_converter_takes_the_value_as_a_number_or_as_text(library):
    expected = list(Book.objects.filter(published__year=1990).order_by("published").values_list("title", flat=True))
    assert expected
    for year in (1990, "1990"):
        assert ok(call("carol", "library:books-by-year", path={"year": year}))["body"] == {
            "year": 1990,
            "titles": expected,
        }


@pytest.mark.parametrize(
    "path, message",
    [
        ({}, "the path parameter 'pk' is required"),
        ({"pk": "abc"}, "the path parameter 'pk' must match [0-9]+"),
        ({"pk": True}, "path values are strings or numbers"),
        ({"pk": 1, "slug": "x"}, "unknown path parameter 'slug'"),
    ],
)
def test_path_values_that_do_not_make_the_url_are_refused(library, path, message):
    result = error(call("carol", "library:book-detail", path=path))
    assert (result["kind"], result["message"]) == ("validation", message)


def test_the_request_is_a_realistic_one(library, odd):
    result = ok(call("carol", "echo", "POST", query={"q": "x y", "tags": ["a", "b"], "flag": True}, body={"a": [1, 2]}))
    assert result["body"] == {
        "method": "POST",
        "path": "/echo/",
        "full_path": "/echo/?q=x+y&tags=a&tags=b&flag=true",
        "host": "localhost",
        "absolute": "http://localhost/echo/?q=x+y&tags=a&tags=b&flag=true",
        "kwargs": {},
        "GET": {"q": ["x y"], "tags": ["a", "b"], "flag": ["true"]},
        "POST": {},
        "body": {"a": [1, 2]},
        "content_type": "application/json",
        "user": "carol",
        "session": True,
        "messages": True,
        "url_name": "echo",
    }
    assert "Set-Cookie" not in result["headers"]


def test_path_values_are_converted_by_the_urls_converters(library, odd):
    token = "0b5fd3c6-3c40-4b4e-8d1f-0d0f5a4f6a11"
    body = ok(call("carol", "echo-path", path={"token": token, "rest": "a/b c"}))["body"]
    assert body["kwargs"] == {"token": ["UUID", token], "rest": ["str", "a/b c"]}
    assert ok(call("carol", "archive", path={"year": 2024, "month": "05"}))["body"] == {"year": "2024", "month": "05"}
    assert ok(call("carol", "item", path={"pk": 7}))["body"] == {"pk": 7}
    assert ok(call("carol", "outer:inner:leaf"))["body"] == "leaf"
    assert ok(call("carol", "fixtures.odd_views.plain#2", path={"slug": "shelf"}))["body"] == "plain shelf"


def test_a_form_view_sees_form_data(library, odd):
    result = ok(call("carol", "shelf", "POST", body={"name": "Top", "size": 3, "public": True, "tags": ["a", "b"]}))
    assert result["body"] == {
        "cleaned": {"name": "Top", "size": 3, "public": True, "tags": ["a", "b"]},
        "body": "name=Top&size=3&public=true&tags=a&tags=b",
    }
    assert ok(call("carol", "shelf", "POST", body={"size": 0}))["status"] == 400


def test_a_view_that_raises_rolls_back_and_reveals_nothing(library, odd, caplog):
    before = db_dump("library_")
    with caplog.at_level(logging.ERROR, logger="django_mcp.effects"):
        result = error(call("alice", "explode", "POST"))
    assert result == {"kind": "internal", "message": "internal error (correlation id c0ffee)"}
    assert SECRET not in json.dumps(result)
    assert db_dump("library_") == before
    assert any(r.exc_info and SECRET in str(r.exc_info[1]) for r in caplog.records)


@pytest.mark.parametrize("view", ["explode", "half"])
def test_a_safe_method_rolls_back_where_atomic_requests_is_on(library, odd, view, monkeypatch):
    """As Django's handler: with ATOMIC_REQUESTS every method runs in a transaction, so a GET
    view that writes and then fails leaves nothing behind."""
    from django.db import connections

    monkeypatch.setitem(connections["default"].settings_dict, "ATOMIC_REQUESTS", True)
    before = db_dump("library_")
    call("alice", view, "GET")
    assert db_dump("library_") == before


def test_a_server_error_answer_rolls_back_too(library, odd):
    before = db_dump("library_")
    assert ok(call("alice", "half", "POST")) == {
        "status": 500,
        "headers": {"Content-Type": "text/html; charset=utf-8"},
        "body": "Server error",
    }
    assert db_dump("library_") == before


def test_a_streamed_body_is_read_no_further_than_the_bound(library, odd):
    text = ok(call("carol", "stream"))["body"]
    assert text.startswith("line 00000\nline 00001\n")
    assert text.endswith(f"[… cut: the body is longer than {BODY_LIMIT} bytes]")
    assert len(text) < BODY_LIMIT + 100


def test_binary_content_is_described_not_sent(library, odd):
    result = ok(call("carol", "download"))
    assert result["headers"]["Content-Type"] == "image/png"
    assert result["body"] == f"[binary content: {int(result['headers']['Content-Length'])} bytes of image/png]"


def test_a_long_page_is_cut_with_a_marker(library, odd):
    text = ok(call("carol", "big"))["body"]
    assert text.startswith("Big\nBig & long\nrow 0 " + "x" * 40 + "\nrow 1 ")
    assert "secret" not in text and "color" not in text
    assert text[BODY_LIMIT:].startswith("\n[… cut at 20000 of ")


def test_html_text_keeps_what_a_reader_sees():
    html = (
        "<p>One &lt;two&gt;</p><script>alert(1)</script><ul><li>a</li><li> b  c </li></ul>"
        "<table><tr><th>k</th><td>v</td></tr></table>text<br>after"
    )
    assert html_text(html) == "One <two>\na\nb c\nk v\ntext\nafter"
