"""Bookmark on the default admin site, and `pages_site`: a second AdminSite whose FlatPage
admin (django.contrib.flatpages' own, subclassed) holds staff to object-level rules.

Members of the group "page editors" hold no Django model permission on flat pages, so the
default site shows them nothing; here they see every page but change or delete only their
own: those whose URL starts with /<username>/.
"""

from django.contrib import admin
from django.contrib.flatpages.admin import FlatPageAdmin
from django.contrib.flatpages.models import FlatPage

from thirdparty.models import Bookmark

EDITORS = "page editors"


@admin.register(Bookmark)
class BookmarkAdmin(admin.ModelAdmin):
    list_display = ["title", "url"]
    search_fields = ["title"]
    list_filter = ["tags"]


class OwnPagesAdmin(FlatPageAdmin):
    def _editor(self, request):
        user = request.user
        return user.is_active and (user.is_superuser or user.groups.filter(name=EDITORS).exists())

    def _owns(self, request, obj):
        return request.user.is_superuser or obj.url.startswith(f"/{request.user.username}/")

    def has_module_permission(self, request):
        return self._editor(request)

    def has_view_permission(self, request, obj=None):
        return self._editor(request)

    def has_add_permission(self, request):
        return self._editor(request)

    def has_change_permission(self, request, obj=None):
        return self._editor(request) and (obj is None or self._owns(request, obj))

    def has_delete_permission(self, request, obj=None):
        return self._editor(request) and (obj is None or self._owns(request, obj))


pages_site = admin.AdminSite(name="pages")
pages_site.register(FlatPage, OwnPagesAdmin)
