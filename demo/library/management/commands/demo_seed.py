"""`manage.py demo_seed`: deterministic demo data and users; does nothing if data exists."""

import base64
import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Permission, User
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction

from library.models import Author, Book, Tag

BOOK_COUNT = 60

# A valid 1x1 transparent PNG, so cover files have a real image MIME type.
TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

AUTHORS = [
    ("Ada Lovelace", "ada@example.com", date(1815, 12, 10)),
    ("Alan Turing", "alan@example.com", date(1912, 6, 23)),
    ("Grace Hopper", "grace@example.com", None),
]

TAGS = [
    ("Fiction", "fiction"),
    ("Science", "science"),
    ("History", "history"),
    ("Computing", "computing"),
    ("Classics", "classics"),
]

TOPICS = ["Engines", "Machines", "Compilers", "Numbers", "Patterns", "Signals"]
ADJECTIVES = ["Analytical", "Universal", "Curious", "Practical", "Hidden"]
STATUSES = [Book.Status.DRAFT, Book.Status.PUBLISHED, Book.Status.ARCHIVED]

# Fixed namespace so every run derives the same ISBN UUIDs.
ISBN_NAMESPACE = uuid.UUID("6f1d3c1e-3c51-4d8e-9b7a-2f0e5a9c4d10")


class Command(BaseCommand):
    help = "Seed the demo library (authors, tags, books) and the users alice, bob and carol."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default="demo-password",
            help="Password for the demo users (default: %(default)s).",
        )

    def handle(self, *args, password, **options):
        if Book.objects.exists() or User.objects.filter(username="alice").exists():
            if options["verbosity"] > 1:
                self.stdout.write("demo data already present; nothing to do")
            return
        with transaction.atomic():
            authors = [Author.objects.create(name=name, email=email, birth_date=born) for name, email, born in AUTHORS]
            tags = [Tag.objects.create(name=name, slug=slug) for name, slug in TAGS]
            for n in range(BOOK_COUNT):
                self.create_book(n, authors, tags)
            self.create_users(password)
        if options["verbosity"] > 0:
            self.stdout.write(
                f"seeded {len(AUTHORS)} authors, {len(TAGS)} tags, {BOOK_COUNT} books and users alice, bob, carol"
            )

    def create_book(self, n, authors, tags):
        topic = TOPICS[n % len(TOPICS)]
        title = f"The {ADJECTIVES[n % len(ADJECTIVES)]} {topic}, Volume {n + 1}"
        slug = f"book-{n + 1:02d}"
        book = Book.objects.create(
            title=title,
            slug=slug,
            summary="" if n % 4 == 0 else f"Volume {n + 1} of a series on {topic.lower()}.",
            status=STATUSES[n % len(STATUSES)],
            pages=80 + 7 * n,
            price=Decimal("9.99") + Decimal(n % 10) * Decimal("2.50"),
            rating=None if n % 5 == 0 else round(2.5 + (n % 6) * 0.5, 1),
            in_print=n % 3 != 2,
            published=None if n % 3 == 0 else date(1990, 1, 1) + timedelta(days=97 * n),
            isbn=uuid.uuid5(ISBN_NAMESPACE, slug),
            author=authors[n % len(authors)],
            metadata={} if n % 2 else {"edition": 1 + n % 3, "language": "en"},
            reading_time=None if n % 4 == 1 else timedelta(hours=1 + n % 5, minutes=15 * (n % 4)),
            website="" if n % 3 else f"https://example.com/books/{slug}",
        )
        if n % 2 == 0:
            book.tags.set([tags[n % len(tags)], tags[(n + 2) % len(tags)]])
        if n % 10 == 0:
            book.cover.save(f"{slug}.png", ContentFile(TINY_PNG))

    def create_users(self, password):
        User.objects.create_superuser("alice", "alice@example.com", password)
        bob = User.objects.create_user("bob", "bob@example.com", password, is_staff=True)
        # Bob may look at authors only, so the admin refuses him every Book tool.
        bob.user_permissions.add(Permission.objects.get(content_type__app_label="library", codename="view_author"))
        User.objects.create_user("carol", "carol@example.com", password)
