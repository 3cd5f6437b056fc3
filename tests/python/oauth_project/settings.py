"""The demo project as its own OAuth authorization server (django-oauth-toolkit, turnkey),
served by uvicorn for the OAuth tests (test_oauth_server.py and the others).

Environment besides the demo's: OAUTH_TEST_CIMD_CA, the CA file of the https server on
127.0.0.1 that serves the tests' client metadata documents.
"""

import os

from demo_project.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "oauth2_provider"]  # noqa: F405
ROOT_URLCONF = "oauth_project.urls"
LOGIN_URL = "admin:login"

DJANGO_MCP_OAUTH = {
    "server": "django-oauth-toolkit",
    "client_id_metadata_documents": True,
    "dynamic_client_registration": True,
    "registration_rate": os.environ.get("OAUTH_TEST_REGISTRATION_RATE", "50/m"),
}
if os.environ.get("OAUTH_TEST_CIMD_CA"):
    DJANGO_MCP_OAUTH["cimd_loopback_ca_for_tests"] = os.environ["OAUTH_TEST_CIMD_CA"]
    SILENCED_SYSTEM_CHECKS = ["django_mcp.E026"]

# Logging in at the consent step is part of most tests: a fast hasher keeps it cheap.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]

# The project's own settings for the toolkit go over the package's (but for its rules): here a
# short fetch time for client metadata documents, which the tests exceed on purpose.
OAUTH2_PROVIDER = {"CIMD_FETCH_TIMEOUT_SECONDS": 2}

# Rate limits count per OAuth client and user, as per key.
DJANGO_MCP_RATE_LIMITS = {"key": "30/m"}
