"""Recognise the authorization gates a routed view declares (SPEC section 2).

Django's view decorators are closures: `login_required(view)` is a `_view_wrapper` function
whose closure holds the test it applies (`lambda u: u.is_authenticated`), and
`functools.wraps` hides it behind the view's own name. So nothing here goes by names: each
recogniser compares *code objects* with those of Django's own decorators, taken once from
wrappers built around a dummy view. A function created by the same `def` or `lambda` shares
its code object, whatever it was renamed to; anything else is left alone.

A view whose gates cannot be recognised gets none: it is served only with
DJANGO_MCP_REQUIRE_AUTH = False, and then open to any caller who passed the MCP
authentication, exactly as it is open to any visitor of the site.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required, user_passes_test
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin, UserPassesTestMixin
from django.core.exceptions import ImproperlyConfigured
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import CodeType

    from django.http import HttpRequest
    from django.views import View


@dataclasses.dataclass(frozen=True)
class Gate:
    """One condition a caller must meet to run a view."""

    #: "login", "permission", "staff", "test" or "public".
    kind: str
    #: For "permission": every permission the view requires.
    permissions: tuple[str, ...] = ()
    #: For a decorator's "test": the function the decorator calls with the user.
    test: Callable | None = None
    #: For a mixin's "test": called with a view instance set up with the request.
    view_check: Callable | None = None
    #: For "test": the test's qualname, as shown to clients.
    label: str = ""
    #: The HTTP methods (lower case) it guards, when put on some handlers only; () for all.
    methods: tuple[str, ...] = ()

    def facts(self) -> dict[str, Any]:
        if self.kind == "permission":
            facts: dict[str, Any] = {"kind": "permission", "permissions": list(self.permissions)}
        elif self.kind == "test":
            facts = {"kind": "test", "test": self.label}
        else:
            facts = {"kind": self.kind}
        if self.methods:
            facts["methods"] = [m.upper() for m in self.methods]
        return facts

    def guards(self, method: str) -> bool:
        return not self.methods or method.lower() in self.methods


LOGIN = Gate("login")
STAFF = Gate("staff")
PUBLIC = Gate("public")


# --- reference code objects, from Django's decorators applied to dummies -------------------


def _dummy_view(request: HttpRequest, *args: Any, **kwargs: Any) -> None:
    pass


async def _dummy_async_view(request: HttpRequest, *args: Any, **kwargs: Any) -> None:
    pass


def _cells(function: object) -> dict[str, Any]:
    """The closure of `function` as {free variable name: value} (empty cells left out)."""
    code = getattr(function, "__code__", None)
    closure = getattr(function, "__closure__", None) or ()
    if code is None:
        return {}
    cells: dict[str, Any] = {}
    for name, cell in zip(code.co_freevars, closure):
        try:
            cells[name] = cell.cell_contents
        except ValueError:  # a cell not yet filled
            continue
    return cells


def _code(function: object) -> CodeType | None:
    return getattr(function, "__code__", None)


# `user_passes_test(test)(view)`: the wrapper that calls `test_func(request.user)`, sync or async.
_TEST_WRAPPERS = {_code(user_passes_test(bool)(view)) for view in (_dummy_view, _dummy_async_view)}
# The tests Django's own decorators hand to user_passes_test.
_LOGIN_TEST = _code(_cells(login_required(_dummy_view))["test_func"])
_STAFF_TEST = _code(_cells(staff_member_required(_dummy_view))["test_func"])
# permission_required builds `check_perms(user)` (sync or async) over a closure cell `perms`.
_PERMISSION_TESTS = {
    _code(_cells(permission_required("app.codename")(view))["test_func"]) for view in (_dummy_view, _dummy_async_view)
}
# `require_http_methods([...])(view)`: the wrapper refusing other methods (`request_method_list`).
_METHOD_WRAPPERS = {_code(require_http_methods(["GET"])(view)) for view in (_dummy_view, _dummy_async_view)}
# `method_decorator(decorator)(method)`: the method that applies `decorators` on every call.
_METHOD_DECORATOR = _code(method_decorator(lambda f: f)(_dummy_view))


# --- decorators on a view function ---------------------------------------------------------


def wrappers(callback: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """`callback` and each function it wraps (`functools.wraps` records `__wrapped__`),
    outermost first."""
    seen: set[int] = set()
    function: Callable[..., Any] | None = callback
    while function is not None and id(function) not in seen:
        seen.add(id(function))
        yield function
        function = getattr(function, "__wrapped__", None)


def decorator_gates(callback: Callable[..., Any]) -> list[Gate]:
    """The gates of the `user_passes_test` family found down the wrapper chain, outermost first."""
    return [_gate_for_test(_cells(f)["test_func"]) for f in wrappers(callback) if _code(f) in _TEST_WRAPPERS]


def _gate_for_test(test: Callable[..., Any]) -> Gate:
    code = _code(test)
    if code is _LOGIN_TEST:
        return LOGIN
    if code is _STAFF_TEST:
        return STAFF
    if code in _PERMISSION_TESTS:
        return Gate("permission", permissions=tuple(_cells(test)["perms"]))
    return Gate("test", test=test, label=getattr(test, "__qualname__", None) or repr(test))


def allowed_methods(callback: Callable[..., Any]) -> list[str] | None:
    """The HTTP methods (lower case) `require_http_methods` & co. leave open down the wrapper
    chain, or None when no such decorator is there (any method reaches the view)."""
    allowed: list[str] | None = None
    for function in wrappers(callback):
        if _code(function) in _METHOD_WRAPPERS:
            methods = [m.lower() for m in _cells(function)["request_method_list"]]
            allowed = methods if allowed is None else [m for m in allowed if m in methods]
    return allowed


# --- class-based views -----------------------------------------------------------------------


def class_gates(view_class: type[View], initkwargs: dict[str, Any]) -> list[Gate]:
    """The gates of a class-based view, in the order its `dispatch` chain meets them: decorators
    put on `dispatch` with `method_decorator` and the auth mixins, along the MRO; then those
    put on a handler (`get`, `post`…), which guard that method only."""
    gates: list[Gate] = []
    for klass in view_class.__mro__:
        dispatch = klass.__dict__.get("dispatch")
        if dispatch is not None:
            for decorator in _dispatch_decorators(dispatch):
                gates.extend(decorator_gates(_applied(decorator)))
        if klass is LoginRequiredMixin:
            gates.append(LOGIN)
        elif klass is PermissionRequiredMixin:
            gates.append(_permission_mixin_gate(view_class, initkwargs))
        elif klass is UserPassesTestMixin:
            gates.append(_test_mixin_gate(view_class))
    for method in view_class.http_method_names:
        handler = getattr(view_class, method, None)
        for decorator in _dispatch_decorators(handler) if handler is not None else ():
            gates.extend(dataclasses.replace(gate, methods=(method,)) for gate in decorator_gates(_applied(decorator)))
    return gates


def _dispatch_decorators(method: Callable[..., Any]) -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """The decorators `method_decorator` put on this method (also when it decorated the class
    with `name="dispatch"` or `name="get"`), outermost first. They are applied anew on every call, so they
    live only in the closure of the method's `_wrapper`."""
    decorators: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = []
    while _code(method) is _METHOD_DECORATOR:
        cells = _cells(method)
        # _multi_decorate keeps them innermost first, the order it applies them in.
        decorators.extend(reversed(cells["decorators"]))
        method = cells["method"]
    return decorators


def _applied(decorator: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Callable[..., Any]:
    """The decorator applied to a dummy view, as Django's own `method_decorator` does to
    copy the attributes a decorator sets: the result is a wrapper chain like any other."""
    return decorator(_dummy_view)


def _permission_mixin_gate(view_class: type[PermissionRequiredMixin], initkwargs: dict[str, Any]) -> Gate:
    if view_class.has_permission is not PermissionRequiredMixin.has_permission:
        # Custom logic decides: ask it, on a view instance, when the question comes.
        return Gate("test", view_check=_has_permission, label=view_class.has_permission.__qualname__)
    if view_class.get_permission_required is not PermissionRequiredMixin.get_permission_required:
        # An overridden getter may read the request: it is asked (through has_permission) then too.
        label = view_class.get_permission_required.__qualname__
        return Gate("test", view_check=_has_permission, label=label)
    required = initkwargs.get("permission_required", view_class.permission_required)
    if required is None:
        # The view fails the same way on every request.
        raise ImproperlyConfigured(f"{view_class.__qualname__} is missing the permission_required attribute.")
    permissions = (required,) if isinstance(required, str) else tuple(required)
    return Gate("permission", permissions=permissions)


def _test_mixin_gate(view_class: type[UserPassesTestMixin]) -> Gate:
    if view_class.get_test_func is UserPassesTestMixin.get_test_func:
        label = view_class.test_func.__qualname__
    else:
        label = view_class.get_test_func.__qualname__
    return Gate("test", view_check=_run_test_func, label=label)


def _has_permission(view: PermissionRequiredMixin) -> bool:
    return view.has_permission()


def _run_test_func(view: UserPassesTestMixin) -> bool:
    return view.get_test_func()()
