"""A second admin site for the tests: its Book admin shows only books in print.

Point `DJANGO_MCP_ADMIN_SITES` at `scoped_admin.site` to prove tools go through
`ModelAdmin.get_queryset` (tenant scoping is never bypassed).
"""

from django.contrib import admin
from library.admin import BookAdmin
from library.models import Book


class InPrintBookAdmin(BookAdmin):
    def get_queryset(self, request):
        return super().get_queryset(request).filter(in_print=True)


site = admin.AdminSite(name="scoped")
site.register(Book, InPrintBookAdmin)
