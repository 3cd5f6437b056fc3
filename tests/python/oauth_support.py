"""What the OAuth tests share: the demo as its own authorization server (oauth_project) served
by uvicorn, an https server on 127.0.0.1 for client metadata documents, a user agent that logs
in and answers the consent page over HTTP, and a dump of the server's database."""

import base64
import contextlib
import datetime
import hashlib
import html.parser
import ipaddress
import json
import os
import secrets
import shutil
import sqlite3
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest

from conftest import DEMO, ROOT, _manage, serve_uvicorn

PASSWORD = "demo-password"  # demo_seed's
REDIRECT = "http://127.0.0.1:9/callback"  # a loopback redirect no one listens on: read, not followed
ARTIFACTS = ROOT / "tests" / "artifacts"


def project_env(workdir, **extra):
    """The oauth_project's environment: always SQLite (the tests read and change its file)."""
    return {
        **{name: value for name, value in os.environ.items() if name != "DEMO_DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "oauth_project.settings",
        "DEMO_DB": str(workdir / "db.sqlite3"),
        "DEMO_MEDIA": str(workdir / "media"),
        "DEMO_DEBUG": "0",
        "XDG_CACHE_HOME": str(workdir / "cache"),
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "tests" / "python"), str(DEMO), os.environ.get("PYTHONPATH")])
        ),
        **extra,
    }


_seeded = {}


def _seeded_database(tmp_path_factory):
    """The migrated, seeded database, made once per test run and copied for each server."""
    if "path" not in _seeded:
        workdir = tmp_path_factory.mktemp("oauth-seed")
        env = project_env(workdir)
        _manage(env, "migrate", "--verbosity", "0")
        _manage(env, "demo_seed")
        _seeded["path"] = workdir / "db.sqlite3"
    return _seeded["path"]


@contextlib.contextmanager
def oauth_server(tmp_path_factory, **extra_env):
    """The oauth_project served by uvicorn on its own copy of the seeded database. Yields a dict:
    url (the MCP endpoint, no trailing slash: the resource), origin, db, log, env, cimd."""
    workdir = tmp_path_factory.mktemp("oauth-live")
    shutil.copy(_seeded_database(tmp_path_factory), workdir / "db.sqlite3")
    with metadata_documents(workdir) as cimd:
        env = project_env(workdir, OAUTH_TEST_CIMD_CA=str(cimd.ca_file), **extra_env)
        with serve_uvicorn("demo_project.asgi:application", DEMO, env, workdir / "server.log") as url:
            origin = url.removesuffix("/mcp/")
            yield {
                "url": origin + "/mcp",
                "origin": origin,
                "db": workdir / "db.sqlite3",
                "log": workdir / "server.log",
                "env": env,
                "cimd": cimd,
            }


# --- client metadata documents, over https on 127.0.0.1 ----------------------------------


class Documents:
    """Client ID Metadata Documents served at https://127.0.0.1:<port>/<path>; `hits` counts
    the fetches of each path."""

    def __init__(self, ca_file, port):
        self.ca_file, self.port = ca_file, port
        self.documents, self.hits = {}, {}

    def url(self, path):
        return f"https://127.0.0.1:{self.port}/{path}"

    def publish(self, path, document=None, *, body=None, content_type="application/json", delay=0):
        """Serve `document` (its client_id defaults to its own URL) or a raw `body` at `path`;
        returns the URL."""
        url = self.url(path)
        if body is None:
            body = json.dumps({"client_id": url, **(document or {})}).encode()
        self.documents[f"/{path}"] = (body, content_type, delay)
        return url


def _certificates(workdir):
    """A CA and a certificate it signed for 127.0.0.1: (CA file, certificate file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    valid = dict(not_valid_before=now - datetime.timedelta(minutes=5), not_valid_after=now + datetime.timedelta(days=1))

    def certificate(subject, issuer, key, signer, *extensions):
        builder = x509.CertificateBuilder(
            subject_name=subject,
            issuer_name=issuer,
            public_key=key.public_key(),
            serial_number=x509.random_serial_number(),
            **valid,
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(signer, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "django-mcp test CA")])
    # The key identifiers and usages Python 3.13's strict verification (VERIFY_X509_STRICT, which
    # urllib3 turns on there) requires of a CA and of the certificates it signs.
    ca = certificate(
        ca_name,
        ca_name,
        ca_key,
        ca_key,
        (x509.BasicConstraints(ca=True, path_length=None), True),
        (
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        ),
        (x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False),
    )
    leaf = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]),
        ca_name,
        leaf_key,
        ca_key,
        (x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
    )
    files = workdir / "ca.pem", workdir / "leaf.pem", workdir / "leaf.key"
    files[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files[2].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


@contextlib.contextmanager
def metadata_documents(workdir):
    ca_file, cert_file, key_file = _certificates(workdir)
    served = Documents(ca_file, 0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            served.hits[self.path] = served.hits.get(self.path, 0) + 1
            if self.path not in served.documents:
                self.send_error(404)
                return
            body, content_type, delay = served.documents[self.path]
            if delay:
                threading.Event().wait(delay)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # a fetcher that gave up on a slow document closed the connection: as meant

    httpd = Server(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    served.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        httpd.shutdown()
        httpd.server_close()


# --- a user agent: login, consent, the redirect back ------------------------------------------


class _Form(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.fields = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") == "hidden" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def hidden_fields(page):
    form = _Form()
    form.feed(page)
    return form.fields


class UserAgent:
    """A browser's part of the flow, over HTTP: logs in at the site's LOGIN_URL when the
    authorization endpoint sends it there, then approves (or denies) on the consent page."""

    def __init__(self, origin, username="alice", local_address=None):
        self.origin, self.username = origin, username
        transport = httpx2.HTTPTransport(local_address=local_address) if local_address else None
        self.http = httpx2.Client(base_url=origin, follow_redirects=False, timeout=30, transport=transport)
        self.consent_page = None

    def close(self):
        self.http.close()

    def authorize(self, url, approve=True):
        """Follow `url` through login and consent; the final redirect's Location (the client's
        redirect URI with code or error), or the response that was not a redirect."""
        response = self.http.get(url)
        if response.status_code == 302 and "/admin/login/" in response.headers["location"]:
            login = self.http.get(response.headers["location"])
            fields = hidden_fields(login.text)
            done = self.http.post(
                response.headers["location"], data={**fields, "username": self.username, "password": PASSWORD}
            )
            assert done.status_code == 302, done.text[:500]
            response = self.http.get(done.headers["location"])
        if response.status_code != 200:
            return response
        self.consent_page = response.text
        fields = hidden_fields(response.text)
        if approve:
            fields["allow"] = "true"
        answer = self.http.post(urlsplit(url).path, data=fields)
        assert answer.status_code == 302, answer.text[:500]
        return answer.headers["location"]


def pkce():
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_url(
    live,
    client_id,
    challenge=None,
    *,
    method="S256",
    redirect_uri=REDIRECT,
    scope="mcp:read mcp:write",
    resource=None,
    state="state-1",
):
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "scope": scope,
        "resource": resource or live["url"],
    }
    if resource is False:  # a client that names no resource (RFC 8707 is optional in OAuth)
        del params["resource"]
    if challenge is not None:
        params["code_challenge"] = challenge
        if method is not None:
            params["code_challenge_method"] = method
    return f"{live['origin']}/oauth/authorize/?{urlencode(params)}"


def redirected_params(location):
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def register(live, **metadata):
    """RFC 7591 registration of a public client; the response."""
    body = {
        "client_name": "Test client",
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "none",
        **metadata,
    }
    return httpx2.post(f"{live['origin']}/oauth/register/", json=body, timeout=30)


def tokens(live, client_id, username="alice", scope="mcp:read mcp:write", resource=None):
    """A token response after the full code flow (login, consent, code, PKCE exchange), for
    `resource` (default: the endpoint; False: none named)."""
    verifier, challenge = pkce()
    agent = UserAgent(live["origin"], username)
    try:
        location = agent.authorize(authorize_url(live, client_id, challenge, scope=scope, resource=resource))
    finally:
        agent.close()
    code = redirected_params(location)["code"]
    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": client_id,
        "code_verifier": verifier,
        "resource": resource or live["url"],
    }
    if resource is False:
        del exchange["resource"]
    response = httpx2.post(f"{live['origin']}/oauth/token/", data=exchange, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def mcp_post(live, token, method="tools/list", params=None):
    message = {"jsonrpc": "2.0", "id": 1, "method": method, **({"params": params} if params is not None else {})}
    return httpx2.post(
        live["url"] + "/",
        json=message,
        timeout=30,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"},
    )


def db_dump(path):
    """Every row of every table of the server's SQLite database, sorted: equal dumps, same data.
    Sessions are left out: logging in writes one."""
    with contextlib.closing(sqlite3.connect(path)) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
            if table != "django_session"
        }


def sql(path, statement, *params):
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute(statement, params)
        connection.commit()


def audit_lines(log_path):
    with open(log_path) as log:
        return [json.loads(line.partition(" django_mcp.audit ")[2]) for line in log if " django_mcp.audit " in line]


@pytest.fixture(scope="module")
def oauth_live(tmp_path_factory):
    with oauth_server(tmp_path_factory) as live:
        yield live
