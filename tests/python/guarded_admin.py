"""A third admin site for the write tests: object-level permissions and per-object
read-only fields, as real admins often declare them.

- an archived book may be viewed but not changed; a book in print may not be deleted;
- a book's ISBN is read-only once it exists (`get_readonly_fields(request, obj)`), and its
  slug is read-only for everyone but superusers;
- authors are managed as usual (their books PROTECT them).
"""

from django.contrib import admin
from library.admin import AuthorAdmin, BookAdmin
from library.models import Author, Book


class GuardedBookAdmin(BookAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = ("isbn",) if obj else ()
        return readonly if request.user.is_superuser else ("slug", *readonly)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status == Book.Status.ARCHIVED:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.in_print:
            return False
        return super().has_delete_permission(request, obj)


site = admin.AdminSite(name="guarded")
site.register(Book, GuardedBookAdmin)
site.register(Author, AuthorAdmin)
