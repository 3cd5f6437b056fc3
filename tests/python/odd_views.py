"""A URLconf of awkward views for test_view_facts.py (walked through DJANGO_MCP_URLCONFS):
views that fail, stream, write and break, views django-mcp cannot describe, nested
namespaces, regex routes, and a view that echoes the request it was given."""

import io
import json

from django import forms
from django.contrib.auth.decorators import login_not_required, login_required, permission_required
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin, UserPassesTestMixin
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse, HttpResponseServerError, JsonResponse, StreamingHttpResponse
from django.urls import include, path, re_path
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView
from django.views.static import serve
from library.management.commands.demo_seed import TINY_PNG
from library.models import Book, Tag

SECRET = "database password is hunter2"


def echo(request, **kwargs):
    """What the view was given, as JSON."""
    request_messages = get_messages(request)
    body = request.body.decode()
    response = JsonResponse(
        {
            "method": request.method,
            "path": request.path,
            "full_path": request.get_full_path(),
            "host": request.get_host(),
            "absolute": request.build_absolute_uri(),
            "kwargs": {k: [type(v).__name__, str(v)] for k, v in kwargs.items()},
            "GET": {k: request.GET.getlist(k) for k in request.GET},
            "POST": {k: request.POST.getlist(k) for k in request.POST},
            "body": json.loads(body) if request.content_type == "application/json" else body,
            "content_type": request.content_type,
            "user": request.user.get_username(),
            "session": request.session.session_key is None and hasattr(request.session, "get"),
            "messages": request_messages is not None,
            "url_name": request.resolver_match.view_name,
        }
    )
    response.set_cookie("seen", "1")  # never reported
    return response


def write_then_explode(request):
    Tag.objects.create(name="Doomed", slug="doomed")
    raise RuntimeError(SECRET)


def write_then_500(request):
    Tag.objects.create(name="Half done", slug="half-done")
    return HttpResponseServerError("<h1>Server error</h1>")


def members_only(request):
    raise PermissionDenied("Members only.")


def stream(request):
    return StreamingHttpResponse((f"line {n:05d}\n" for n in range(5000)), content_type="text/plain")


def download(request):
    return FileResponse(io.BytesIO(TINY_PNG * 2), content_type="image/png")


def big_page(request):
    rows = "".join(f"<tr><td>row {n}</td><td>{'x' * 40}</td></tr>" for n in range(1000))
    html = (
        f"<html><head><title>Big</title><style>td {{ color: red }}</style></head>"
        f"<body><script>var secret = 1;</script><h1>Big &amp; long</h1><table>{rows}</table></body></html>"
    )
    return HttpResponse(html)


def plain(request, slug):
    """A view mounted twice without a URL name."""
    return HttpResponse(f"plain {slug}", content_type="text/plain")


@login_not_required
def open_door(request):
    """Anyone may knock."""
    return HttpResponse("open")


class MixedHandlers(View):
    """Sync get, and an async post added after as_view(): Django's handler would refuse it on
    every request, and describing it fails."""

    def get(self, request):
        return HttpResponse()


mixed_view = MixedHandlers.as_view()


async def _late_post(self, request):
    return HttpResponse()


MixedHandlers.post = _late_post


class PermissionForgotten(PermissionRequiredMixin, View):
    """A PermissionRequiredMixin without permission_required fails on every request."""

    def get(self, request):
        return HttpResponse()


class OwnBookOnly(UserPassesTestMixin, View):
    """An object-level test: needs the path's pk."""

    def test_func(self):
        return self.kwargs["pk"] % 2 == 1

    def get(self, request, pk):
        return JsonResponse({"pk": pk})


@method_decorator([never_cache, login_required, permission_required("library.view_tag")], name="dispatch")
class TagCount(LoginRequiredMixin, View):
    def get(self, request):
        return JsonResponse({"tags": Tag.objects.count()})


class ShelfForm(forms.Form):
    name = forms.CharField(max_length=20)
    size = forms.IntegerField(min_value=1)
    public = forms.BooleanField(required=False)
    tags = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")], required=False)


class ShelfFormView(FormView):
    """A form view: a dict body arrives form-encoded."""

    form_class = ShelfForm
    template_name = "unused.html"

    def form_valid(self, form):
        return JsonResponse({"cleaned": form.cleaned_data, "body": self.request.body.decode()})

    def form_invalid(self, form):
        return JsonResponse({"errors": form.errors}, status=400)


def archive(request, year, month):
    return JsonResponse({"year": year, "month": month})


def legacy(request, number):
    return HttpResponse(number)


def leaf(request):
    return HttpResponse("leaf")


def item(request, pk):
    return JsonResponse({"pk": pk})


def count_books(request):
    return JsonResponse({"books": Book.objects.count()})


leaf_patterns = ([path("leaf/", leaf, name="leaf")], "inner")
inner_patterns = ([path("inner/", include(leaf_patterns)), path("here/", leaf, name="here")], "outer")
api_patterns = [path("items/<int:pk>/", item, name="item")]


class TagShelf(View):
    """Anyone signed in may read; adding needs the permission (a gate on `post` only)."""

    def get(self, request):
        return JsonResponse({"tags": Tag.objects.count()})

    @method_decorator(permission_required("library.add_tag", raise_exception=True))
    def post(self, request):
        tag = Tag.objects.create(name="Shelved", slug="shelved")
        return JsonResponse({"id": tag.pk}, status=201)


urlpatterns = [
    path("echo/", echo, name="echo"),
    path("tag-shelf/", login_required(TagShelf.as_view()), name="tag-shelf"),
    path("echo/<uuid:token>/<path:rest>", echo, name="echo-path"),
    path("explode/", write_then_explode, name="explode"),
    path("half/", write_then_500, name="half"),
    path("members/", members_only, name="members"),
    path("stream/", stream, name="stream"),
    path("download/", download, name="download"),
    path("big/", big_page, name="big"),
    path("plain/<slug:slug>/", plain),
    path("plain-again/<slug:slug>/", plain),
    path("open/", open_door, name="open"),
    path("mixed/", mixed_view, name="mixed"),
    path("forgotten/", PermissionForgotten.as_view(), name="forgotten"),
    path("own/<int:pk>/", OwnBookOnly.as_view(), name="own"),
    path("tags/count/", TagCount.as_view(), name="tag-count"),
    path("shelf/", ShelfFormView.as_view(), name="shelf"),
    path("guarded-books/", login_required(View.as_view()), name="guarded"),
    path("count/", count_books, name="count"),
    re_path(r"^archive/(?P<year>[0-9]{4})/(?P<month>[0-9]{2})/$", archive, name="archive"),
    re_path(r"^legacy/([0-9]+)/$", legacy, name="legacy"),
    re_path(r"^api/", include(api_patterns)),
    path("outer/", include(inner_patterns, namespace="outer")),
    re_path(r"^files/(?P<path>.*)$", serve, {"document_root": "unused-media"}),
]
