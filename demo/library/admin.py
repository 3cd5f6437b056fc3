from django.contrib import admin

from .models import Author, Book, Tag


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "birth_date"]
    search_fields = ["name"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "status", "price", "published"]
    search_fields = ["title", "summary", "author__name"]
    list_filter = ["status", "in_print", "author"]
    ordering = ["title"]
    list_per_page = 25
    actions = ["mark_published"]

    @admin.action(
        description="Mark selected %(verbose_name_plural)s as published", permissions=["change"]
    )
    def mark_published(self, request, queryset):
        updated = queryset.update(status=Book.Status.PUBLISHED)
        self.message_user(request, f"{updated} book(s) marked as published.")
