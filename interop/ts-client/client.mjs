// Lists and calls every tool, lists and reads the resources and gets the prompt with the official
// TypeScript SDK client over Streamable HTTP.
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

// Structured output: every tool declares an outputSchema (the SDK validates structuredContent
// against it on each call above).
for (const tool of tools) {
  check(tool.outputSchema?.type === "object", `outputSchema of ${tool.name} ${JSON.stringify(tool.outputSchema)}`);
}

const capabilities = client.getServerCapabilities();
check(capabilities?.resources && capabilities?.prompts, `capabilities ${JSON.stringify(capabilities)}`);

const { resources } = await client.listResources();
const statusResource = resources.find((r) => r.uri === "mcp://server/status");
check(statusResource?.mimeType === "application/json", `resources/list ${JSON.stringify(resources)}`);
const statusRead = await client.readResource({ uri: "mcp://server/status" });
check(
  JSON.parse(statusRead.contents[0]?.text ?? "null")?.status === "healthy",
  `resources/read mcp://server/status ${JSON.stringify(statusRead)}`,
);

const { resourceTemplates } = await client.listResourceTemplates();
check(
  resourceTemplates.some((t) => t.uriTemplate === "mcp://users/{id}"),
  `resources/templates/list ${JSON.stringify(resourceTemplates)}`,
);
const userRead = await client.readResource({ uri: "mcp://users/1" });
check(
  JSON.parse(userRead.contents[0]?.text ?? "null")?.name === "Alice Johnson",
  `resources/read mcp://users/1 ${JSON.stringify(userRead)}`,
);
let unknownRead = null;
try {
  await client.readResource({ uri: "mcp://users/404" });
} catch (e) {
  unknownRead = e;
}
check(unknownRead !== null, "resources/read of an unknown user must fail");

const { prompts } = await client.listPrompts();
const report = prompts.find((p) => p.name === "weather_report");
check(
  report?.arguments?.some((a) => a.name === "city" && a.required === true),
  `prompts/list ${JSON.stringify(prompts)}`,
);
const prompt = await client.getPrompt({ name: "weather_report", arguments: { city: "Lisbon" } });
check(
  prompt.messages[0]?.role === "user" && prompt.messages[0]?.content?.text?.includes("Lisbon"),
  `prompts/get ${JSON.stringify(prompt)}`,
);

await client.close();
console.log(
  `ts-sdk client: ${names.length} tools listed, 6 calls checked; ${resources.length} resource and ` +
    `${resourceTemplates.length} template listed, 3 reads; ${prompts.length} prompt listed and got; against ${url}`,
);
