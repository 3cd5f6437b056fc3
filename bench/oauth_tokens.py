"""What resolving an OAuth access token costs against checking an MCP key (target ≤ 1.2×).

    .venv/bin/python bench/oauth_tokens.py [--calls 1000] [--rounds 15]

In process, on a scratch SQLite database (the demo as its own authorization server:
tests/python/fixtures/oauth_project), one user with one MCP key and one access token of the site's
authorization server. Each round times `--calls` authentications of the key's header, then as
many of the token's, through `django_mcp.identity.authenticate` — what the HTTP transport asks
for every request, with the request's host it has already worked out: for the key, its one
query and the secret's check; for the token, its checksum, its one query (with its user and
its client's id) and its checks (expiry, resource, user, scopes). Times are the thread's CPU
time (`time.thread_time`), the query's included (SQLite runs in the calling thread). The
figure is the ratio of the two medians (per call) over the rounds, the key's being the floor;
besides it, each median in µs, the spread of the per-round ratios, and the ratio of the two
fastest rounds.
"""

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup(workdir):
    os.environ.update(
        DJANGO_SETTINGS_MODULE="fixtures.oauth_project.settings",
        DEMO_DB=str(workdir / "db.sqlite3"),
        DEMO_MEDIA=str(workdir / "media"),
        DEMO_DEBUG="0",
        DEMO_LOG_LEVEL="WARNING",
    )
    sys.path[:0] = [str(ROOT / "tests" / "python"), str(ROOT / "demo")]
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.utils import timezone
    from oauth2_provider.models import AccessToken, Application

    from django_mcp.models import MCPAPIKey

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench", password="x")
    key, secret = MCPAPIKey.objects.create_key(user, name="bench")
    application = Application.objects.create(
        name="bench",
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="http://127.0.0.1/callback",
        registration_source="dcr",
    )
    token = "bench-access-token-0123456789abcdef"
    AccessToken.objects.create(
        user=user,
        application=application,
        token=token,
        scope="mcp:read mcp:write",
        expires=timezone.now() + datetime.timedelta(days=1),
        resource=["http://testserver/mcp"],
    )
    return f"Bearer {key.key_id}.{secret}", f"Bearer {token}"


def per_call(authenticate, header, request, calls):
    """The calling thread's CPU time per authentication: on a machine shared with other work,
    wall time also counts the waits for a core."""
    started = time.thread_time()
    for _ in range(calls):
        status, _identity = authenticate(header, request, request.host)
    elapsed = time.thread_time() - started
    assert status == "ok", status
    return elapsed / calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        key_header, token_header = setup(Path(workdir))
        from django.test import RequestFactory

        from django_mcp.identity import authenticate

        request = RequestFactory().post("/mcp/")
        request.host = request.get_host()  # what the transport works out once and passes on
        per_call(authenticate, key_header, request, 100)  # warm: compiled lookups, caches
        per_call(authenticate, token_header, request, 100)
        keys, tokens = [], []
        for round_ in range(options.rounds):  # which goes first alternates, so drift falls on both
            pair = [(keys, key_header), (tokens, token_header)]
            for times, header in pair if round_ % 2 == 0 else reversed(pair):
                times.append(per_call(authenticate, header, request, options.calls))
    key, token = statistics.median(keys), statistics.median(tokens)
    ratios = sorted(t / k for k, t in zip(keys, tokens))
    print(f"key check:        {key * 1e6:8.1f} µs (median of {options.rounds} rounds of {options.calls})")
    print(f"token resolution: {token * 1e6:8.1f} µs")
    print(
        f"ratio: {token / key:.2f}× (per round: median {statistics.median(ratios):.2f}, "
        f"{ratios[0]:.2f}–{ratios[-1]:.2f}); the fastest rounds': {min(tokens) / min(keys):.2f}× "
        f"({min(keys) * 1e6:.1f} and {min(tokens) * 1e6:.1f} µs); load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
