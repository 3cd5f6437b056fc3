"""The demo project plus admin registrations nobody here wrote: auth, flatpages, redirects,
sites, django-celery-beat and django-taggit; and a second admin site (`thirdparty.admin.pages_site`)
whose FlatPage admin restricts changes object by object.

Environment: as the demo (DEMO_DB, DEMO_MEDIA, DEMO_DEBUG, …), plus THIRDPARTY_SQL_LOG: a file
that receives, one JSON line per MCP request, the SQL that request ran (see `middleware.py`).
"""

from demo_project.settings import *  # noqa: F403
from demo_project.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.redirects",
    "django_celery_beat",
    "taggit",
    "thirdparty",
]
SITE_ID = 1

MIDDLEWARE = ["thirdparty.middleware.SQLTrail", *MIDDLEWARE]

ROOT_URLCONF = "thirdparty.urls"
WSGI_APPLICATION = None
ASGI_APPLICATION = "thirdparty.asgi.application"

DJANGO_MCP_ADMIN_SITES = ("django.contrib.admin.site", "thirdparty.admin.pages_site")
