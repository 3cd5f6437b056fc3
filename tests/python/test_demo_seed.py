"""The demo project's seed data, which the other suites rely on."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from library.models import Author, Book, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    call_command("demo_seed", stdout=StringIO())
    return tmp_path


def test_seed_creates_the_documented_data(seeded):
    assert (Author.objects.count(), Tag.objects.count(), Book.objects.count()) == (3, 5, 60)
    books = Book.objects.all()
    assert {b.status for b in books} == {"draft", "published", "archived"}
    assert books.filter(tags__isnull=False).distinct().count() > 0
    assert books.filter(rating__isnull=True).exists()
    assert books.filter(rating__isnull=False).exists()
    covers = books.exclude(cover="")
    assert covers.exists()
    for book in covers:
        with book.cover.open("rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_seed_is_deterministic_and_idempotent(seeded):
    isbns = sorted(str(i) for i in Book.objects.values_list("isbn", flat=True))
    call_command("demo_seed", stdout=StringIO())
    assert Book.objects.count() == 60 and User.objects.count() == 3
    assert sorted(str(i) for i in Book.objects.values_list("isbn", flat=True)) == isbns
    Book.objects.all().delete()
    Author.objects.all().delete()
    Tag.objects.all().delete()
    User.objects.all().delete()
    call_command("demo_seed", stdout=StringIO())
    assert sorted(str(i) for i in Book.objects.values_list("isbn", flat=True)) == isbns


def test_seed_users(seeded):
    alice, bob, carol = (User.objects.get(username=n) for n in ("alice", "bob", "carol"))
    assert alice.is_superuser and alice.check_password("demo-password")
    assert bob.is_staff and bob.is_active and not bob.is_superuser
    assert bob.has_perm("library.view_author")
    assert not bob.has_perm("library.view_book") and not bob.has_perm("library.change_author")
    assert carol.is_active and not carol.is_staff
