"""`manage.py thirdparty_seed`: the demo data (`demo_seed`) plus rows for every third-party
admin and the users the tests act as. Runs once on an empty database."""

import datetime

from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.contrib.flatpages.models import FlatPage
from django.contrib.redirects.models import Redirect
from django.contrib.sites.models import Site
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from taggit.models import Tag

from thirdparty.admin import EDITORS
from thirdparty.models import Bookmark

PASSWORD = "demo-password"


class Command(BaseCommand):
    help = "Seed the demo library, third-party rows and the users victor (view-only) and dave (page editor)."

    def handle(self, *args, **options):
        call_command("demo_seed", verbosity=0, password=PASSWORD)
        with transaction.atomic():
            self.users()
            self.pages()
            if apps.is_installed("django_celery_beat"):  # see settings.py
                self.schedules()
            self.bookmarks()
            self.doomed()

    def users(self):
        victor = User.objects.create_user("victor", "victor@example.com", PASSWORD, is_staff=True)
        victor.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
        dave = User.objects.create_user("dave", "dave@example.com", PASSWORD, is_staff=True)
        dave.groups.add(Group.objects.create(name=EDITORS))
        librarians = Group.objects.create(name="librarians")
        librarians.permissions.set(Permission.objects.filter(content_type__app_label="library"))

    def pages(self):
        main = Site.objects.get(pk=1)
        docs = Site.objects.create(domain="docs.example.com", name="Docs")
        for url, title, sites in [
            ("/about/", "About us", [main]),
            ("/legal/", "Legal notice", [main, docs]),
            ("/dave/notes/", "Dave's notes", [main]),
            ("/dave/todo/", "Dave's to-do list", [docs]),
        ]:
            page = FlatPage.objects.create(url=url, title=title, content=f"<p>{title}</p>")
            page.sites.set(sites)
        for old, new in [("/old-about/", "/about/"), ("/gone/", ""), ("/legal.html", "/legal/")]:
            Redirect.objects.create(site=main, old_path=old, new_path=new)

    def schedules(self):
        from django_celery_beat.models import (
            ClockedSchedule,
            CrontabSchedule,
            IntervalSchedule,
            PeriodicTask,
            SolarSchedule,
        )

        every_10s = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.SECONDS)
        hourly = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
        nightly = CrontabSchedule.objects.create(minute="0", hour="3", timezone="UTC")
        SolarSchedule.objects.create(event="sunrise", latitude="52.520000", longitude="13.405000")
        ClockedSchedule.objects.create(clocked_time=datetime.datetime(2030, 1, 1, 12, tzinfo=datetime.timezone.utc))
        PeriodicTask.objects.create(name="heartbeat", task="ops.heartbeat", interval=every_10s, enabled=True)
        PeriodicTask.objects.create(
            name="hourly report", task="ops.report", interval=hourly, enabled=False, kwargs='{"format": "pdf"}'
        )
        PeriodicTask.objects.create(name="nightly cleanup", task="ops.cleanup", crontab=nightly, enabled=True)

    def bookmarks(self):
        for title, url, tags in [
            ("Django", "https://www.djangoproject.com/", ["python", "web"]),
            ("MCP", "https://modelcontextprotocol.io/", ["ai", "protocols"]),
            ("Celery", "https://docs.celeryq.dev/", ["python", "queues"]),
        ]:
            Bookmark.objects.create(title=title, url=url).tags.set(tags)
        Tag.objects.get_or_create(name="unused", slug="unused")

    def doomed(self):
        """Rows that exist only to be deleted by `delete_selected`."""
        for name in ("doomed group 1", "doomed group 2"):
            Group.objects.create(name=name)
        if apps.is_installed("django_celery_beat"):
            from django_celery_beat.models import IntervalSchedule

            for every in (42, 43):
                IntervalSchedule.objects.create(every=every, period=IntervalSchedule.DAYS)
        Tag.objects.create(name="doomed tag", slug="doomed-tag")
        Site.objects.create(domain="doomed.example.com", name="Doomed")
