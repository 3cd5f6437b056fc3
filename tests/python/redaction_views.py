"""A URLconf for test_redaction.py (walked through DJANGO_MCP_URLCONFS): views and a DRF
APIView whose JSON carries what the admin never shows (password hashes, redacted fields),
and views whose JSON bodies are too long to send whole."""

import json

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import JsonResponse, StreamingHttpResponse
from django.urls import path
from django.views.decorators.http import require_GET
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView


def _people():
    return [
        {"username": u.username, "password": u.password, "profile": {"email": u.email, "last_login": None}}
        for u in User.objects.order_by("pk")
    ]


@login_required
@require_GET
def people(request):
    """The users, hashes and all, as a careless project view might answer."""
    return JsonResponse({"people": _people(), "count": User.objects.count(), "password": ""})


@login_required
@require_GET
def big(request):
    """A JSON body of several megabytes, each row with a hash: a cut that left one in shows."""
    hash_ = User.objects.order_by("pk").first().password
    rows = [{"n": n, "text": "x" * 100, "password": hash_} for n in range(40_000)]
    return JsonResponse({"rows": rows})


@login_required
@require_GET
def streamed(request):
    """A JSON body streamed in chunks, longer than what is read of a stream."""
    hash_ = User.objects.order_by("pk").first().password
    chunks = (json.dumps({"n": n, "text": "x" * 100, "password": hash_}) + "," for n in range(1000))
    return StreamingHttpResponse(chunks, content_type="application/json")


class PeopleAPI(APIView):
    """The users through DRF, hashes and all."""

    permission_classes = [permissions.IsAuthenticated]

    def get(self, request):
        return Response({"results": _people()})


urlpatterns = [
    path("redaction/people/", people, name="people"),
    path("redaction/big/", big, name="big"),
    path("redaction/streamed/", streamed, name="streamed"),
    path("redaction/api/people/", PeopleAPI.as_view(), name="people-api"),
]
