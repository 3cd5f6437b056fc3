// The official MCP TypeScript SDK's OAuth client against a django-mcp site that is its own
// authorization server: connect (401 → discovery → registration → authorization URL), finish
// with the code, list and call tools, refresh, revoke, and the revoked token refused.
//
// Usage: node client.mjs <mcp url> <redirect uri> [<client metadata document URL>]
//
// The browser's part is the test's (tests/python/test_oauth_ts.py): this script prints
// {"authorize": <url>} on stdout and reads the URL the browser was sent back to on stdin. At the
// end it prints a JSON summary: {"summary": {...}}.
//
// The SDK is installed by tests/conformance/node.sh into tests/conformance/node_modules, loaded
// through a require() rooted there (ESM resolution does not search it from here).
import { createRequire } from "node:module";
import { createInterface } from "node:readline";

const require = createRequire(new URL("../conformance/", import.meta.url));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");
const { auth, UnauthorizedError } = require("@modelcontextprotocol/sdk/client/auth.js");

const [url, redirectUri, clientMetadataUrl] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
const say = (message) => process.stdout.write(JSON.stringify(message) + "\n");

// The SDK's OAuthClientProvider, in memory; the browser is the test.
const stored = {};
const provider = {
  redirectUrl: redirectUri,
  clientMetadataUrl,
  clientMetadata: {
    client_name: "TypeScript SDK", redirect_uris: [redirectUri], grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"], token_endpoint_auth_method: "none",
  },
  clientInformation: () => stored.client,
  saveClientInformation: (client) => { stored.client = client; },
  tokens: () => stored.tokens,
  saveTokens: (tokens) => { stored.tokens = tokens; },
  saveCodeVerifier: (verifier) => { stored.verifier = verifier; },
  codeVerifier: () => stored.verifier,
  discoveryState: () => stored.discovery,
  saveDiscoveryState: (state) => { stored.discovery = state; },
  async redirectToAuthorization(authorizationUrl) {
    say({ authorize: authorizationUrl.href });
    stored.returnedTo = new URL((await lines.next()).value);
  },
};

async function session(tag) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  const client = new Client({ name: "django-mcp-oauth-ts", version: "0.1.0" });
  await client.connect(transport);
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : undefined);
    tools.push(...page.tools.map((tool) => tool.name));
    cursor = page.nextCursor;
  } while (cursor);
  const created = await client.callTool({ name: "create_library_tag", arguments: { name: tag, slug: tag } });
  await client.close();
  return { tools, created: !created.isError };
}

const summary = {};
try {
  // First session: initialize needs no token; tools/list gets the 401 that starts the flow, and
  // the SDK sends the browser away and gives up.
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  try {
    const client = new Client({ name: "django-mcp-oauth-ts", version: "0.1.0" });
    await client.connect(transport);
    await client.listTools();
    summary.firstRequest = "authorized without a flow";
  } catch (error) {
    summary.firstRequest = error instanceof UnauthorizedError ? "redirected" : `${error.name}: ${error.message}`;
  }
  summary.clientId = stored.client?.client_id;
  summary.returned = Object.fromEntries(stored.returnedTo.searchParams);
  await transport.finishAuth(stored.returnedTo.searchParams.get("code"));
  const first = { ...stored.tokens };
  summary.scope = first.scope;
  summary.first = await session(`ts-${Date.now()}`);

  // Refresh (what the SDK does on a 401 when it holds a refresh token), then use the new token.
  summary.refreshed = await auth(provider, { serverUrl: url });
  summary.rotated = stored.tokens.access_token !== first.access_token && stored.tokens.refresh_token !== first.refresh_token;
  summary.second = await session(`ts-${Date.now()}`);

  // Revoke at the endpoint the metadata names; the token is refused.
  const metadata = stored.discovery.authorizationServerMetadata;
  const revoked = await fetch(metadata.revocation_endpoint, {
    method: "POST",
    body: new URLSearchParams({ token: stored.tokens.access_token, client_id: stored.client.client_id }),
  });
  summary.revocation = revoked.status;
  const refused = await fetch(url, {
    method: "POST",
    headers: { Authorization: `Bearer ${stored.tokens.access_token}`, "Content-Type": "application/json",
               Accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
  });
  summary.afterRevocation = { status: refused.status, challenge: refused.headers.get("www-authenticate") };
} catch (error) {
  summary.error = `${error.name}: ${error.message}`;
}
say({ summary });
process.exit(0);
