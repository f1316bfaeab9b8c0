#!/usr/bin/env python3
"""Writes the hand-made seed inputs of both fuzz targets into fuzz/corpus/<target>/.

The committed corpus is these seeds plus what the fuzzer found, minimised with
`cargo fuzz cmin`; rerun this only to change the seeds.
"""
import hashlib
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent / "corpus"

# server_request control bytes (see fuzz_targets/server_request.rs):
# mode, method, path, content-type, accept, origin, mcp-protocol-version, host, mcp-session-id.
LOCAL_OK = bytes([0, 0, 0, 1, 1, 0, 1, 1, 0])
LAMBDA_OK = bytes([1, 0, 0, 1, 1, 0, 1, 0, 0])
LAMBDA_ORIGINS = bytes([2, 0, 0, 1, 1, 3, 2, 5, 0])

KEY = "6f1c0a9e5b2d4c7f8e3a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e"


def rpc(method, params=None, id_=1):
    message = {"jsonrpc": "2.0", "method": method, "id": id_}
    if params is not None:
        message["params"] = params
    return json.dumps(message).encode()


def call(name, arguments):
    return rpc("tools/call", {"name": name, "arguments": arguments}, 7)


SERVER_BODIES = [
    rpc("initialize", {"clientInfo": {"name": "fuzz", "version": "1"},
                       "protocolVersion": "2025-03-26", "capabilities": {}}),
    rpc("tools/list", id_="s"),
    rpc("ping", id_=0),
    json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}).encode(),
    call("calculate", {"operation": "divide", "a": 1, "b": 0}),
    call("calculate", {"operation": "multiply", "a": 1e308, "b": 10}),
    call("get_weather", {"city": "Paris"}),
    call("lookup_user", {"user_id": "1"}),
    call("get_server_status", {}),
    call("no_such_tool", {}),
    json.dumps({"jsonrpc": "2.0", "result": {}, "id": 3}).encode(),
    b'[{"jsonrpc":"2.0","method":"ping","id":1}]',
    b'{"jsonrpc":"2.0","method":"ping","id":1',
    b"",
]

AUTHORIZER_EVENTS = [
    {"version": "2.0", "type": "REQUEST", "routeKey": "POST /mcp",
     "identitySource": [KEY], "headers": {"x-api-key": KEY, "host": "h"},
     "requestContext": {"requestId": "r", "http": {"method": "POST", "path": "/mcp"}}},
    {"version": "2.0", "headers": {"X-Api-Key": KEY}},
    {"identitySource": [KEY]},
    {"headers": {"x-api-key": KEY + "," + KEY}},
    {"headers": {"x-api-key": ""}, "identitySource": []},
    {"headers": None, "requestContext": None},
]


def write(target, data):
    directory = ROOT / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


# Every body in the deployed (Lambda) mode; the first three also in the other two modes.
for i, body in enumerate(SERVER_BODIES):
    for control in (LAMBDA_OK, LOCAL_OK, LAMBDA_ORIGINS) if i < 3 else (LAMBDA_OK,):
        write("server_request", control + body)
for event in AUTHORIZER_EVENTS:
    write("authorizer_event", json.dumps(event).encode())
# A structured-generator input: any first byte other than '{' or whitespace.
write("authorizer_event", bytes(range(1, 64)))
