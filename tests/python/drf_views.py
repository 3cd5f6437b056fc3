"""A URLconf of DRF views for test_drf_fields.py (walked through DJANGO_MCP_URLCONFS): a
serializer with every DRF field type, the paginators the demo's API does not use, views
that cannot be described, and DRF's own permission classes beside ones of a project's."""

import datetime
import decimal
import uuid

from django.urls import include, path
from rest_framework import pagination, permissions, routers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from library.models import Author, Book, Tag


class AuthorBrief(serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name"]


class Everything(serializers.Serializer):
    """One field of each DRF type, with the rules DRF lets a field carry."""

    flag = serializers.BooleanField()
    maybe = serializers.BooleanField(allow_null=True, required=False)
    name = serializers.CharField(max_length=20, min_length=2, help_text="What it is called.")
    note = serializers.CharField(allow_blank=True, required=False)
    email = serializers.EmailField()
    site = serializers.URLField(required=False)
    token = serializers.UUIDField()
    slug = serializers.SlugField()
    code = serializers.RegexField(r"^[A-Z]{3}-\d{2}$")
    address = serializers.IPAddressField(required=False)
    count = serializers.IntegerField(min_value=1, max_value=10)
    ratio = serializers.FloatField(min_value=0.0, max_value=1.0)
    price = serializers.DecimalField(max_digits=5, decimal_places=2)
    weight = serializers.DecimalField(max_digits=6, decimal_places=3, coerce_to_string=False, required=False)
    when = serializers.DateTimeField()
    day = serializers.DateField()
    at = serializers.TimeField(required=False)
    took = serializers.DurationField(required=False)
    colour = serializers.ChoiceField(choices=[("r", "Red"), ("g", "Green")])
    sizes = serializers.MultipleChoiceField(choices=["s", "m", "l"], required=False)
    attachment = serializers.FileField(required=False)
    numbers = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=3)
    labels = serializers.DictField(child=serializers.CharField(), required=False)
    extra = serializers.JSONField(required=False)
    author = serializers.PrimaryKeyRelatedField(queryset=Author.objects.all())
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, required=False)
    tag_slug = serializers.SlugRelatedField(slug_field="slug", queryset=Tag.objects.all(), required=False)
    described = serializers.StringRelatedField(read_only=True)
    brief = AuthorBrief(read_only=True)
    briefs = AuthorBrief(many=True, read_only=True)
    words = serializers.SerializerMethodField()
    anything = serializers.SerializerMethodField()
    echo = serializers.ReadOnlyField()
    secret = serializers.CharField(write_only=True, required=False)
    owner = serializers.HiddenField(default=serializers.CurrentUserDefault())

    def get_words(self, obj) -> list[str]:
        return str(obj.get("name", "")).split()

    def get_anything(self, obj):
        return None


SAMPLE = {
    "flag": True,
    "maybe": None,
    "name": "Two words",
    "note": "",
    "email": "a@example.com",
    "site": "https://example.com/",
    "token": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "slug": "a-slug",
    "code": "ABC-12",
    "address": "10.0.0.1",
    "count": 3,
    "ratio": 0.5,
    "price": decimal.Decimal("12.50"),
    "weight": decimal.Decimal("1.250"),
    "when": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    "day": datetime.date(2026, 1, 2),
    "at": datetime.time(3, 4, 5),
    "took": datetime.timedelta(hours=1, minutes=30),
    "colour": "r",
    "sizes": {"s"},
    "attachment": None,
    "numbers": [1, 2],
    "labels": {"a": "b"},
    "extra": {"any": [1, "thing"]},
    "described": "described",
    "echo": "echoed",
}


class EverythingViewSet(viewsets.GenericViewSet):
    """Validates what it is sent and answers the validated data, rendered."""

    serializer_class = Everything
    permission_classes = [permissions.IsAuthenticated]

    def list(self, request):
        ada = Author.objects.order_by("pk").first()
        row = dict(
            SAMPLE,
            author=ada,
            tags=list(Tag.objects.order_by("pk")[:2]),
            tag_slug=Tag.objects.first(),
            brief=ada,
            briefs=list(Author.objects.order_by("pk")[:2]),
        )
        return Response([self.get_serializer(row).data])

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("owner")  # the hidden field, filled by DRF from the request
        return Response({"accepted": sorted(data), "owner": request.user.get_username()}, status=201)


class AuthorOffsets(pagination.LimitOffsetPagination):
    default_limit = 2
    max_limit = 5


class AuthorViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Author.objects.order_by("pk")
    serializer_class = AuthorBrief
    pagination_class = AuthorOffsets


class UnpagedTagViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Tag.objects.order_by("pk")
    serializer_class = serializers.ModelSerializer
    pagination_class = None

    def get_serializer_class(self):
        class TagBrief(serializers.ModelSerializer):
            class Meta:
                model = Tag
                fields = ["id", "slug"]

        return TagBrief


class Exploding(serializers.Serializer):
    def get_fields(self):
        raise RuntimeError("this serializer cannot list its fields")


class UndescribableSerializerViewSet(viewsets.GenericViewSet):
    """Its serializer cannot be described: the body is any object, the view still served."""

    serializer_class = Exploding

    def create(self, request):
        return Response({"got": request.data}, status=201)


class BrokenPaginator(pagination.PageNumberPagination):
    def __init__(self):
        raise RuntimeError("no paginator today")


class UndescribableViewSet(viewsets.ReadOnlyModelViewSet):
    """Cannot even be set up for a list: left out with a warning."""

    queryset = Book.objects.all()
    serializer_class = AuthorBrief
    pagination_class = BrokenPaginator


class StaffTagViewSet(viewsets.ReadOnlyModelViewSet):
    """Staff only, but anyone signed in may ask for its count."""

    queryset = Tag.objects.order_by("pk")
    serializer_class = AuthorBrief
    permission_classes = [permissions.IsAdminUser]

    @action(detail=False, permission_classes=[permissions.IsAuthenticated])
    def count(self, request):
        return Response({"count": self.get_queryset().count()})


class ReadOrSignInViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    def list(self, request):
        return Response([])

    def create(self, request):
        return Response({}, status=201)


class NamesStartingWithA(permissions.IsAuthenticated):
    """A project's own rule on top of DRF's, reading the view: judged by the view's own
    check, always."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.get_username().startswith(view.basename[0])


class PickyViewSet(viewsets.GenericViewSet):
    permission_classes = [NamesStartingWithA]

    def list(self, request):
        return Response([])


class ActionByActionViewSet(viewsets.GenericViewSet):
    """`get_permissions` decides per action."""

    def get_permissions(self):
        return [permissions.IsAdminUser()] if self.action == "create" else [permissions.AllowAny()]

    def list(self, request):
        return Response([])

    def create(self, request):
        return Response({}, status=201)


router = routers.SimpleRouter()
router.register("everything", EverythingViewSet, basename="everything")
router.register("authors", AuthorViewSet)
router.register("tags", UnpagedTagViewSet)
router.register("odd", UndescribableSerializerViewSet, basename="odd")
router.register("broken", UndescribableViewSet, basename="broken")
router.register("staff-tags", StaffTagViewSet, basename="staff-tags")
router.register("read-or-sign-in", ReadOrSignInViewSet, basename="read-or-sign-in")
router.register("picky", PickyViewSet, basename="a-picky")
router.register("by-action", ActionByActionViewSet, basename="by-action")

urlpatterns = [path("fields/", include((router.urls, "fields")))]
