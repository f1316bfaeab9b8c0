// The official TypeScript MCP SDK client (the version interop/ts-client pins) with the key in
// either header: `x-api-key: KEY` and `Authorization: Bearer KEY` must each list and call every
// tool; a wrong key in either header, no key, and `Authorization: Bearer` without a token must be
// refused with HTTP 401 or 403 (the SDK throws a StreamableHTTPError carrying the status).
//
//   node client.mjs URL KEY
//
// Prints one line per check, `PASS name: detail` or `FAIL name: why`; exits 1 if any failed.
// Each check is bounded by CHECK_TIMEOUT_MS.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const CHECK_TIMEOUT_MS = 30_000;
const TOOLS = ["calculate", "get_server_status", "get_weather", "lookup_user"];
const WRONG_KEY = "wrong-key-0123456789abcdef";

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error("usage: node client.mjs URL KEY");
  process.exit(2);
}

const headersFor = {
  "x-api-key": (k) => ({ "x-api-key": k }),
  bearer: (k) => ({ authorization: `Bearer ${k}` }),
};

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

/** A fetch that records every response status, so a check can say what the server answered. */
function recordingFetch(statuses) {
  return async (input, init) => {
    const response = await fetch(input, init);
    statuses.push(`${init?.method ?? "GET"} ${response.status}`);
    return response;
  };
}

async function connect(headers, statuses) {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers },
    fetch: recordingFetch(statuses),
  });
  const client = new Client({ name: "mcpctl-interop-headers", version: "1.0.0" });
  await client.connect(transport);
  return client;
}

async function useTools(headers) {
  const statuses = [];
  const client = await connect(headers, statuses);
  try {
    assert(client.getServerVersion()?.name === "mcpctl-server", `server ${JSON.stringify(client.getServerVersion())}`);
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    assert(JSON.stringify(names) === JSON.stringify(TOOLS), `tools ${names}`);

    const call = (name, args) => client.callTool({ name, arguments: args });
    const weather = await call("get_weather", { city: "Kyiv" });
    assert(!weather.isError && weather.structuredContent?.city === "Kyiv", `get_weather ${JSON.stringify(weather)}`);
    const product = await call("calculate", { operation: "multiply", a: 6, b: 7 });
    assert(product.structuredContent?.result === 42, `calculate ${JSON.stringify(product)}`);
    const div0 = await call("calculate", { operation: "divide", a: 1, b: 0 });
    assert(div0.isError === true, `divide by zero ${JSON.stringify(div0)}`);
    const status = await call("get_server_status", {});
    assert(status.structuredContent?.status === "healthy", `get_server_status ${JSON.stringify(status)}`);
    const user = await call("lookup_user", { user_id: "1" });
    assert(user.structuredContent?.name === "Alice Johnson", `lookup_user ${JSON.stringify(user)}`);
    const missing = await call("lookup_user", { user_id: "404" });
    assert(missing.isError === true, `unknown user ${JSON.stringify(missing)}`);
  } finally {
    await client.close();
  }
  const refused = statuses.filter((s) => / 40[13]$/.test(s));
  assert(refused.length === 0, `refused responses ${refused}`);
  return `${TOOLS.length} tools, 6 calls (${statuses.join(", ")})`;
}

async function refused(headers) {
  const statuses = [];
  let error = null;
  try {
    const client = await connect(headers, statuses);
    await client.listTools();
    await client.close();
  } catch (e) {
    error = e;
  }
  assert(error !== null, `the client did not throw (${statuses.join(", ")})`);
  assert(error.code === 401 || error.code === 403, `threw ${error}`);
  assert(statuses.length > 0 && statuses.every((s) => / 40[13]$/.test(s)), `statuses ${statuses}`);
  return `HTTP ${error.code}, threw ${error.constructor.name}: ${error.message}`;
}

let failed = 0;
async function check(name, fn) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    const detail = await Promise.race([fn(), timeout]);
    console.log(`PASS ${name}: ${detail}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  } finally {
    clearTimeout(timer);
  }
}

for (const kind of ["x-api-key", "bearer"]) {
  await check(`ts-sdk ${kind}: tools`, () => useTools(headersFor[kind](key)));
}
await check("ts-sdk wrong x-api-key: refused", () => refused(headersFor["x-api-key"](WRONG_KEY)));
await check("ts-sdk wrong bearer: refused", () => refused(headersFor.bearer(WRONG_KEY)));
await check("ts-sdk no key: refused", () => refused({}));
await check("ts-sdk bearer without a token: refused", () => refused({ authorization: "Bearer" }));
process.exit(failed ? 1 : 0);
