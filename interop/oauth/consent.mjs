// The owner's part of an authorization, headless: GET the authorization URL (the consent page),
// post the consent form with the stack's API key, and follow the redirect to the client's
// redirect URI (for the conformance suite, its callback server on 127.0.0.1).
// Usage: node consent.mjs AUTHORIZATION_URL API_KEY. Exits non-zero if any step fails.
const [authorizationUrl, key] = process.argv.slice(2);
const bounded = (u, init = {}) => fetch(u, { ...init, signal: AbortSignal.timeout(20000) });
const page = await bounded(authorizationUrl);
const html = await page.text();
const token = /name="consent" value="([^"]+)"/.exec(html)?.[1];
if (page.status !== 200 || !token) {
  console.error(`consent page: HTTP ${page.status}: ${html.slice(0, 300)}`);
  process.exit(1);
}
const res = await bounded(new URL("/oauth/authorize", authorizationUrl), {
  method: "POST",
  redirect: "manual",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({ consent: token, api_key: key, decision: "approve" }),
});
const location = res.headers.get("location");
if (res.status !== 302 || !location) {
  console.error(`consent: HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  process.exit(1);
}
const callback = await bounded(location);
console.log(`consent given; the redirect answered HTTP ${callback.status}`);
process.exit(callback.ok ? 0 : 1);
