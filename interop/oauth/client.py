"""The official MCP Python SDK's OAuth client (`mcp` as pinned in
interop/python-client/requirements.txt) against `mcpctl dev` with [auth] mode = "oauth".

    python client.py MCP_URL API_KEY

Headless: discovery (API Gateway's 401 has no WWW-Authenticate, so the well-known fallback) ->
dynamic registration -> consent (the redirect handler posts the consent form with the stack's
API key, as the owner would) -> token -> tools/list; then the access token's expiry is reached
(the SDK's clock for it is moved past `expires_in`) and the SDK refreshes it before the next
request -> tools/list with the refreshed token; a tampered access token gets the server's 401 and
the SDK recovers (it authorizes again); the used refresh token is refused.
Prints `PASS name` / `FAIL name: why`; exits 1 if any failed. Every request is bounded.
"""

from __future__ import annotations

import re
import sys
import time

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

REDIRECT = "http://127.0.0.1:9/callback"  # never fetched: the handler reads the redirect itself
failed = 0


def check(ok: bool, what: str) -> bool:
    global failed
    print(f"{'PASS' if ok else 'FAIL'} python-sdk oauth: {what}", flush=True)
    if not ok:
        failed += 1
    return ok


class Memory:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, info: OAuthClientInformationFull) -> None:
        self.client = info


async def main(url: str, key: str) -> None:
    storage = Memory()
    result: dict[str, AuthorizationCodeResult] = {}
    consents = [0]

    async def redirect_handler(authorization_url: str) -> None:
        consents[0] += 1
        async with httpx2.AsyncClient(timeout=20) as http:
            page = await http.get(authorization_url)
            token = re.search(r'name="consent" value="([^"]+)"', page.text)
            check(page.status_code == 200 and token is not None, f"consent page shown (HTTP {page.status_code})")
            if not token:
                return
            form = {"consent": token.group(1), "api_key": key, "decision": "approve"}
            action = httpx2.URL(authorization_url).join("/oauth/authorize")
            answer = await http.post(action, data=form)
            location = answer.headers.get("location", "")
            check(answer.status_code == 302 and location.startswith(REDIRECT), f"the key approves (HTTP {answer.status_code})")
            params = httpx2.URL(location).params
            result["code"] = AuthorizationCodeResult(
                code=params.get("code", ""), state=params.get("state"), iss=params.get("iss")
            )

    async def callback_handler() -> AuthorizationCodeResult:
        return result["code"]

    provider = OAuthClientProvider(
        server_url=url,
        client_metadata=OAuthClientMetadata(
            client_name="mcpctl Python SDK interop",
            redirect_uris=[REDIRECT],
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
            token_endpoint_auth_method="none",
        ),
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
    )

    async def list_tools() -> list[str]:
        async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(20, read=30)) as http:
            async with Client(streamable_http_client(url, http_client=http)) as client:
                return sorted(t.name for t in (await client.list_tools()).tools)

    with anyio.fail_after(120):
        try:
            names = await list_tools()
            check("calculate" in names, f"discovery -> registration -> consent -> token -> tools/list: {','.join(names)}")
        except Exception as e:  # noqa: BLE001 - reported as a failed check
            check(False, f"first session: {e!r}")
            return
        check(storage.client is not None and len(storage.client.client_id) > 20, "dynamic registration gave a client_id")
        first = storage.tokens
        check(first is not None and bool(first.refresh_token), "the token endpoint gave a refresh token")
        # The access token's hour is up (as far as the SDK's clock for it knows): it refreshes.
        provider.context.token_expiry_time = time.time() - 1
        try:
            names = await list_tools()
            second = storage.tokens
            check(
                second is not None and first is not None and second.refresh_token != first.refresh_token
                and second.access_token != first.access_token,
                "the SDK refreshed the expired token (new access and refresh token)",
            )
            check("calculate" in names, "tools/list with the refreshed access token")
        except Exception as e:  # noqa: BLE001
            check(False, f"refresh: {e!r}")
        # An invalid access token (tampered; the SDK's clock says it is still good) gets the
        # server's 401, and the SDK recovers on it: it authorizes again (consent, handled by the
        # redirect handler) and retries.
        held = storage.tokens
        if held is not None:
            tampered = held.access_token[:-2] + ("BB" if held.access_token.endswith("AA") else "AA")
            bad = held.model_copy(update={"access_token": tampered})
            storage.tokens = bad
            provider.context.current_tokens = bad
            before = consents[0]
            try:
                names = await list_tools()
                now = storage.tokens
                check(
                    "calculate" in names and now is not None and now.access_token != tampered,
                    f"with a tampered access token the SDK recovers on the 401 ({consents[0] - before} new consent) and tools/list works",
                )
            except Exception as e:  # noqa: BLE001
                check(False, f"recovery from a tampered access token: {e!r}")
        # The used refresh token is refused.
        origin = str(httpx2.URL(url).copy_with(path="/", query=None)).rstrip("/")
        async with httpx2.AsyncClient(timeout=20) as http:
            r = await http.post(
                f"{origin}/oauth/token",
                data={"grant_type": "refresh_token", "refresh_token": first.refresh_token if first else "",
                      "client_id": storage.client.client_id if storage.client else ""},
            )
            check(r.status_code == 400 and r.json().get("error") == "invalid_grant", f"a used refresh token is refused (HTTP {r.status_code} {r.text[:80]})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: python client.py MCP_URL API_KEY", file=sys.stderr)
        sys.exit(2)
    anyio.run(main, sys.argv[1], sys.argv[2])
    print(f"python-sdk oauth: {failed} failed" if failed else "python-sdk oauth: all passed")
    sys.exit(1 if failed else 0)
