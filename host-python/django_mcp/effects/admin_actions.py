"""Admin actions, run as the changelist runs them after its confirmation.

The changelist POSTs `action`, the selected pks (`_selected_action`) and, once the user has
confirmed on an intermediate page such as delete_selected's, `post=yes`. We send that
confirmed POST straight away: MCP has no page to show, and the tool call is the
confirmation. An action that still answers with a page (it needs input we cannot give)
or sends the browser on to another page is refused and rolled back rather than reported
as done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.http import HttpRequest, QueryDict
from django.http.response import HttpResponseBase, HttpResponseRedirectBase
from django.utils.html import strip_tags

from django_mcp.effects import EffectError, Forbidden
from django_mcp.facts.changelist import action_parts
from django_mcp.seam import JSON, AdminAction

if TYPE_CHECKING:
    from django_mcp.facts.registry import Registry
    from django_mcp.requests import CallerContext

#: Messages at these levels are reported with their level, so a refusal reads as one.
LEVEL_PREFIX = {messages.WARNING: "Warning: ", messages.ERROR: "Error: "}
PROTECTED_SHOWN = 10


def admin_action(effect: AdminAction, caller: CallerContext, registry: Registry) -> dict[str, Any]:
    site, model_admin = registry.get(effect["admin"])
    name = effect["action"]
    pks = list(effect.get("pks") or ())
    request = action_request(caller, name, pks)
    # The changelist's own gates: the site, then view-or-change, then the action itself
    # (get_actions applies `allowed_permissions` through has_<perm>_permission).
    if not site.has_permission(request) or not model_admin.has_view_or_change_permission(request):
        raise Forbidden()
    action = model_admin.get_actions(request).get(name)
    if action is None:
        raise Forbidden()
    func, _description = action_parts(action)
    if not pks:
        message = "Items must be selected in order to perform actions on them. No items have been changed."
        raise EffectError("validation", f"pks: {message}", {"pks": [message]})
    model = model_admin.model
    with transaction.atomic(using=router.db_for_write(model)):
        try:
            queryset = model_admin.get_queryset(request).filter(pk__in=pks)
            updated = queryset.count()
        except (ValueError, TypeError, ValidationError):
            raise EffectError(
                "validation", "pks: not a list of primary keys", {"pks": ["Not a list of primary keys."]}
            ) from None
        try:
            response = func(model_admin, request, queryset)
        except PermissionDenied:
            raise Forbidden(
                "You do not have permission to do this to every selected object "
                "(or to the related objects it would also delete)."
            ) from None
        if isinstance(response, HttpResponseBase):
            raise _refusal(name, response)  # leaves the atomic block: rolled back
    return {"updated": updated, "message": "\n".join(message_texts(request)) or None}


def action_request(caller: CallerContext, name: str, pks: list[JSON]) -> HttpRequest:
    """The changelist's confirmed action POST, for the caller."""
    request = caller.request("POST")
    post = QueryDict(mutable=True)
    post["action"] = name
    post.setlist(helpers.ACTION_CHECKBOX_NAME, [str(pk) for pk in pks])
    post.update({"select_across": "0", "index": "0", "post": "yes"})
    post._mutable = False
    request.POST = post
    return request


def message_texts(request: HttpRequest) -> list[str]:
    """What the action told the user through `message_user`, in order."""
    return [LEVEL_PREFIX.get(m.level, "") + strip_tags(str(m.message)) for m in request._messages]


def _refusal(name: str, response: HttpResponseBase) -> EffectError:
    """An action answered with a page instead of doing its work. delete_selected's page
    says why (protected objects, missing permissions); anything else asked for a
    confirmation MCP cannot show."""
    context = getattr(response, "context_data", None) or {}
    if context.get("perms_lacking"):
        return Forbidden(
            "You do not have permission to delete the related objects this would "
            f"also delete: {', '.join(sorted(str(p) for p in context['perms_lacking']))}."
        )
    protected = [strip_tags(str(p)) for p in context.get("protected") or ()]
    if protected:
        shown = "; ".join(protected[:PROTECTED_SHOWN])
        more = f" and {len(protected) - PROTECTED_SHOWN} more" if len(protected) > PROTECTED_SHOWN else ""
        return EffectError(
            "conflict",
            "Nothing was deleted: these related objects are protected and "
            f"would have to be deleted first: {shown}{more}.",
        )
    if isinstance(response, HttpResponseRedirectBase):
        # Actions that finish their work return nothing; one that sends the browser on
        # (a merge form, a wizard) has not done it yet.
        return EffectError(
            "conflict",
            f"The action {name!r} continues on another page of the Django admin, "
            "which MCP cannot show; nothing was changed.",
        )
    return EffectError(
        "conflict", f"The action {name!r} needs a confirmation page that MCP cannot show; nothing was changed."
    )
