//! The 2026-07-28 revision on the wire (per-request `_meta`, no session methods), read raw.

mod common;

use common::LocalServer;
use mcpctl_testkit::http_request;
use serde_json::{json, Value};

fn post_2026(server: &LocalServer, method: &str, params: Value) -> (u16, Value) {
    let body = json!({"jsonrpc": "2.0", "id": 41, "method": method, "params": params}).to_string();
    let (status, _, body) = http_request(
        server.addr,
        "POST",
        "/mcp",
        &[
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            ("MCP-Protocol-Version", "2026-07-28"),
            ("Mcp-Method", method),
        ],
        body.as_bytes(),
    )
    .expect("request completes");
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    (status, value)
}

fn meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    })
}

#[test]
fn session_methods_are_gone_whatever_their_params() {
    let s = LocalServer::start();
    for (method, params) in [
        ("initialize", json!({"_meta": meta()})),
        ("ping", json!({"_meta": meta()})),
        ("logging/setLevel", json!({"_meta": meta()})),
        (
            "logging/setLevel",
            json!({"_meta": meta(), "level": "info"}),
        ),
        ("resources/subscribe", json!({"_meta": meta()})),
        ("resources/unsubscribe", json!({"_meta": meta()})),
    ] {
        let (status, body) = post_2026(&s, method, params);
        assert_eq!(status, 404, "{method}: {body}");
        assert_eq!(body["error"]["code"], -32601, "{method}: {body}");
        assert_eq!(body["id"], 41);
    }
    // A malformed request of a method that still exists stays invalid params.
    let (status, body) = post_2026(&s, "tools/call", json!({"_meta": meta()}));
    assert_eq!(body["error"]["code"], -32602, "{status} {body}");
}

#[test]
fn discover_and_tools_list_answer_per_request() {
    let s = LocalServer::start();
    let (status, body) = post_2026(&s, "server/discover", json!({"_meta": meta()}));
    assert_eq!(status, 200, "{body}");
    let result = &body["result"];
    assert!(result["supportedVersions"]
        .as_array()
        .is_some_and(|v| v.iter().any(|v| v == "2026-07-28")));
    assert!(result["capabilities"]["tools"].is_object());
    if cfg!(not(feature = "conformance")) {
        // The example offers tools, resources and prompts: no logging, no completions (the
        // conformance build's fixtures have those).
        let capabilities = result["capabilities"].as_object().expect("capabilities");
        let mut keys: Vec<&String> = capabilities.keys().collect();
        keys.sort();
        assert_eq!(keys, ["prompts", "resources", "tools"]);
    }
    let (status, body) = post_2026(&s, "tools/list", json!({"_meta": meta()}));
    assert_eq!(status, 200);
    assert_eq!(body["result"]["resultType"], "complete");
    assert!(body["result"]["ttlMs"].is_u64());
}
