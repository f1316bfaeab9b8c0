// Lists and calls every tool with the official TypeScript SDK client over Streamable HTTP.
// Usage: node client.mjs URL [API_KEY]. Exits non-zero on the first failed expectation.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, apiKey] = process.argv.slice(2);
if (!url) {
  console.error("usage: node client.mjs URL [API_KEY]");
  process.exit(2);
}

function check(condition, message) {
  if (!condition) {
    console.error(`FAIL: ${message}`);
    process.exit(1);
  }
}

const headers = apiKey ? { "x-api-key": apiKey } : {};
const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
const client = new Client({ name: "mcpctl-interop", version: "1.0.0" });
await client.connect(transport);

const version = client.getServerVersion();
check(version?.name === "mcpctl-server", `server name ${JSON.stringify(version)}`);

const { tools } = await client.listTools();
const names = tools.map((t) => t.name).sort();
check(
  JSON.stringify(names) === JSON.stringify(["calculate", "get_server_status", "get_weather", "lookup_user"]),
  `tools ${names}`,
);

const weather = await client.callTool({ name: "get_weather", arguments: { city: "Kyiv" } });
check(!weather.isError && weather.structuredContent?.city === "Kyiv", `get_weather ${JSON.stringify(weather)}`);

const product = await client.callTool({ name: "calculate", arguments: { operation: "multiply", a: 6, b: 7 } });
check(product.structuredContent?.result === 42, `calculate ${JSON.stringify(product)}`);

const div0 = await client.callTool({ name: "calculate", arguments: { operation: "divide", a: 1, b: 0 } });
check(div0.isError === true, `divide by zero ${JSON.stringify(div0)}`);

const status = await client.callTool({ name: "get_server_status", arguments: {} });
check(status.structuredContent?.status === "healthy", `get_server_status ${JSON.stringify(status)}`);

const user = await client.callTool({ name: "lookup_user", arguments: { user_id: "1" } });
check(user.structuredContent?.name === "Alice Johnson", `lookup_user ${JSON.stringify(user)}`);

const missing = await client.callTool({ name: "lookup_user", arguments: { user_id: "404" } });
check(missing.isError === true, `unknown user ${JSON.stringify(missing)}`);

await client.close();
console.log(`ts-sdk client: ${names.length} tools listed, 6 calls checked against ${url}`);
