"""A URLconf of function views as projects write them, for test_view_methods.py (walked through
DJANGO_MCP_URLCONFS, see method_views_settings.py): two that take any method, one behind
`login_required`, one behind `permission_required`, and one that takes only POST and DELETE.
Each answers with the method it was called with and the JSON body it was sent."""

import json

from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.http import require_http_methods
from library.models import Book


def _answer(request, **data):
    body = json.loads(request.body) if request.body else None
    return JsonResponse({"method": request.method, "body": body, **data})


@login_required
def book_stats(request):
    """How many books there are."""
    return _answer(request, books=Book.objects.count())


@permission_required("library.view_book")
def book_titles(request):
    """The titles of the books, for readers who may view books."""
    return _answer(request, titles=sorted(Book.objects.values_list("title", flat=True)))


@login_required
@require_http_methods(["POST", "DELETE"])
def reading_list(request):
    """Add a book to your reading list (POST) or empty it (DELETE)."""
    return _answer(request)


urlpatterns = [
    path("stats/", book_stats, name="book-stats"),
    path("titles/", book_titles, name="book-titles"),
    path("reading-list/", reading_list, name="reading-list"),
]
