"""The library's REST API (Django REST framework), served under /api/ and through MCP.

It exercises what a DRF project typically declares: a ModelViewSet with a paginator, filter
backends (django-filter, search, ordering), permission classes at class and object level,
`perform_create`, `@action`s with hyphenated url paths; a read-only ViewSet looked up by
slug with cursor pagination; a plain APIView taking several methods; an `@api_view`
function; and a throttled APIView.
"""

from django.db.models import Count
from django.utils.text import slugify
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, pagination, permissions, serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from .models import Author, Book, Tag


class AuthorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name", "email", "birth_date"]


class BookSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)
    author_id = serializers.PrimaryKeyRelatedField(source="author", queryset=Author.objects.all(), write_only=True)
    reading_minutes = serializers.SerializerMethodField()

    class Meta:
        model = Book
        fields = [
            "id",
            "title",
            "slug",
            "summary",
            "status",
            "pages",
            "price",
            "in_print",
            "published",
            "author",
            "author_id",
            "tags",
            "reading_minutes",
            "created_at",
        ]
        read_only_fields = ["slug", "created_at"]

    def get_reading_minutes(self, book) -> int | None:
        """Two minutes a page, as a rough guide."""
        return book.pages * 2 if book.pages else None


class TagSerializer(serializers.ModelSerializer):
    book_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Tag
        fields = ["slug", "name", "book_count"]


class BookPages(pagination.PageNumberPagination):
    page_size = 10
    page_size_query_param = "size"
    max_page_size = 50


class ArchivedBooksAreReadOnly(permissions.BasePermission):
    """An archived book cannot be changed or deleted through the API."""

    message = "Archived books are read-only."

    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or obj.status != Book.Status.ARCHIVED


class BookViewSet(viewsets.ModelViewSet):
    """The library's books."""

    queryset = Book.objects.select_related("author").prefetch_related("tags").order_by("id")
    serializer_class = BookSerializer
    permission_classes = [permissions.DjangoModelPermissions, ArchivedBooksAreReadOnly]
    pagination_class = BookPages
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, filters.OrderingFilter]
    filterset_fields = ["status", "in_print", "author"]
    search_fields = ["title", "summary"]
    ordering_fields = ["title", "pages", "price"]

    def perform_create(self, serializer):
        # The slug is the API's business, not the client's.
        serializer.save(slug=slugify(serializer.validated_data["title"])[:50])

    @action(detail=True, methods=["post"], url_path="mark-published")
    def mark_published(self, request, pk=None):
        """Publish the book: its status becomes "published"."""
        book = self.get_object()
        book.status = Book.Status.PUBLISHED
        book.save(update_fields=["status"])
        return Response(self.get_serializer(book).data)

    @action(detail=False, methods=["get"], url_path="in-print")
    def in_print(self, request):
        """Titles of the books in print, optionally above a page count (?min_pages=)."""
        books = self.get_queryset().filter(in_print=True)
        min_pages = request.query_params.get("min_pages")
        if min_pages:
            books = books.filter(pages__gte=int(min_pages))
        return Response({"titles": [b.title for b in books]})

    @action(detail=True, methods=["post", "delete"], url_path="set-tag")
    def set_tag(self, request, pk=None):
        """Add (POST) or remove (DELETE) a tag by its slug: {"slug": "..."}."""
        book = self.get_object()
        tag = Tag.objects.filter(slug=request.data.get("slug")).first()
        if tag is None:
            return Response({"slug": ["No such tag."]}, status=status.HTTP_400_BAD_REQUEST)
        (book.tags.add if request.method == "POST" else book.tags.remove)(tag)
        return Response({"tags": sorted(book.tags.values_list("slug", flat=True))})


class TagPages(pagination.CursorPagination):
    page_size = 2
    ordering = "slug"


class TagViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Tag.objects.annotate(book_count=Count("books"))
    serializer_class = TagSerializer
    permission_classes = [permissions.IsAuthenticated]
    lookup_field = "slug"
    pagination_class = TagPages


class CatalogueSummary(APIView):
    """How many books there are by status (GET), or a count for the statuses posted (POST)."""

    permission_classes = [permissions.IsAuthenticated]

    def get(self, request):
        counts = dict(Book.objects.values_list("status").annotate(n=Count("id")))
        return Response({"by_status": counts, "asked_by": request.user.get_username()})

    def post(self, request):
        wanted = request.data.get("statuses") or []
        if not isinstance(wanted, list):
            return Response({"statuses": ["Expected a list."]}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"count": Book.objects.filter(status__in=wanted).count()})


class PingThrottle(UserRateThrottle):
    rate = "5/minute"


class ThrottledPing(APIView):
    """Answers pong, five times a minute per user."""

    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [PingThrottle]

    def get(self, request):
        return Response({"pong": True})


@api_view(["GET"])
def library_version(request):
    """The API's version."""
    return Response({"version": "1.0", "user": request.user.get_username()})
