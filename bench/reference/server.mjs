// The seed's app/src/server.ts, as plain ESM so no TypeScript build step sits in the benchmark:
// the same four tools, stateless (sessionIdGenerator: undefined), JSON responses, and a fresh
// McpServer + transport per request, on the official TypeScript SDK behind express.
import express from "express";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

const started = Date.now();
const USERS = {
  1: { id: "1", name: "Alice Johnson", email: "alice@example.com", role: "admin" },
  2: { id: "2", name: "Bob Smith", email: "bob@example.com", role: "developer" },
  3: { id: "3", name: "Carol Williams", email: "carol@example.com", role: "designer" },
  4: { id: "4", name: "Dave Brown", email: "dave@example.com", role: "developer" },
  5: { id: "5", name: "Eve Davis", email: "eve@example.com", role: "support" },
};
const CONDITIONS = ["sunny", "partly cloudy", "cloudy", "light rain", "rain", "thunderstorm", "snow", "fog"];

function text(value) {
  return { content: [{ type: "text", text: JSON.stringify(value, null, 2) }] };
}

function createMcpServer() {
  const server = new McpServer({ name: "serverless-mcp-server", version: "1.0.0" });

  server.tool(
    "get_weather",
    "Returns mock weather for a city",
    { city: z.string().describe("City name") },
    async ({ city }) => {
      let h = 0;
      for (const c of city.toLowerCase()) h = (h * 31 + c.charCodeAt(0)) >>> 0;
      return text({
        city,
        temperature_c: (h % 46) - 10,
        condition: CONDITIONS[(h >>> 8) % CONDITIONS.length],
        humidity_percent: 20 + ((h >>> 16) % 76),
        wind_kph: (h >>> 24) % 60,
      });
    },
  );

  server.tool(
    "calculate",
    "Basic arithmetic (add / subtract / multiply / divide)",
    {
      operation: z.enum(["add", "subtract", "multiply", "divide"]).describe("The arithmetic operation"),
      a: z.number().describe("First operand"),
      b: z.number().describe("Second operand"),
    },
    async ({ operation, a, b }) => {
      if (operation === "divide" && b === 0) {
        return { content: [{ type: "text", text: "Division by zero" }], isError: true };
      }
      const result = { add: a + b, subtract: a - b, multiply: a * b, divide: a / b }[operation];
      return text({ operation, a, b, result });
    },
  );

  server.tool("get_server_status", "Server status, timestamp, AWS region", {}, async () =>
    text({
      status: "healthy",
      timestamp: new Date().toISOString(),
      region: process.env.AWS_REGION ?? "local",
      uptime_s: (Date.now() - started) / 1000,
    }),
  );

  server.tool(
    "lookup_user",
    "Mock user lookup by ID",
    { user_id: z.string().describe("User id") },
    async ({ user_id }) => {
      const user = USERS[user_id];
      if (!user) return { content: [{ type: "text", text: `User ${user_id} not found` }], isError: true };
      return text(user);
    },
  );

  return server;
}

const app = express();
app.use(express.json());

app.post("/mcp", async (req, res) => {
  const server = createMcpServer();
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  res.on("close", () => {
    transport.close();
    server.close();
  });
  try {
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  } catch (err) {
    console.error("MCP request failed:", err);
    if (!res.headersSent) {
      res.status(500).json({ jsonrpc: "2.0", error: { code: -32603, message: "Internal error" }, id: null });
    }
  }
});

const port = Number(process.env.PORT ?? 8080);
const listener = app.listen(port, "127.0.0.1", (err) => {
  if (err) {
    console.error(`cannot listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`MCP server listening on http://127.0.0.1:${listener.address().port}/mcp`);
});
