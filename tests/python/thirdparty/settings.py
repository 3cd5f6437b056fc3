"""The demo project plus admin registrations nobody here wrote: auth, flatpages, redirects,
sites, django-celery-beat and django-taggit; a second admin site (`thirdparty.admin.pages_site`)
whose FlatPage admin restricts changes object by object; and djoser's REST API for users (its
UserViewSet on its own router, under /auth/), with djoser's default settings.

Environment: as the demo (DEMO_DB, DEMO_MEDIA, DEMO_DEBUG, …), plus THIRDPARTY_SQL_LOG: a file
that receives, one JSON line per MCP request, the SQL that request ran (see `middleware.py`).
"""

import importlib.util

from demo_project.settings import *  # noqa: F403
from demo_project.settings import INSTALLED_APPS, MIDDLEWARE

# django-celery-beat 2.9.0, its newest release, requires Django<6.1: on a newer Django the
# project runs without it (test_thirdparty_admins.py skips its admins' cases, and noxfile.py
# leaves out the discovery suites, which count on them).
CELERY_BEAT = ["django_celery_beat"] if importlib.util.find_spec("django_celery_beat") else []

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.redirects",
    *CELERY_BEAT,
    "taggit",
    "djoser",
    "thirdparty",
]
SITE_ID = 1

MIDDLEWARE = ["thirdparty.middleware.SQLTrail", *MIDDLEWARE]

ROOT_URLCONF = "thirdparty.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "thirdparty.asgi.application"

DJANGO_MCP_ADMIN_SITES = ("django.contrib.admin.site", "thirdparty.admin.pages_site")

# djoser's defaults, but for its token model: this project mounts djoser's users API without
# its token endpoints (and without rest_framework.authtoken), so there are no tokens for
# djoser to delete when a user deletes themself.
DJOSER = {"TOKEN_MODEL": None}
