"""Client ID Metadata Documents (MCP authorization 2025-11-25): a client whose client_id is an
https URL is registered from the JSON document at that URL, fetched by the authorization
server. django-oauth-toolkit fetches it (https only, public addresses only, no redirects,
`CIMD_FETCH_TIMEOUT_SECONDS`, `CIMD_MAX_DOCUMENT_SIZE`), checks the document's client_id is
its URL and caches it (`CIMD_METADATA_MIN_AGE_SECONDS`…); this module adds the redirect-URI
rule and the registration limit.

`DJANGO_MCP_OAUTH["cimd_loopback_ca_for_tests"]` (a CA file) lets the fetcher reach a document
served over https on 127.0.0.1 with a certificate of that CA, as the test suite serves one;
it is a system check error outside a test run (django_mcp.E026).
"""

from urllib.parse import urlsplit

import urllib3
from oauth2_provider.cimd import CIMDError, SafeMetadataFetcher, _validate_client_id_url
from oauth2_provider.settings import oauth2_settings

from django_mcp import oauth_server

TEST_CA = "cimd_loopback_ca_for_tests"


class MetadataFetcher(SafeMetadataFetcher):
    def fetch(self, client_id):
        test_ca = oauth_server.config().get(TEST_CA)
        if test_ca and urlsplit(client_id).hostname == "127.0.0.1":
            metadata, max_age = self._fetch_loopback(client_id, test_ca)
        else:
            metadata, max_age = super().fetch(client_id)
        uris = metadata.get("redirect_uris")
        if isinstance(uris, list) and not all(oauth_server.redirect_uri_acceptable(uri) for uri in uris):
            raise CIMDError("redirect_uris must be https, or http to a loopback address")
        return metadata, max_age

    def _fetch_loopback(self, client_id, ca_file):
        """The document at https://127.0.0.1…, its certificate checked against `ca_file`, under
        the same limits of time and size as any other."""
        parsed = _validate_client_id_url(client_id)
        timeout = oauth2_settings.CIMD_FETCH_TIMEOUT_SECONDS
        pool = urllib3.HTTPSConnectionPool(
            "127.0.0.1",
            parsed.port or 443,
            ca_certs=ca_file,
            cert_reqs="CERT_REQUIRED",
            retries=False,
            timeout=urllib3.Timeout(connect=timeout, read=timeout, total=timeout),
            maxsize=1,
        )
        try:
            response = pool.urlopen(
                "GET",
                parsed.path + (f"?{parsed.query}" if parsed.query else ""),
                headers={"Accept": "application/json"},
                redirect=False,
                preload_content=False,
            )
            try:
                return self._read_document(response)
            finally:
                response.release_conn()
        except urllib3.exceptions.HTTPError as exc:
            raise CIMDError(f"could not fetch client_id document: {exc}") from exc
        finally:
            pool.close()


class RateLimited:
    """A metadata document is fetched (a client registered) only while the address asking has
    registrations left (`DJANGO_MCP_OAUTH["registration_rate"]`, shared with RFC 7591)."""

    def has_permission(self, request, client_id) -> bool:
        return oauth_server.registration_limited(request.headers.get("REMOTE_ADDR")) is None
