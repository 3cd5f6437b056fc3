"""Django admin for MCP API keys: review, restrict and revoke. Creation is `manage.py mcp_key`."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from .models import MCPAPIKey

CREATE_HELP = (
    "Keys are created with <code>python manage.py mcp_key create &lt;username&gt; --name "
    "&lt;label&gt;</code>, which shows the secret once; it is never stored or shown here."
)


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("revoked", "revoked"), ("expired", "expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        live = Q(revoked_at__isnull=True)
        if self.value() == "active":
            return queryset.filter(live & (Q(expires_at__isnull=True) | Q(expires_at__gt=now)))
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(live & Q(expires_at__lte=now))
        return queryset


class MCPAPIKeyForm(forms.ModelForm):
    class Meta:
        model = MCPAPIKey
        fields = ["name", "allowed_tools", "read_only", "expires_at"]
        help_texts = {
            "allowed_tools": "A JSON list of exact tool, resource-template and prompt names and "
            'toolset patterns, e.g. ["list_library_book", "library.Author.*", "*.read"]; an '
            "empty list allows everything.",
        }

    # The column is nullable for the original package's sake; here it is a plain checkbox.
    read_only = forms.BooleanField(
        required=False, help_text="Only read-only tools, resources and prompts, whatever the allowlist says."
    )

    def clean_allowed_tools(self):
        # An emptied field arrives as None, which the NOT NULL column cannot store.
        tools = self.cleaned_data["allowed_tools"] or []
        if not isinstance(tools, list) or not all(isinstance(t, str) and t for t in tools):
            raise forms.ValidationError("Enter a JSON list of non-empty names.")
        return tools


@admin.register(MCPAPIKey)
class MCPAPIKeyAdmin(admin.ModelAdmin):
    form = MCPAPIKeyForm
    list_display = ["key_id", "name", "user", "status", "read_only", "created_at", "last_used_at", "expires_at"]
    list_filter = [StatusFilter, "read_only"]
    list_select_related = ["user"]
    search_fields = ["key_id", "name", f"user__{get_user_model().USERNAME_FIELD}"]
    ordering = ["-created_at"]
    actions = ["revoke_selected"]
    readonly_fields = ["key_id", "user", "status", "created_at", "last_used_at", "revoked_at"]
    # secret_hash is in no fieldset, so the admin never renders or accepts it.
    fieldsets = [
        (None, {"fields": ["key_id", "user", "name", "status"], "description": CREATE_HELP}),
        ("Access", {"fields": ["allowed_tools", "read_only", "expires_at"]}),
        ("History", {"fields": ["created_at", "last_used_at", "revoked_at"]}),
    ]

    @admin.display(description="status")
    def status(self, key):
        return key.status_label()

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_selected(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"Revoked {count} key(s).")

    def has_add_permission(self, request):
        # The secret must be shown exactly once to whoever creates the key: see CREATE_HELP.
        return False
