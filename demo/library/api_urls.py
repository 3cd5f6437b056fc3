"""The REST API's routes: a router for the ViewSets, plain paths for the other views."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import api

app_name = "api"

router = DefaultRouter()
router.register("books", api.BookViewSet)
router.register("tags", api.TagViewSet)

urlpatterns = [
    path("summary/", api.CatalogueSummary.as_view(), name="summary"),
    path("ping/", api.ThrottledPing.as_view(), name="ping"),
    path("version/", api.library_version, name="version"),
    *router.urls,
]
