from django.contrib import admin
from django.urls import include, path

from thirdparty.admin import pages_site

urlpatterns = [
    path("admin/", admin.site.urls),
    path("pages-admin/", pages_site.urls),
    path("mcp/", include("django_mcp.urls")),
    # Views nobody here wrote: flatpages and django.contrib.auth's own views.
    path("pages/", include("django.contrib.flatpages.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    # A DRF API nobody here wrote: djoser's UserViewSet (list, me, set_password, …).
    path("auth/", include("djoser.urls")),
]
