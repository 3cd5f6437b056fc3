"""MCP API keys in the Django admin: visible, editable where safe, revocable, never a secret."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from django_mcp.models import MCPAPIKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def key():
    owner = User.objects.create_user("alice")
    return MCPAPIKey.objects.create_key(owner, name="laptop", allowed_tools=["t1"])[0]


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", None))
    return client


def test_changelist_lists_keys_and_explains_how_to_create_one(admin_client, key):
    response = admin_client.get(reverse("admin:django_mcp_mcpapikey_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    assert key.key_id in html and "laptop" in html and "active" in html
    assert "mcp_key create" in html
    assert key.secret_hash not in html
    # No add button: the secret has to be shown once, on the command line.
    assert reverse("admin:django_mcp_mcpapikey_add") not in html


def test_keys_cannot_be_added_in_the_admin(admin_client):
    response = admin_client.get(reverse("admin:django_mcp_mcpapikey_add"))
    assert response.status_code == 403


def test_change_form_never_shows_or_accepts_the_secret_hash(admin_client, key):
    url = reverse("admin:django_mcp_mcpapikey_change", args=[key.pk])
    html = admin_client.get(url).content.decode()
    assert "secret_hash" not in html and key.secret_hash not in html
    assert "mcp_key create" in html

    original_hash = key.secret_hash
    response = admin_client.post(
        url,
        {"name": "renamed", "allowed_tools": "", "secret_hash": "sha256$00", "key_id": "X" * 24},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.name == "renamed"
    assert key.allowed_tools == []  # an emptied allowlist means "everything", not NULL
    assert key.secret_hash == original_hash
    assert key.key_id != "X" * 24


def test_change_form_rejects_an_allowlist_that_is_not_a_list_of_names(admin_client, key):
    url = reverse("admin:django_mcp_mcpapikey_change", args=[key.pk])
    response = admin_client.post(url, {"name": "laptop", "allowed_tools": '{"a": 1}'})
    assert response.status_code == 200  # the form is shown again with the error
    key.refresh_from_db()
    assert key.allowed_tools == ["t1"]


def test_revoke_selected_action(admin_client, key):
    other = MCPAPIKey.objects.create_key(key.user, name="other")[0]
    response = admin_client.post(
        reverse("admin:django_mcp_mcpapikey_changelist"),
        {"action": "revoke_selected", "_selected_action": [key.pk]},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    other.refresh_from_db()
    assert key.status_label() == "revoked"
    assert other.status_label() == "active"


def test_status_filter(admin_client, key):
    revoked = MCPAPIKey.objects.create_key(key.user, name="old")[0]
    revoked.revoke()
    url = reverse("admin:django_mcp_mcpapikey_changelist")
    html = admin_client.get(url, {"status": "revoked"}).content.decode()
    assert revoked.key_id in html and key.key_id not in html
    html = admin_client.get(url, {"status": "active"}).content.decode()
    assert key.key_id in html and revoked.key_id not in html
