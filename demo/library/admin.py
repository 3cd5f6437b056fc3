from datetime import date

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


class DecadeListFilter(admin.SimpleListFilter):
    """Books by the decade they were published in."""

    title = "decade published"
    parameter_name = "decade"
    DECADES = {"1990s": 1990, "2000s": 2000, "2010s": 2010}

    def lookups(self, request, model_admin):
        return [(key, f"The {key}") for key in self.DECADES]

    def queryset(self, request, queryset):
        start = self.DECADES.get(self.value())
        if start is None:
            return queryset
        return queryset.filter(published__gte=date(start, 1, 1), published__lt=date(start + 10, 1, 1))


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = ["title", "author", "status", "price", "published", "since_2000"]
    list_select_related = ["author"]
    search_fields = ["title", "summary", "author__name"]
    list_filter = ["status", "in_print", "author", "published", DecadeListFilter]
    ordering = ["title"]
    list_per_page = 25
    actions = ["mark_published"]

    @admin.display(boolean=True, ordering="published", description="Published since 2000")
    def since_2000(self, obj):
        return None if obj.published is None else obj.published.year >= 2000

    @admin.action(description="Mark selected %(verbose_name_plural)s as published", permissions=["change"])
    def mark_published(self, request, queryset):
        updated = queryset.update(status=Book.Status.PUBLISHED)
        self.message_user(request, f"{updated} book(s) marked as published.")
