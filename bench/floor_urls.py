"""The floor: bare Django views doing the ORM work of the measured MCP tools, as JSON.

`/floor/…` does the ORM work only; `/floor-auth/…` also authenticates the same bearer key
first, as a token-authenticated Django view does: one ORM query for the key and its user (the
shape of DRF's TokenAuthentication), then the secret.
"""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import path

from demo_project.urls import urlpatterns as demo_urlpatterns
from django_mcp.models import MCPAPIKey
from django_mcp.values import field_value
from library.models import Book

COLUMNS = ["id", "title", "author", "status", "price", "published"]


def authenticated(view):
    def wrapper(request, *args, **kwargs):
        key_id, _, secret = request.headers.get("Authorization", "").removeprefix("Bearer ").partition(".")
        try:
            key = MCPAPIKey.objects.select_related("user").get(key_id=key_id)
        except MCPAPIKey.DoesNotExist:
            return JsonResponse({}, status=401)
        if not key.verify_secret(secret) or not key.is_active():
            return JsonResponse({}, status=401)
        request.user = key.user
        return view(request, *args, **kwargs)

    return wrapper


def ping(request):
    return JsonResponse({"jsonrpc": "2.0", "id": 1, "result": {}})


def books(request):
    """What the admin's changelist does for a page: its queryset with `list_select_related`,
    its ordering, the `list_display` columns (the computed one included), the count."""
    size = int(request.GET.get("page_size", 25))
    book_admin = admin.site._registry[Book]
    queryset = book_admin.get_queryset(request).select_related(*book_admin.list_select_related).order_by("title", "pk")
    fields = [Book._meta.get_field(c) for c in COLUMNS]
    rows = []
    for obj in queryset[:size]:
        row = {f.name: field_value(obj, f) for f in fields}
        row["since_2000"] = book_admin.since_2000(obj)
        rows.append(row)
    return JsonResponse({"results": rows, "count": queryset.count(), "page": 1, "page_size": size})


def book(request, pk):
    """What the admin's change view does to show an object, less building its form: its
    queryset, the object-level view permission (the bare floor has no user to hold to it),
    every field's value."""
    book_admin = admin.site._registry[Book]
    obj = book_admin.get_queryset(request).get(pk=pk)
    if request.user.is_authenticated and not book_admin.has_view_permission(request, obj):
        return JsonResponse({}, status=403)
    fields = Book._meta.concrete_fields + Book._meta.many_to_many
    return JsonResponse({"object": {f.name: field_value(obj, f) for f in fields}})


urlpatterns = demo_urlpatterns + [
    path("floor/ping/", ping),
    path("floor/books/", books),
    path("floor/books/<int:pk>/", book),
    path("floor-auth/ping/", authenticated(ping)),
    path("floor-auth/books/", authenticated(books)),
    path("floor-auth/books/<int:pk>/", authenticated(book)),
]
