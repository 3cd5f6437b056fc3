"""The login → consent → redirect flow in a real browser: Debian's headless chromium, driven
through chromedriver's WebDriver HTTP API, against the site as its own authorization server
(uvicorn). The consent page is kept as a screenshot: tests/artifacts/oauth-consent.png.

scripts/test installs chromium and chromium-driver when they are missing."""

import base64
import contextlib
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest

from servers import free_port, wait_for_port
from fixtures.oauth_support import ARTIFACTS, PASSWORD, authorize_url, mcp_post, oauth_live, pkce, redirected_params

__all__ = ["oauth_live"]  # the fixture, imported for this module's tests

# Root in a container: no sandbox; nothing fetched behind the test's back.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=900,760",
]


class WebDriver:
    """The few WebDriver commands the flow needs (W3C WebDriver, as chromedriver serves it)."""

    def __init__(self, url):
        self.http = httpx2.Client(base_url=url, timeout=60)
        self.session = None

    def command(self, method, path, body=None):
        response = self.http.request(method, path, json=body)
        value = response.json()["value"]
        assert response.status_code == 200, value
        return value

    def start(self, chromium, profile):
        options = {"binary": chromium, "args": [*CHROMIUM_FLAGS, f"--user-data-dir={profile}"]}
        created = self.command(
            "POST",
            "/session",
            {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}}},
        )
        self.session = f"/session/{created['sessionId']}"

    def quit(self):
        if self.session is not None:
            self.command("DELETE", self.session)
        self.http.close()

    def go(self, url):
        self.command("POST", f"{self.session}/url", {"url": url})

    def url(self):
        return self.command("GET", f"{self.session}/url")

    def find(self, css, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            response = self.http.post(f"{self.session}/element", json={"using": "css selector", "value": css})
            if response.status_code == 200:
                return next(iter(response.json()["value"].values()))
            assert time.monotonic() < deadline, f"no {css!r} on {self.url()}"
            time.sleep(0.2)

    def type(self, css, text):
        self.command("POST", f"{self.session}/element/{self.find(css)}/value", {"text": text})

    def click(self, css):
        self.command("POST", f"{self.session}/element/{self.find(css)}/click", {})

    def text(self, css):
        return self.command("GET", f"{self.session}/element/{self.find(css)}/text")

    def screenshot(self, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(self.command("GET", f"{self.session}/screenshot")))


@contextlib.contextmanager
def chromedriver(tmp_path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail(
            "chromium and chromedriver are needed: scripts/test installs them "
            "(apt-get install chromium chromium-driver)"
        )
    port = free_port()
    with open(tmp_path / "chromedriver.log", "w") as log:
        process = subprocess.Popen(
            [driver, f"--port={port}", "--allowed-ips=127.0.0.1"], stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(port, process)
        browser = WebDriver(f"http://127.0.0.1:{port}")
        try:
            browser.start(chromium, tmp_path / "profile")
            yield browser
        finally:
            browser.quit()
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def callback_server():
    """The client's loopback redirect URI: records each request's path and query."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            received.append(self.path)
            body = b"<!DOCTYPE html><title>Connected</title><p>You may close this tab.</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/callback", received
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_user_signs_in_approves_in_chromium_and_the_client_gets_its_token(oauth_live, tmp_path):
    with callback_server() as (redirect_uri, received), chromedriver(tmp_path) as browser:
        registered = httpx2.post(
            f"{oauth_live['origin']}/oauth/register/",
            json={
                "client_name": "Browser test client",
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "none",
            },
        ).json()
        verifier, challenge = pkce()
        browser.go(
            authorize_url(
                oauth_live, registered["client_id"], challenge, redirect_uri=redirect_uri, state="browser-state"
            )
        )

        # Not signed in: the site's login (LOGIN_URL), then back to the authorization endpoint.
        assert "/admin/login/" in browser.url()
        browser.type("#id_username", "alice")
        browser.type("#id_password", PASSWORD)
        browser.click("input[type=submit]")

        assert "Browser test client" in browser.text("h1")
        assert browser.text(".host") == redirect_uri.split("/")[2]
        browser.screenshot(ARTIFACTS / "oauth-consent.png")
        browser.click("button.approve")

        deadline = time.monotonic() + 20
        while not any(path.startswith("/callback?") for path in received) and time.monotonic() < deadline:
            time.sleep(0.1)
    [path] = [path for path in received if path.startswith("/callback?")]  # not /favicon.ico
    params = redirected_params(path)
    assert params["state"] == "browser-state" and params["iss"] == oauth_live["origin"]

    issued = httpx2.post(
        f"{oauth_live['origin']}/oauth/token/",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": redirect_uri,
            "client_id": registered["client_id"],
            "code_verifier": verifier,
            "resource": oauth_live["url"],
        },
    ).json()
    assert mcp_post(oauth_live, issued["access_token"]).status_code == 200
