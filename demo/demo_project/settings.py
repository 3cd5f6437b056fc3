"""Settings for the demo project: a small library catalogue served to MCP clients.

Environment: DEMO_DB (SQLite file), DEMO_DATABASE_URL (PostgreSQL instead, as
postgres://user:password@host:port/name), DEMO_MEDIA (uploads), DEMO_DEBUG ("1" / "0"),
DEMO_SECRET_KEY, DEMO_LOG_LEVEL (for the django_mcp loggers), DEMO_LOG_FORMAT (their line format,
e.g. with %(process)d to tell the workers of a multi-process server apart), DEMO_MCP_DISCOVERY
(DJANGO_MCP_DISCOVERY: the package's default, "auto", unless set; the test suite sets "off").
"""

import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DEMO_SECRET_KEY", "demo-only-insecure-secret-key")
DEBUG = os.environ.get("DEMO_DEBUG", "1").lower() in ("1", "true", "yes", "on")
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_mcp",
    "library",
]

# The library's REST API needs Django REST framework and django-filter; without them the
# demo serves everything else (django_mcp itself never requires DRF).
try:
    import django_filters  # noqa: F401
    import rest_framework  # noqa: F401
except ImportError:
    HAS_REST_API = False
else:
    HAS_REST_API = True
    INSTALLED_APPS += ["rest_framework", "django_filters"]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "demo_project.wsgi.application"
ASGI_APPLICATION = "demo_project.asgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DEMO_DB", str(BASE_DIR / "db.sqlite3")),
        # Writers take the lock when their transaction starts: with several workers, a
        # deferred transaction that later needs to write fails with "database is locked".
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},
    }
}
if os.environ.get("DEMO_DATABASE_URL"):
    # PostgreSQL instead: postgres://user:password@host:port/name (psycopg 3 installed).
    _url = urlsplit(os.environ["DEMO_DATABASE_URL"])
    if _url.scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured("DEMO_DATABASE_URL must be a postgres://user:password@host:port/name URL.")
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(_url.path.lstrip("/")),
        "USER": unquote(_url.username or ""),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": _url.hostname or "",
        "PORT": str(_url.port or ""),
    }

AUTH_PASSWORD_VALIDATORS = []  # demo users have demo passwords

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
MEDIA_URL = "media/"
MEDIA_ROOT = os.environ.get("DEMO_MEDIA", str(BASE_DIR / "media"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The library's public pages (no login needed on the site) are tools too; by default only
# views with a recognised authorization gate are served.
DJANGO_MCP_REQUIRE_AUTH = False

# Over 40 tools for a superuser: by default ("auto") they find tools through find_tools.
DJANGO_MCP_DISCOVERY = os.environ.get("DEMO_MCP_DISCOVERY", "auto")

# Search tools beside the admin's list tools; results carry only the fields listed.
DJANGO_MCP_MODEL_SEARCH = [
    {
        "model": "library.Book",
        "search_fields": ["title", "summary", "author__name"],
        "filter_fields": ["status", "in_print", "author"],
        "fields": ["id", "title", "status", "published", "author", "tags"],
    },
    {"model": "library.Author", "search_fields": ["name"], "fields": ["id", "name", "birth_date"]},
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": os.environ.get("DEMO_LOG_FORMAT", "%(levelname)s %(name)s %(message)s")}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
        },
    },
    "loggers": {
        "django_mcp": {
            "handlers": ["stderr"],
            "level": os.environ.get("DEMO_LOG_LEVEL", "INFO"),
            # Propagating lets test log capture (attached to the root logger) see the records.
            "propagate": True,
        },
    },
}
