// The MCP Inspector CLI (@modelcontextprotocol/inspector, pinned in package.json, on the Node 22
// installed beside it) against the server, the way a person runs it:
//
//   mcp-inspector --cli URL --transport http --header "x-api-key: KEY" --method tools/list
//   mcp-inspector --cli URL --transport http --header "x-api-key: KEY" --method tools/call \
//     --tool-name calculate --tool-arg operation=multiply a=6 b=7
//
// with the key in `x-api-key` and in `Authorization: Bearer`, in each of its protocol eras
// (legacy: initialize; auto: discover, else initialize; modern: 2026-07-28), and a wrong key in
// either header and no key at all must be refused (the CLI exits non-zero with HTTP 401/403).
//
//   node check.mjs URL KEY        (run it with node_modules/node/bin/node: the CLI needs >= 22.19)
//
// (plus --format json, to read the result, and --stored-auth-only, see inspector() below)
//
// Prints one line per check, `PASS name: detail` or `FAIL name: why`; exits 1 if any failed.
// Every CLI run is bounded (RUN_TIMEOUT_MS) and keeps its catalog and config in a temporary
// HOME, never in ~/.mcp-inspector.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const RUN_TIMEOUT_MS = 30_000;
const TOOLS = ["calculate", "get_server_status", "get_weather", "lookup_user"];
const WRONG_KEY = "wrong-key-0123456789abcdef";
const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js");

const [url, key] = process.argv.slice(2);
if (!url || !key) {
  console.error("usage: node check.mjs URL KEY");
  process.exit(2);
}

const home = mkdtempSync(join(tmpdir(), "mcpctl-inspector-"));
const env = {
  ...process.env,
  HOME: home,
  MCP_CATALOG_PATH: join(home, "mcp.json"),
  MCP_CLIENT_CONFIG_PATH: join(home, "client.json"),
};

function inspector(args) {
  // --stored-auth-only: a 401 must not start the CLI's interactive OAuth login (it asks for a
  // TTY and reports no status); its help prefers it for CI, and it is a no-op when the key works.
  const common = ["--transport", "http", "--format", "json", "--stored-auth-only"];
  const run = spawnSync(process.execPath, [cli, "--cli", url, ...common, ...args], {
    env,
    encoding: "utf8",
    timeout: RUN_TIMEOUT_MS,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (run.error) throw new Error(`inspector did not finish: ${run.error.message}`);
  return run;
}

function json(text, what) {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${what} is not JSON: ${text.slice(0, 300)}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

const header = {
  "x-api-key": (k) => `x-api-key: ${k}`,
  bearer: (k) => `Authorization: Bearer ${k}`,
};

function toolsList(headerLine, era) {
  const run = inspector(["--header", headerLine, "--protocol-era", era, "--method", "tools/list"]);
  assert(run.status === 0, `exit ${run.status}: ${run.stderr.trim().slice(0, 300)}`);
  const names = json(run.stdout, "stdout").result?.tools?.map((t) => t.name).sort();
  assert(JSON.stringify(names) === JSON.stringify(TOOLS), `tools ${names}`);
  return `${names.length} tools`;
}

function calculate(headerLine, era) {
  const run = inspector([
    "--header", headerLine, "--protocol-era", era,
    "--method", "tools/call", "--tool-name", "calculate", "--tool-arg", "operation=multiply", "a=6", "b=7",
  ]);
  assert(run.status === 0, `exit ${run.status}: ${run.stderr.trim().slice(0, 300)}`);
  const result = json(run.stdout, "stdout").result;
  assert(result?.isError === false && result?.structuredContent?.result === 42, `result ${JSON.stringify(result)}`);
  return "6 * 7 = 42";
}

function refused(headers) {
  const run = inspector([...headers.flatMap((h) => ["--header", h]), "--method", "tools/list"]);
  assert(run.status !== 0, `exit 0: ${run.stdout.slice(0, 300)}`);
  const error = json(run.stderr.trim().split("\n").pop() ?? "", "stderr").error;
  // A 403 comes with `status`; a 401 only as auth_required, the gateway's body in the message.
  const status = error?.status ?? (error?.code === "auth_required" && /"Unauthorized"|HTTP 401/.test(error.message) ? 401 : null);
  assert(status === 401 || status === 403, `error ${JSON.stringify(error)}`);
  return `exit ${run.status}, HTTP ${status} (${error.code})`;
}

let failed = 0;
function check(name, fn) {
  try {
    console.log(`PASS ${name}: ${fn()}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.message ?? e}`);
  }
}

try {
  for (const era of ["legacy", "auto", "modern"]) {
    for (const kind of ["x-api-key", "bearer"]) {
      check(`inspector era=${era} ${kind}: tools/list`, () => toolsList(header[kind](key), era));
      check(`inspector era=${era} ${kind}: tools/call calculate`, () => calculate(header[kind](key), era));
    }
  }
  check("inspector wrong x-api-key: refused", () => refused([header["x-api-key"](WRONG_KEY)]));
  check("inspector wrong bearer: refused", () => refused([header.bearer(WRONG_KEY)]));
  check("inspector no key: refused", () => refused([]));
} finally {
  rmSync(home, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
