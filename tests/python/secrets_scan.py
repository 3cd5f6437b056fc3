"""A pytest plugin (registered by conftest.py): nothing secret leaves the server, checked over
the whole test session.

While the tests run, every MCP response produced in this process is recorded — each
`server.handle` Outcome's reply and notifications (HTTP through Django's test client, and
STDIO) and each refusal the transports answer without stepping a request (`server.refuse`)
— together with every audit line (`audit.record`, logger `django_mcp.audit`). Each is scanned
as sent and with its JSON strings decoded (a traceback inside a JSON string has its quotes
escaped) for:

- Python exception text: `Traceback (most recent call last)`, `File "…", line N`;
- SQL and database errors: `SELECT … FROM`, `INSERT INTO`, `UPDATE … SET`, `DELETE FROM`,
  `sqlite3.`, `OperationalError` / `IntegrityError` / …, `django.db.utils.`, SQLite's
  `… constraint failed` and `no such table/column`;
- this machine's paths: the repository root, `site-packages` / `dist-packages`, the standard
  library's directory, `/tmp/`, the home directory;
- Django password hashes (`pbkdf2_sha256$…`, `md5$…`, `argon2$argon2id$…`, `bcrypt$…`, …);
- the secret of every key minted in this process (`MCPAPIKey.objects.create_key` and
  `MCPAPIKey.rotate` are spied on), bare or as its stored `sha256$` digest.

A last test item, `secrets-scan`, runs after all the others and fails listing each finding
with the test that produced it. Servers in other processes (the live uvicorn server, the
`mcp_server` subprocesses) are not covered: their responses never pass through this process.
The spies only observe: every wrapped call returns what it returned before.
"""

import contextlib
import functools
import hashlib
import html
import json
import re
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: How many findings the report shows (all are counted).
SHOWN = 50
SECRET_LENGTH = 32  # secrets.token_urlsafe(24)
DIGEST_LENGTH = 64  # sha256 hex


def _machine_paths():
    paths = {str(ROOT), "/tmp/", "site-packages", "dist-packages", sysconfig.get_paths()["stdlib"]}
    home = str(Path.home())
    if home not in ("/", ""):
        paths.add(home.rstrip("/") + "/")
    return sorted(paths, key=len, reverse=True)


#: (category, literal texts one of which a match must contain, compiled pattern). The literals
#: are looked for first (fast); the pattern only runs on texts that have one. Case-sensitive
#: where a word is also plain English.
PATTERNS = [
    ("traceback", ("Traceback",), re.compile(r"Traceback \(most recent call last\)")),
    ("traceback", ('File "',), re.compile(r'File "[^"\n]{1,500}", line \d+')),
    ("SQL", ("SELECT",), re.compile(r"\bSELECT\b[^\n]{0,2000}?\bFROM\b")),
    (
        "SQL",
        ("INSERT INTO", "DELETE FROM", "UPDATE"),
        re.compile(r"\bINSERT INTO\b|\bDELETE FROM\b|\bUPDATE\s+\"?\w+\"?\s+SET\b"),
    ),
    (
        "database error",
        (
            "sqlite3.",
            "django.db.utils.",
            "OperationalError",
            "IntegrityError",
            "ProgrammingError",
            "DataError",
            "InterfaceError",
            "DatabaseError",
            "constraint failed",
            "no such ",
        ),
        re.compile(
            r"\bsqlite3\.|\bdjango\.db\.utils\.|\b(?:OperationalError|IntegrityError|ProgrammingError|DataError"
            r"|InterfaceError|DatabaseError)\b|\b(?:UNIQUE|NOT NULL|FOREIGN KEY|CHECK) constraint failed\b"
            r"|\bno such (?:table|column)\b"
        ),
    ),
    (
        "password hash",
        ("pbkdf2_", "sha1$", "md5$", "crypt$", "bcrypt", "argon2$"),
        re.compile(
            r"\b(?:pbkdf2_sha256|pbkdf2_sha1|sha1|md5|unsalted_md5|unsalted_sha1|scrypt|bcrypt|bcrypt_sha256|crypt)\$"
            r"|\bargon2\$argon2(?:id|i|d)\$"
        ),
    ),
    ("machine path", tuple(_machine_paths()), re.compile("|".join(re.escape(p) for p in _machine_paths()))),
]

#: The ASCII characters outside the secrets' alphabet (urlsafe base64), mapped to a space
#: (other characters stay, and no window holding one is a secret).
_OUTSIDE_SECRETS = str.maketrans({chr(c): " " for c in range(128) if not (chr(c).isalnum() or chr(c) in "-_")})
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def _unescape(match):
    escaped = match.group(1)
    if escaped[0] == "u" and len(escaped) == 5:
        return chr(int(escaped[1:], 16))
    return _SIMPLE_ESCAPES.get(escaped, escaped)


def _decoded(text):
    """The text with its JSON string escapes undone (and HTML entities), or "" when that
    changes nothing: a traceback inside a JSON string has its quotes escaped."""
    decoded = _ESCAPE.sub(_unescape, text) if "\\" in text else text
    if "&" in decoded:
        decoded = html.unescape(decoded)
    return decoded if decoded != text else ""


class Scanner:
    """Scans texts for the patterns above and for the key secrets it was told about."""

    def __init__(self):
        self.secrets = set()
        self.digests = set()
        self.findings = []
        self.count = 0
        self.scanned = 0

    def add_secret(self, secret):
        if isinstance(secret, str) and len(secret) >= SECRET_LENGTH:
            self.secrets.add(secret)
            self.digests.add(hashlib.sha256(secret.encode()).hexdigest())

    def matches(self, text):
        """[(category, excerpt)] for one text: each category once, as sent or else with its
        JSON strings decoded. Excerpts never show a known secret in full."""
        found = {}
        for variant in (text, _decoded(text)):
            if not variant:
                continue
            for category, needles, pattern in PATTERNS:
                if category in found or not any(needle in variant for needle in needles):
                    continue
                match = pattern.search(variant)
                if match:
                    found[category] = _excerpt(variant, match.start(), match.end())
        # The secrets' alphabet is never escaped in JSON: the text as sent is enough.
        for category, excerpt in self._secret_matches(text):
            found.setdefault(category, excerpt)
        return [(category, self._masked(excerpt)) for category, excerpt in found.items()]

    def _masked(self, excerpt):
        for secret in self.secrets:
            if secret in excerpt:
                excerpt = excerpt.replace(secret, secret[:4] + f"…({len(secret)} chars)")
        return excerpt

    def _secret_matches(self, text):
        # Secrets (and their hex digests) are words of the urlsafe alphabet: look each word
        # long enough to hold one up by its windows, rather than searching the text once per
        # minted secret.
        if not self.secrets:
            return
        for word in text.translate(_OUTSIDE_SECRETS).split():
            if len(word) < SECRET_LENGTH:
                continue
            for known, width, category in (
                (self.secrets, SECRET_LENGTH, "key secret"),
                (self.digests, DIGEST_LENGTH, "key secret digest"),
            ):
                for start in range(len(word) - width + 1):
                    if word[start : start + width] in known:
                        position = text.find(word[start : start + width])
                        yield category, _excerpt(text, position, position + width)
                        break

    def scan(self, text, source, test):
        if not isinstance(text, str) or not text:
            return
        self.scanned += 1
        for category, excerpt in self.matches(text):
            self.count += 1
            if len(self.findings) < SHOWN:
                self.findings.append((test, source, category, excerpt))

    def report(self):
        lines = [f"{self.count} finding(s) in {self.scanned} scanned response bodies and audit lines:"]
        for test, source, category, excerpt in self.findings:
            lines.append(f"  [{category}] in {source} during {test or '<outside a test>'}:\n      {excerpt!r}")
        if self.count > len(self.findings):
            lines.append(f"  … and {self.count - len(self.findings)} more")
        return "\n".join(lines)


def _excerpt(text, start, end):
    return text[max(0, start - 60) : end + 60]


# --- the plugin ---------------------------------------------------------------------------

scanner = Scanner()
_current = {"test": None}
_undo = []


def _patch(owner, name, make_wrapper):
    original = getattr(owner, name)
    wrapper = functools.wraps(original)(make_wrapper(original))
    setattr(owner, name, wrapper)
    _undo.append((owner, name, original))


def install():
    """Wrap the entry points; each wrapper returns exactly what the original returned."""
    from django_mcp import audit, server
    from django_mcp.models import MCPAPIKey, MCPAPIKeyManager

    def handle(original):
        def wrapper(*args, **kwargs):
            outcome = original(*args, **kwargs)
            with _never_fails():
                reply = None if outcome.reply is None else outcome.reply.decode("utf-8")
                for message in (*outcome.notifications, reply):
                    scanner.scan(message, "MCP response", _current["test"])
            return outcome

        return wrapper

    def audit_record(original):
        def wrapper(**fields):
            result = original(**fields)
            with _never_fails():
                entry = {name: fields.get(name) for name in audit.FIELDS}
                scanner.scan(json.dumps(entry, default=str), "audit line", _current["test"])
            return result

        return wrapper

    def create_key(original):
        def wrapper(*args, **kwargs):
            key, secret = original(*args, **kwargs)
            scanner.add_secret(secret)
            return key, secret

        return wrapper

    def rotate(original):
        def wrapper(*args, **kwargs):
            secret = original(*args, **kwargs)
            scanner.add_secret(secret)
            return secret

        return wrapper

    _patch(server, "handle", handle)
    _patch(server, "refuse", handle)
    _patch(audit, "record", audit_record)
    _patch(MCPAPIKeyManager, "create_key", create_key)
    _patch(MCPAPIKey, "rotate", rotate)


def uninstall():
    while _undo:
        owner, name, original = _undo.pop()
        setattr(owner, name, original)


@contextlib.contextmanager
def _never_fails():
    """A bug in the scan must not change what a test sees; it is reported at the end instead."""
    try:
        yield
    except Exception as exc:  # pragma: no cover - the scan's own failure
        scanner.count += 1
        scanner.findings.append((_current["test"], "the scanner itself", "scanner error", repr(exc)))


class SecretsFound(Exception):
    pass


class ScanItem(pytest.Item):
    """Runs after every other test: fails if anything was found."""

    def runtest(self):
        if scanner.count:
            raise SecretsFound(scanner.report())

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, SecretsFound):
            return "secrets scan: " + str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return Path(__file__), None, "secrets-scan"


def pytest_sessionstart(session):
    install()


def pytest_sessionfinish(session):
    uninstall()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    if items:
        items.append(ScanItem.from_parent(session, name="secrets-scan", nodeid="secrets_scan.py::secrets-scan"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    _current["test"] = item.nodeid
    try:
        return (yield)
    finally:
        _current["test"] = None
