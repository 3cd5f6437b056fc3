"""An admin site whose `has_permission` lets no one in, superusers included, though its
ModelAdmins are the library's own: point `DJANGO_MCP_ADMIN_SITES` at `closed_admin.site` to
prove that what reads through a ModelAdmin asks its site first."""

from django.contrib import admin
from library.admin import AuthorAdmin, BookAdmin
from library.models import Author, Book


class ClosedAdminSite(admin.AdminSite):
    def has_permission(self, request):
        return False


site = ClosedAdminSite(name="closed")
site.register(Book, BookAdmin)
site.register(Author, AuthorAdmin)
