// One session of the official MCP TypeScript SDK client (the one Claude Desktop and IDEs use)
// against a django-mcp endpoint: connect (initialize), every tools/list page, one tools/call,
// close. Prints a JSON summary on stdout for test_peers.py to check.
//
// Usage: MCP_BEARER=<key_id>.<secret> node ts_client.mjs <url> <tool> [<arguments as JSON>]
//
// The SDK is installed by tests/conformance/node.sh into tests/conformance/node_modules, which
// ESM resolution does not search from here (and NODE_PATH does not apply to `import`), so it is
// loaded through a require() rooted in that directory: the SDK's own CommonJS build.
import { createRequire } from "node:module";

const require = createRequire(new URL("../../conformance/", import.meta.url));
const { Client } = require("@modelcontextprotocol/sdk/client/index.js");
const { StreamableHTTPClientTransport } = require("@modelcontextprotocol/sdk/client/streamableHttp.js");

const [url, toolName, toolArguments = "{}"] = process.argv.slice(2);
const summary = {};

function failure(error) {
  // McpError and StreamableHTTPError both carry `code`: a JSON-RPC code or an HTTP status.
  return { name: error.name, code: error.code ?? null, message: error.message };
}

const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${process.env.MCP_BEARER}` } },
});
const client = new Client({ name: "django-mcp-peers", version: "0.1.0" });

try {
  await client.connect(transport);
} catch (error) {
  summary.connect = failure(error);
  console.log(JSON.stringify(summary));
  process.exit(1);
}
summary.server = client.getServerVersion();
summary.protocolVersion = transport.protocolVersion;
summary.sessionId = transport.sessionId ?? null;

const names = [];
let cursor;
let pages = 0;
do {
  const page = await client.listTools(cursor ? { cursor } : {});
  names.push(...page.tools.map((tool) => tool.name));
  cursor = page.nextCursor;
  pages += 1;
} while (cursor && pages < 50); // a server that always answers a cursor must not hang the test
summary.tools = names;
summary.pages = pages;

try {
  const result = await client.callTool({ name: toolName, arguments: JSON.parse(toolArguments) });
  summary.call = { result };
} catch (error) {
  summary.call = { error: failure(error) };
}

await client.close();
console.log(JSON.stringify(summary));
