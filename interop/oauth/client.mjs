// The official TypeScript SDK's OAuth client against `mcpctl dev` with [auth] mode = "oauth",
// headless: discovery (401 without WWW-Authenticate, as API Gateway answers, then the
// well-known fallback) -> dynamic registration -> consent (this script posts the consent form
// with the stack's API key, as the owner would) -> token -> tools/list -> refresh -> tools/list
// with the refreshed token; the used refresh token is refused; a tampered access token, and
// (given the dev state's signing key file) an expired one, get 401 and the SDK recovers from
// each by refreshing.
// Usage: node client.mjs MCP_URL API_KEY [SIGNING_KEY_FILE]. Prints PASS/FAIL lines; exits 1 on
// any FAIL.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError, auth, refreshAuthorization } from "@modelcontextprotocol/sdk/client/auth.js";

const [url, apiKey, signingKeyFile] = process.argv.slice(2);
if (!url || !apiKey) {
  console.error("usage: node client.mjs MCP_URL API_KEY [SIGNING_KEY_FILE]");
  process.exit(2);
}
let failed = 0;
const check = (ok, what) => {
  console.log(`${ok ? "PASS" : "FAIL"} ts-sdk oauth: ${what}`);
  if (!ok) failed++;
  return ok;
};
const fetchBounded = (input, init = {}) => fetch(input, { ...init, signal: AbortSignal.timeout(20000) });

const REDIRECT = "http://127.0.0.1:9/callback"; // never fetched: the script reads the redirect itself
class Provider {
  constructor() {
    this.info = undefined;
    this.saved = undefined;
    this.verifier = undefined;
    this.authorizationUrl = undefined;
  }
  get redirectUrl() { return REDIRECT; }
  get clientMetadata() {
    return { client_name: "mcpctl TS SDK interop", redirect_uris: [REDIRECT], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"], token_endpoint_auth_method: "none" };
  }
  state() { return "ts-state-1"; }
  clientInformation() { return this.info; }
  saveClientInformation(info) { this.info = info; }
  tokens() { return this.saved; }
  saveTokens(t) { this.saved = t; }
  redirectToAuthorization(u) { this.authorizationUrl = u; }
  saveCodeVerifier(v) { this.verifier = v; }
  codeVerifier() { return this.verifier; }
}

// The owner's part: open the consent page, enter the key, approve; returns the redirect.
async function consent(authorizationUrl, key) {
  const page = await fetchBounded(authorizationUrl);
  const html = await page.text();
  const token = /name="consent" value="([^"]+)"/.exec(html)?.[1];
  if (!check(page.status === 200 && token, `consent page shown (HTTP ${page.status})`)) return null;
  check(html.includes("mcpctl TS SDK interop") && html.includes(REDIRECT), "consent page names the client and its redirect URI");
  check(page.headers.get("x-frame-options") === "DENY", "consent page cannot be framed");
  const post = (apiKey) => fetchBounded(new URL("/oauth/authorize", authorizationUrl), {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ consent: token, api_key: apiKey, decision: "approve" }),
  });
  const wrong = await post("not-the-key");
  check(wrong.status === 403 && !wrong.headers.get("location"), `a wrong key grants nothing (HTTP ${wrong.status})`);
  const ok = await post(key);
  const location = ok.headers.get("location");
  check(ok.status === 302 && location?.startsWith(REDIRECT), `the key approves: redirect to the client (HTTP ${ok.status})`);
  return location ? new URL(location) : null;
}

async function listTools(provider) {
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: fetchBounded });
  const client = new Client({ name: "mcpctl-oauth-interop", version: "1.0.0" });
  await client.connect(transport);
  const { tools } = await client.listTools();
  await client.close();
  return tools.map((t) => t.name).sort();
}

const provider = new Provider();
// 1. Unauthenticated: the SDK discovers, registers and asks for authorization.
let transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: fetchBounded });
let client = new Client({ name: "mcpctl-oauth-interop", version: "1.0.0" });
try {
  await client.connect(transport);
  check(false, "an unauthenticated connect must need authorization");
} catch (e) {
  check(e instanceof UnauthorizedError, `unauthenticated connect: ${e.constructor.name} (401, discovery by the well-known fallback)`);
}
check(typeof provider.info?.client_id === "string" && provider.info.client_id.length > 20, "dynamic registration gave a client_id");
const authUrl = provider.authorizationUrl;
check(authUrl?.searchParams.get("code_challenge_method") === "S256", "authorization request uses PKCE S256");
check(authUrl?.searchParams.get("resource") === url, `authorization request names the resource ${authUrl?.searchParams.get("resource")}`);

// 2. Consent, then the code for tokens.
const back = authUrl ? await consent(authUrl, apiKey) : null;
const code = back?.searchParams.get("code");
check(back?.searchParams.get("state") === "ts-state-1", "state comes back");
check(back?.searchParams.get("iss") === new URL(url).origin, "iss comes back (RFC 9207)");
if (code) {
  await transport.finishAuth(code);
  check(typeof provider.saved?.access_token === "string" && typeof provider.saved?.refresh_token === "string", "token endpoint gave an access and a refresh token");
}

// 3. tools/list with the access token.
try {
  const names = await listTools(provider);
  check(names.includes("calculate"), `tools/list with the access token: ${names.join(",")}`);
} catch (e) {
  check(false, `tools/list with the access token: ${e}`);
}

// 4. Refresh (rotation), then tools/list with the new access token.
const first = provider.saved;
try {
  const result = await auth(provider, { serverUrl: new URL(url), fetchFn: fetchBounded });
  check(result === "AUTHORIZED" && provider.saved.refresh_token !== first.refresh_token && provider.saved.access_token !== first.access_token, "refresh gave a new access and refresh token");
  const names = await listTools(provider);
  check(names.includes("calculate"), "tools/list with the refreshed access token");
} catch (e) {
  check(false, `refresh: ${e}`);
}
// The used refresh token is refused.
try {
  const origin = new URL(url).origin;
  const metadata = await (await fetchBounded(`${origin}/.well-known/oauth-authorization-server`)).json();
  await refreshAuthorization(origin, { metadata, clientInformation: provider.info, refreshToken: first.refresh_token, fetchFn: fetchBounded });
  check(false, "a used refresh token must be refused");
} catch (e) {
  check(/invalid_grant|already used/i.test(`${e?.errorCode ?? ""} ${e}`), `a used refresh token is refused: ${e}`);
}
// An invalid access token gets 401 (the authorizer passes it on marked invalid, the server
// answers), not the authorizer's 403: a 401 is what makes a client refresh or authorize again.
// Its WWW-Authenticate arrives renamed, as API Gateway renames an integration's.
const mcpPost = (token) => fetchBounded(url, {
  method: "POST",
  headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
  body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
});
const tampered = provider.saved.access_token.slice(0, -2) + (provider.saved.access_token.endsWith("AA") ? "BB" : "AA");
const res = await mcpPost(tampered);
const challenge = res.headers.get("x-amzn-remapped-www-authenticate") ?? "";
check(res.status === 401, `a tampered access token gets 401 (HTTP ${res.status})`);
check(/^Bearer error="invalid_token"/.test(challenge) && challenge.includes(`resource_metadata="${new URL(url).origin}/.well-known/oauth-protected-resource/mcp"`) && !res.headers.get("www-authenticate"),
  `its challenge comes as x-amzn-remapped-www-authenticate: ${challenge}`);

// The SDK recovers on that 401: it refreshes with its refresh token and retries.
async function recovers(badToken, what) {
  const before = provider.saved;
  provider.saved = { ...before, access_token: badToken };
  try {
    const names = await listTools(provider);
    check(names.includes("calculate") && provider.saved.refresh_token !== before.refresh_token && provider.saved.access_token !== badToken,
      `with ${what}, the SDK refreshes on the 401 and tools/list works`);
  } catch (e) {
    check(false, `with ${what}, the SDK refreshes on the 401: ${e}`);
  }
}
await recovers(tampered, "a tampered access token");

// An expired access token, as the client holds after its hour: the same claims, exp an hour
// ago, signed with the stack's current key (`mcpctl dev`'s state, SIGNING_KEY_FILE).
if (signingKeyFile) {
  const { createHmac } = await import("node:crypto");
  const { readFileSync } = await import("node:fs");
  const secret = JSON.parse(readFileSync(signingKeyFile, "utf8")).AWSCURRENT;
  const [header64, payload64] = provider.saved.access_token.split(".");
  const claims = JSON.parse(Buffer.from(payload64, "base64url").toString());
  const now = Math.floor(Date.now() / 1000);
  Object.assign(claims, { iat: now - 7200, exp: now - 3600 });
  const input = `${header64}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const key = createHmac("sha256", secret).update("mcpctl-oauth/v1/access").digest();
  const expired = `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
  const r = await mcpPost(expired);
  const c = r.headers.get("x-amzn-remapped-www-authenticate") ?? "";
  check(r.status === 401 && c.includes('error_description="access token expired"'), `an expired access token gets 401, "expired" (HTTP ${r.status}, ${c})`);
  await recovers(expired, "an expired access token");
}

console.log(failed ? `ts-sdk oauth: ${failed} failed` : "ts-sdk oauth: all passed");
process.exit(failed ? 1 : 0);
