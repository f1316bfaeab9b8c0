"""The official MCP Python SDK (`mcp` 2.x, pinned in requirements.txt) against the server.

    python client.py URL KEY

In each connect mode of the SDK's `Client` (`legacy`: the initialize handshake; `auto`: probe
`server/discover`, fall back to initialize; `2026-07-28`: adopt that revision, no handshake),
with the key in `x-api-key` and in `Authorization: Bearer`: list the tools and call every one
(a result and an error result where the tool has one). Then, in each mode, a wrong key in
either header, no key at all and `Authorization: Bearer` without a token must be refused:
HTTP 401 or 403 on every response, and the client raises.

Prints one line per check, `PASS name` or `FAIL name: why`; exits 1 if any failed.
Every check is bounded (CHECK_TIMEOUT_S), and so is every HTTP request.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

MODES = ("legacy", "auto", "2026-07-28")
# What each mode must end up speaking with this server (it serves discover and 2026-07-28).
EXPECTED_VERSION = {"legacy": "2025-11-25", "auto": "2026-07-28", "2026-07-28": "2026-07-28"}
TOOLS = ["calculate", "get_server_status", "get_weather", "lookup_user"]
CHECK_TIMEOUT_S = 60
WRONG_KEY = "wrong-key-0123456789abcdef"


def key_headers(kind: str, key: str) -> dict[str, str]:
    return {"x-api-key": {"x-api-key": key}, "bearer": {"authorization": f"Bearer {key}"}}[kind]


class Recorder:
    """httpx2 event hooks: every request's method and the status of every response."""

    def __init__(self) -> None:
        self.statuses: list[tuple[str, int]] = []

    async def on_response(self, response: httpx2.Response) -> None:
        self.statuses.append((response.request.method, response.status_code))


def http_client(headers: dict[str, str], recorder: Recorder) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        headers=headers,
        timeout=httpx2.Timeout(10, read=30),
        event_hooks={"response": [recorder.on_response]},
    )


def leaf(e: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups: the SDK's task groups wrap it."""
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    return e


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, f"isError: {result.content}"
    assert isinstance(result.structured_content, dict), f"no structuredContent: {result}"
    return result.structured_content


async def use_tools(url: str, headers: dict[str, str], mode: str) -> str:
    recorder = Recorder()
    async with http_client(headers, recorder) as http:
        async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
            version = client.protocol_version
            assert version == EXPECTED_VERSION[mode], f"negotiated {version}, expected {EXPECTED_VERSION[mode]}"
            info = client.server_info
            # Legacy connections always carry serverInfo; modern ones may omit it.
            assert info is not None or mode != "legacy", "no serverInfo after initialize"
            if info is not None:
                assert info.name == "mcpctl-server", f"server name {info.name}"

            names = sorted(t.name for t in (await client.list_tools()).tools)
            assert names == TOOLS, f"tools {names}"

            weather = structured(await client.call_tool("get_weather", {"city": "Kyiv"}))
            assert weather["city"] == "Kyiv" and -10 <= weather["temperature_c"] <= 35, f"get_weather {weather}"
            product = structured(await client.call_tool("calculate", {"operation": "multiply", "a": 6, "b": 7}))
            assert product["result"] == 42, f"calculate {product}"
            div0 = await client.call_tool("calculate", {"operation": "divide", "a": 1, "b": 0})
            assert div0.is_error, f"divide by zero {div0}"
            status = structured(await client.call_tool("get_server_status", {}))
            assert status["status"] == "healthy", f"get_server_status {status}"
            user = structured(await client.call_tool("lookup_user", {"user_id": "1"}))
            assert user["name"] == "Alice Johnson", f"lookup_user {user}"
            missing = await client.call_tool("lookup_user", {"user_id": "404"})
            assert missing.is_error, f"unknown user {missing}"

    refused = [s for s in recorder.statuses if s[1] in (401, 403)]
    assert not refused, f"refused responses {refused}"
    posts = [s for m, s in recorder.statuses if m == "POST"]
    assert posts and all(200 <= s < 300 for s in posts), f"POST statuses {posts}"
    return f"{version}, {len(names)} tools, 6 calls, {len(posts)} POSTs"


async def refused(url: str, headers: dict[str, str], mode: str) -> str:
    recorder = Recorder()
    raised: BaseException | None = None
    try:
        async with http_client(headers, recorder) as http:
            async with Client(streamable_http_client(url, http_client=http), mode=mode) as client:
                await client.list_tools()
                await client.call_tool("calculate", {"operation": "add", "a": 1, "b": 2})
    except Exception as e:  # the SDK's MCPError, or an ExceptionGroup from its task group
        raised = e
    codes = [s for _, s in recorder.statuses]
    assert raised is not None, f"the client did not raise (statuses {codes})"
    assert codes and all(s in (401, 403) for s in codes), f"statuses {codes}"
    inner = leaf(raised)
    return f"HTTP {sorted(set(codes))}, client raised {type(inner).__name__}: {inner}"


async def main(url: str, key: str) -> int:
    failed = 0

    async def check(name: str, fn: Any, *args: Any) -> None:
        nonlocal failed
        try:
            with anyio.fail_after(CHECK_TIMEOUT_S):
                detail = await fn(*args)
            print(f"PASS {name}: {detail}", flush=True)
        except Exception as outer:  # noqa: BLE001 - a failed check is reported, not fatal
            e = leaf(outer)
            failed += 1
            why = str(e) or type(e).__name__
            if not isinstance(e, AssertionError):
                why = f"{type(e).__name__}: {why}"
                traceback.print_exception(outer, file=sys.stderr)
            print(f"FAIL {name}: {why}", flush=True)

    for mode in MODES:
        for kind in ("x-api-key", "bearer"):
            await check(f"python-sdk mode={mode} {kind}: tools", use_tools, url, key_headers(kind, key), mode)
    for mode in MODES:
        cases = {
            "wrong x-api-key": key_headers("x-api-key", WRONG_KEY),
            "wrong bearer": key_headers("bearer", WRONG_KEY),
            "no key": {},
            "bearer without a token": {"authorization": "Bearer"},
        }
        for case, headers in cases.items():
            await check(f"python-sdk mode={mode} {case}: refused", refused, url, headers, mode)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: python client.py URL KEY", file=sys.stderr)
        sys.exit(2)
    sys.exit(anyio.run(main, sys.argv[1], sys.argv[2]))
