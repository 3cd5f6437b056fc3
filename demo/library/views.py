"""The library's own pages and JSON endpoints, each protected the way Django projects usually
protect views, so every kind of gate django-mcp recognises has an example here."""

import json

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required, user_passes_test
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin, UserPassesTestMixin
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django.views import View
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import DetailView, ListView, UpdateView
from django.views.generic.detail import SingleObjectMixin

from .models import Author, Book, Tag


def is_editor(user):
    """Editors are superusers and members of the "Editors" group."""
    return user.is_active and (user.is_superuser or user.groups.filter(name="Editors").exists())


def book_summary(book):
    return {
        "id": book.pk,
        "title": book.title,
        "status": book.status,
        "author": book.author.name,
        "published": book.published.isoformat() if book.published else None,
    }


class BookListView(ListView):
    """Browse the catalogue, twenty books a page."""

    model = Book
    paginate_by = 20
    queryset = Book.objects.select_related("author").order_by("title")


class BookDetailView(DetailView):
    """One book's page: title, author, status, summary and tags."""

    model = Book
    queryset = Book.objects.select_related("author")


@require_GET
def book_json(request, pk):
    """One book as JSON; an unknown id answers 404."""
    return JsonResponse(book_summary(get_object_or_404(Book.objects.select_related("author"), pk=pk)))


@require_GET
def books_by_year(request, year):
    """The titles of the books published in one year."""
    titles = Book.objects.filter(published__year=year).order_by("published").values_list("title", flat=True)
    return JsonResponse({"year": year, "titles": list(titles)})


@login_required
@require_POST
def tag_create(request):
    """Add a tag from a JSON body {"name": "...", "slug": "..."} (the slug defaults from the name)."""
    try:
        data = json.loads(request.body)
    except ValueError:
        return JsonResponse({"error": "the body must be JSON"}, status=400)
    name = str(data.get("name") or "").strip() if isinstance(data, dict) else ""
    slug = slugify(data.get("slug") or name) if name else ""
    if not name or not slug:
        return JsonResponse({"error": "a tag needs a name"}, status=400)
    if Tag.objects.filter(slug=slug).exists():
        return JsonResponse({"error": f"the tag {slug!r} exists already"}, status=409)
    tag = Tag.objects.create(name=name, slug=slug)
    return JsonResponse({"id": tag.pk, "name": tag.name, "slug": tag.slug}, status=201)


@permission_required(["library.view_book", "library.view_author"])
@require_GET
def catalogue(request):
    """Every book with its author, for readers who may see both."""
    books = Book.objects.select_related("author").order_by("title")
    return JsonResponse({"books": [book_summary(book) for book in books]})


@user_passes_test(is_editor)
def drafts(request):
    """The books still in draft, for editors."""
    books = Book.objects.filter(status=Book.Status.DRAFT).select_related("author").order_by("title")
    return JsonResponse({"drafts": [book_summary(book) for book in books]})


@staff_member_required
def stock_report(request):
    """How many books there are in each status, and how many are in print."""
    counts = dict(Book.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    return JsonResponse({"by_status": counts, "in_print": Book.objects.filter(in_print=True).count()})


async def library_stats(request):
    """Counts of books, authors and tags."""
    return JsonResponse(
        {
            "books": await Book.objects.acount(),
            "authors": await Author.objects.acount(),
            "tags": await Tag.objects.acount(),
        }
    )


class AuthorListView(LoginRequiredMixin, ListView):
    """The authors, for signed-in readers."""

    model = Author


class BookUpdateView(PermissionRequiredMixin, UpdateView):
    """Edit a book's title, summary and status."""

    model = Book
    fields = ["title", "summary", "status"]
    permission_required = "library.change_book"


class PublishBookView(UserPassesTestMixin, SingleObjectMixin, View):
    """Publish a book (editors only); answers with a redirect to its page."""

    model = Book

    def test_func(self):
        return is_editor(self.request.user)

    def post(self, request, *args, **kwargs):
        book = self.get_object()
        book.status = Book.Status.PUBLISHED
        book.save(update_fields=["status"])
        messages.success(request, f"{book.title} is published.")
        return redirect(book)


@method_decorator(login_required, name="dispatch")
class AccountView(View):
    """Who you are signed in as, and what you may do with books."""

    def get(self, request):
        user = request.user
        return JsonResponse(
            {
                "username": user.get_username(),
                "staff": user.is_staff,
                "book_permissions": sorted(p for p in user.get_all_permissions() if p.endswith("_book")),
            }
        )
