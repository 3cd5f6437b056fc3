"""Writes a synthetic Django project with N admin-registered models (the side-by-side bench).

The same project runs under both packages (each in its own virtualenv, with its own SQLite
file or PostgreSQL database): its settings read the environment —

    BENCH_DB        the SQLite file
    BENCH_DATABASE_URL  a PostgreSQL database (postgres://user:password@host:port/name) instead
    BENCH_WITH_MCP  "1": `django_mcp` installed and `/mcp/` routed; "0": the floor server only
    BENCH_LOG       where the packages' log lines (audit included) are written
    BENCH_MCP_DISCOVERY  `DJANGO_MCP_DISCOVERY` ("auto", the package's default, unless set)
    BENCH_DB_POOL   "1": on PostgreSQL, Django's connection pool (`OPTIONS: {"pool": True}`)
    BENCH_MCP_THREADS  `DJANGO_MCP_THREADS`, with `CONN_MAX_AGE = None` (what SQLite users should set
                    under ASGI); unset: neither

Layout of the generated project:

    benchproj/   settings, urls (admin, /api/ router, /floor/ views, /mcp/), asgi
    gen/         the models `Thing000` … (ten fields of mixed types each, a foreign key to the
                 next model), one ModelAdmin class for all of them (list_display, search_fields,
                 list_filter, list_select_related, one action), DRF ModelViewSets for the first
                 few on a router, the floor views (`floor.py`), the `bench_seed` command.

`Thing000` is the measured model (it gets the rows); its foreign key points at `Thing001`.
"""

from __future__ import annotations

from pathlib import Path

#: A typical `find_tools` query: it names one generated model (in lower case, as typed).
FIND_QUERY = "show the active {lower} records in review"
STATUS = [("draft", "Draft"), ("review", "In review"), ("published", "Published"), ("archived", "Archived")]

SETTINGS = """\
import os

BASE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET_KEY = "side-by-side-bench-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
WITH_MCP = os.environ.get("BENCH_WITH_MCP", "1") == "1"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "gen",
] + (["django_mcp"] if WITH_MCP else [])
# the package's default; `discovery.py` states it ("auto": a superuser here is listed the meta-tools)
DJANGO_MCP_DISCOVERY = os.environ.get("BENCH_MCP_DISCOVERY", "auto")
if os.environ.get("BENCH_MCP_THREADS"):
    DJANGO_MCP_THREADS = int(os.environ["BENCH_MCP_THREADS"])

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "benchproj.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
if os.environ.get("BENCH_DATABASE_URL"):
    from urllib.parse import unquote, urlsplit

    _url = urlsplit(os.environ["BENCH_DATABASE_URL"])
    DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": unquote(_url.path.lstrip("/")),
                             "USER": unquote(_url.username or ""), "PASSWORD": unquote(_url.password or ""),
                             "HOST": _url.hostname or "", "PORT": str(_url.port or "")}}
    if os.environ.get("BENCH_DB_POOL") == "1":  # what users should set under ASGI (Django 5.1+, psycopg[pool])
        DATABASES["default"]["OPTIONS"] = {"pool": True}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["BENCH_DB"]}}
if os.environ.get("BENCH_MCP_THREADS"):
    DATABASES["default"]["CONN_MAX_AGE"] = None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"

REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}

# Both packages log an audit line per request; it goes to a file, as in a deployment.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"file": {"class": "logging.FileHandler", "filename": os.environ.get("BENCH_LOG", os.devnull)}},
    "loggers": {
        "django_mcp": {"handlers": ["file"], "level": "INFO", "propagate": False},
        "django": {"handlers": ["file"], "level": "WARNING", "propagate": False},
    },
}
"""

URLS = """\
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from gen.api import router

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include((router.urls, "api"))),
    path("floor/", include("gen.floor")),
]
if settings.WITH_MCP:
    urlpatterns.append(path("mcp/", include("django_mcp.urls")))
"""

ASGI = """\
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproj.settings")
application = get_asgi_application()
"""

MANAGE = """\
#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchproj.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""

APPS = """\
from django.apps import AppConfig


class GenConfig(AppConfig):
    name = "gen"
    default_auto_field = "django.db.models.BigAutoField"
"""

MODEL = """

class {name}(models.Model):
    name = models.CharField(max_length=100)
    notes = models.TextField(blank=True)
    qty = models.IntegerField(default=0)
    price = models.DecimalField(max_digits=8, decimal_places=2)
    active = models.BooleanField(default=False)
    day = models.DateField()
    stamp = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=STATUS, default="draft")
    ref = models.ForeignKey("{target}", null=True, blank=True, on_delete=models.SET_NULL)
    email = models.EmailField(blank=True)

    def __str__(self):
        return self.name
"""

MODELS_HEAD = '''\
from django.conf import settings
from django.db import models

STATUS = {status!r}


class FloorToken(models.Model):
    """The floor's bearer token: one indexed lookup, as DRF's TokenAuthentication does."""

    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
'''

ADMIN = """\
from django.apps import apps
from django.contrib import admin

from gen.models import FloorToken


@admin.action(description="Mark selected as active")
def mark_active(modeladmin, request, queryset):
    queryset.update(active=True)


class ThingAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "qty", "price", "active", "status", "day", "ref")
    list_select_related = ("ref",)
    search_fields = ("name", "email")
    list_filter = ("status", "active", "day")
    actions = [mark_active]


for model in apps.get_app_config("gen").get_models():
    if model is not FloorToken:
        admin.site.register(model, ThingAdmin)
"""

API_HEAD = '''\
from rest_framework import authentication, exceptions, pagination, routers, serializers, viewsets

from gen import models


class Pager(pagination.PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


class FloorTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <FloorToken.key>`: one query (the DRF floor calls the ViewSets
    directly; both MCP packages ignore authentication_classes and act as the key's user)."""

    def authenticate(self, request):
        parts = request.headers.get("Authorization", "").split()
        if len(parts) != 2 or parts[0] != "Bearer":
            return None
        try:
            token = models.FloorToken.objects.select_related("user").get(key=parts[1])
        except models.FloorToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("bad token") from None
        return token.user, token


router = routers.DefaultRouter()
'''

API_MODEL = '''

class {name}Serializer(serializers.ModelSerializer):
    class Meta:
        model = models.{name}
        fields = "__all__"


class {name}ViewSet(viewsets.ModelViewSet):
    """{name} records."""

    queryset = models.{name}.objects.all().order_by("pk")
    serializer_class = {name}Serializer
    pagination_class = Pager
    authentication_classes = [FloorTokenAuthentication]


router.register("{lower}", {name}ViewSet, basename="{lower}")
'''

FLOOR = '''\
"""The floor: bare Django views doing the ORM work of the measured MCP operations on
`{measured}`, through the same middleware and server, answering JSON. POST with a JSON body,
as an MCP request is.

`/floor/auth/<op>/` authenticates a bearer token first (one indexed query, as any
token-authenticated API view pays); `/floor/bare/<op>/` acts as the bench user without asking.
The `work_*` functions are the ORM work alone (the "ORM" column).
"""

import datetime
import decimal
import json

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from gen.models import FloorToken, {measured} as Model

COLUMNS = ["id", "name", "qty", "price", "active", "status", "day", "ref"]
ACTION = "mark_active"
_user = []


def to_json(field, value):
    if isinstance(value, decimal.Decimal):
        return str(value.quantize(decimal.Decimal(1).scaleb(-field.decimal_places)))
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def row(obj, fields):
    return {{f.name: to_json(f, getattr(obj, f.attname)) for f in fields}}


def model_admin():
    return admin.site._registry[Model]


def work_ping(request, args):
    return {{"jsonrpc": "2.0", "id": 1, "result": {{}}}}


def work_list(request, args):
    """A changelist page: get_queryset, list_select_related, get_search_results for q, the
    pk ordering, the list_display columns, the count."""
    ma = model_admin()
    queryset = ma.get_queryset(request).select_related(*ma.list_select_related)
    if args.get("q"):
        queryset, duplicates = ma.get_search_results(request, queryset, args["q"])
        if duplicates:
            queryset = queryset.distinct()
    queryset = queryset.order_by("pk")
    size = int(args.get("page_size", 50))
    fields = [Model._meta.get_field(c) for c in COLUMNS]
    count = queryset.count()
    return {{"results": [row(o, fields) for o in queryset[:size]], "count": count, "page": 1, "page_size": size}}


def _object(ma, request, obj):
    names = ["id", *ma.get_fields(request, obj)]
    return row(obj, [Model._meta.get_field(n) for n in names])


def work_retrieve(request, args):
    ma = model_admin()
    obj = ma.get_queryset(request).get(pk=args["pk"])
    if not ma.has_view_permission(request, obj):
        raise PermissionError
    return {{"object": _object(ma, request, obj)}}


def work_create(request, args):
    """The admin's add view without HTML: its form, save_model, save_related, the history."""
    ma = model_admin()
    with transaction.atomic():
        form = ma.get_form(request, None, change=False)(args["fields"])
        if not form.is_valid():
            raise ValueError(form.errors.as_json())
        obj = form.save(commit=False)
        ma.save_model(request, obj, form, False)
        ma.save_related(request, form, [], False)
        ma.log_addition(request, obj, [{{"added": {{}}}}])
    return {{"object": _object(ma, request, obj)}}


def work_update(request, args):
    """The admin's change view without HTML: the object through get_queryset, the change
    permission, its form bound to the sent fields, save, the history."""
    ma = model_admin()
    with transaction.atomic():
        obj = ma.get_queryset(request).get(pk=args["pk"])
        if not ma.has_change_permission(request, obj):
            raise PermissionError
        form = ma.get_form(request, obj, change=True)(args["fields"], instance=obj)
        if not form.is_valid():
            raise ValueError(form.errors.as_json())
        obj = form.save(commit=False)
        ma.save_model(request, obj, form, True)
        ma.save_related(request, form, [], True)
        ma.log_change(request, obj, [{{"changed": {{"fields": sorted(form.changed_data)}}}}])
    return {{"object": _object(ma, request, obj)}}


def work_action(request, args):
    """The changelist's action POST: the action from get_actions, on the selected rows."""
    ma = model_admin()
    func = ma.get_actions(request)[ACTION][0]
    with transaction.atomic():
        queryset = ma.get_queryset(request).filter(pk__in=args["pks"])
        updated = queryset.count()
        func(ma, request, queryset)
    return {{"updated": updated, "message": None}}


WORK = {{"ping": work_ping, "list": work_list, "retrieve": work_retrieve, "create": work_create,
        "update": work_update, "action": work_action}}


def bench_user():
    if not _user:
        _user.append(get_user_model().objects.get(username="bench"))
    return _user[0]


def _view(work, authenticate):
    @csrf_exempt
    def view(request):
        if authenticate:
            parts = request.headers.get("Authorization", "").split()
            if len(parts) != 2 or parts[0] != "Bearer":
                return JsonResponse({{}}, status=401)
            try:
                request.user = FloorToken.objects.select_related("user").get(key=parts[1]).user
            except FloorToken.DoesNotExist:
                return JsonResponse({{}}, status=401)
        else:
            request.user = bench_user()
        args = json.loads(request.body or b"{{}}")
        return JsonResponse(work(request, args))

    return view


urlpatterns = [path(f"{{mode}}/{{name}}/", _view(work, mode == "auth"))
               for name, work in WORK.items() for mode in ("auth", "bare")]
'''

SEED = '''\
"""Seed the bench database: the bench superuser, its floor token, {measured} rows, a few in the
others (deterministic)."""

import datetime
import decimal
import random

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from gen import models
from gen.models import FloorToken

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
STATUS = [s for s, _ in models.STATUS]


def rows(model, count, rng, ref_count):
    base = datetime.date(2020, 1, 1)
    start = timezone.make_aware(datetime.datetime(2024, 1, 1))
    for i in range(count):
        word = WORDS[i % len(WORDS)]
        yield model(
            name=f"{{word}} item {{i:05d}}",
            notes=f"Notes on {{word}} item {{i}}: " + " ".join(rng.choice(WORDS) for _ in range(12)),
            qty=rng.randint(0, 1000),
            price=decimal.Decimal(rng.randint(100, 99999)) / 100,
            active=rng.random() < 0.5,
            day=base + datetime.timedelta(days=rng.randint(0, 1500)),
            stamp=start + datetime.timedelta(minutes=rng.randint(0, 500000)),
            status=STATUS[i % len(STATUS)],
            ref_id=(rng.randint(1, ref_count) if ref_count else None),
            email=f"{{word}}{{i}}@example.com",
        )


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=10000)

    def handle(self, *args, **options):
        rng = random.Random(42)
        user = get_user_model().objects.create_superuser("bench", "bench@example.com", None)
        token = FloorToken.objects.create(key="floor-" + "%032x" % rng.getrandbits(128), user=user)
        things = sorted((m for m in apps.get_app_config("gen").get_models() if m is not FloorToken),
                        key=lambda m: m.__name__)
        # Targets first: the measured model's foreign key points at the second model.
        order = things[1:] + things[:1]
        for model in order:
            if model is things[0]:
                count, ref_count = options["rows"], (100 if len(things) > 1 else 0)
            else:
                count, ref_count = (100 if model is things[1] else 3), 0
            model.objects.bulk_create(rows(model, count, rng, ref_count), batch_size=500)
        self.stdout.write(token.key)
'''


def model_names(n: int) -> list[str]:
    width = max(3, len(str(n - 1)))
    return [f"Thing{i:0{width}d}" for i in range(n)]


def write_project(dest: Path, n_models: int, n_drf: int = 10) -> dict:
    """Write the project under `dest`; returns what the bench needs to know about it."""
    names = model_names(n_models)
    measured = names[0]
    files = {
        "manage.py": MANAGE,
        "benchproj/__init__.py": "",
        "benchproj/settings.py": SETTINGS,
        "benchproj/urls.py": URLS,
        "benchproj/asgi.py": ASGI,
        "gen/__init__.py": "",
        "gen/apps.py": APPS,
        "gen/admin.py": ADMIN,
        "gen/floor.py": FLOOR.format(measured=measured),
        "gen/management/__init__.py": "",
        "gen/management/commands/__init__.py": "",
        "gen/management/commands/bench_seed.py": SEED.format(measured=measured),
    }
    models_src = MODELS_HEAD.format(status=STATUS)
    for i, name in enumerate(names):
        models_src += MODEL.format(name=name, target=names[(i + 1) % n_models])
    files["gen/models.py"] = models_src
    api_src = API_HEAD
    drf = names[: min(n_drf, n_models)]
    for name in drf:
        api_src += API_MODEL.format(name=name, lower=name.lower())
    files["gen/api.py"] = api_src
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    # the model find_tools is asked for: one in the middle, not the measured one
    target = names[len(names) // 2]
    return {"models": names, "measured": measured, "drf": drf, "find_query": FIND_QUERY.format(lower=target.lower())}
