//! Status codes and JSON-RPC errors on the wire, read raw so nothing is smoothed over by a client.

mod common;

use common::LocalServer;
use mcpctl_testkit::http_request;
use serde_json::Value;

const JSON: (&str, &str) = ("Content-Type", "application/json");
const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");

fn post(
    server: &LocalServer,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    http_request(server.addr, "POST", "/mcp", headers, body).expect("request completes")
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn seed_curl_calls_work_verbatim() {
    let s = LocalServer::start();
    let (status, headers, body) = post(
        &s,
        &[JSON, ACCEPT],
        br#"{"jsonrpc":"2.0","method":"initialize","params":{"clientInfo":{"name":"test","version":"1.0"},"protocolVersion":"2025-03-26","capabilities":{}},"id":1}"#,
    );
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("application/json"));
    assert!(
        header(&headers, "mcp-session-id").is_none(),
        "stateless: no session"
    );
    let v = json(&body);
    assert_eq!(v["result"]["protocolVersion"], "2025-03-26");
    assert!(v["result"]["capabilities"]["tools"].is_object());

    let (status, _, body) = post(
        &s,
        &[JSON, ACCEPT],
        br#"{"jsonrpc":"2.0","method":"tools/list","id":2}"#,
    );
    assert_eq!(status, 200);
    let names: Vec<String> = json(&body)["result"]["tools"]
        .as_array()
        .expect("tools array")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_string())
        .collect();
    for tool in [
        "get_weather",
        "calculate",
        "get_server_status",
        "lookup_user",
    ] {
        assert!(
            names.iter().any(|n| n == tool),
            "{tool} missing from {names:?}"
        );
    }

    let (status, _, body) = post(
        &s,
        &[JSON, ACCEPT],
        br#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Kyiv"}},"id":3}"#,
    );
    assert_eq!(status, 200);
    let v = json(&body);
    assert_eq!(v["id"], 3);
    assert_eq!(v["result"]["structuredContent"]["city"], "Kyiv");
    assert_eq!(v["result"]["isError"], false);
}

#[test]
fn protocol_versions_are_negotiated() {
    let s = LocalServer::start();
    for (asked, expected) in [
        ("2025-03-26", "2025-03-26"),
        ("2025-06-18", "2025-06-18"),
        ("2025-11-25", "2025-11-25"),
        ("1999-01-01", "2025-11-25"),
    ] {
        let body = format!(
            r#"{{"jsonrpc":"2.0","method":"initialize","params":{{"clientInfo":{{"name":"t","version":"1"}},"protocolVersion":"{asked}","capabilities":{{}}}},"id":1}}"#
        );
        let (status, _, body) = post(&s, &[JSON, ACCEPT], body.as_bytes());
        assert_eq!(status, 200, "{asked}");
        assert_eq!(
            json(&body)["result"]["protocolVersion"],
            expected,
            "asked {asked}"
        );
    }
}

#[test]
fn malformed_json_is_parse_error() {
    let s = LocalServer::start();
    let (status, _, body) = post(&s, &[JSON, ACCEPT], br#"{"jsonrpc":"#);
    assert_eq!(status, 400);
    let v = json(&body);
    assert_eq!(v["error"]["code"], -32700);
    assert!(v["id"].is_null());
}

#[test]
fn non_request_json_is_invalid_request() {
    let s = LocalServer::start();
    for body in [
        &br#"[{"jsonrpc":"2.0","method":"tools/list","id":1}]"#[..],
        br#"42"#,
        br#"{"hello":"world"}"#,
    ] {
        let (status, _, resp) = post(&s, &[JSON, ACCEPT], body);
        assert_eq!(status, 400, "{}", String::from_utf8_lossy(body));
        assert_eq!(json(&resp)["error"]["code"], -32600);
    }
}

#[test]
fn unknown_method_is_method_not_found() {
    let s = LocalServer::start();
    let (_, _, body) = post(
        &s,
        &[JSON, ACCEPT],
        br#"{"jsonrpc":"2.0","method":"no/such","id":9}"#,
    );
    let v = json(&body);
    assert_eq!(v["error"]["code"], -32601);
    assert_eq!(v["id"], 9);
}

#[test]
fn invalid_params_are_invalid_params() {
    let s = LocalServer::start();
    for body in [
        // tools/call without the required tool name
        &br#"{"jsonrpc":"2.0","method":"tools/call","params":{"arguments":{}},"id":4}"#[..],
        // a tool that does not exist
        br#"{"jsonrpc":"2.0","method":"tools/call","params":{"name":"nope","arguments":{}},"id":4}"#,
    ] {
        let (status, _, resp) = post(&s, &[JSON, ACCEPT], body);
        assert_ne!(status, 500);
        assert_eq!(json(&resp)["error"]["code"], -32602, "{}", String::from_utf8_lossy(&resp));
    }
}

#[test]
fn tool_failures_are_tool_errors_not_protocol_errors() {
    let s = LocalServer::start();
    for call in [
        r#"{"name":"calculate","arguments":{"operation":"divide","a":1,"b":0}}"#,
        r#"{"name":"lookup_user","arguments":{"user_id":"999"}}"#,
        // Argument validation is reported to the model so it can correct itself (MCP 2025-11-25).
        r#"{"name":"calculate","arguments":{"operation":"pow","a":1,"b":2}}"#,
    ] {
        let body = format!(r#"{{"jsonrpc":"2.0","method":"tools/call","params":{call},"id":5}}"#);
        let (status, _, resp) = post(&s, &[JSON, ACCEPT], body.as_bytes());
        assert_eq!(status, 200);
        let v = json(&resp);
        assert_eq!(v["result"]["isError"], true, "{call}: {v}");
        assert!(v.get("error").is_none());
    }
}

#[test]
fn body_over_one_mib_is_413() {
    let s = LocalServer::start();
    let mut big = br#"{"jsonrpc":"2.0","method":"tools/list","id":1,"pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 1024 * 1024 + 1));
    big.extend(br#""}"#);
    let (status, _, _) = post(&s, &[JSON, ACCEPT], &big);
    assert_eq!(status, 413);
}

#[test]
fn wrong_content_type_is_415() {
    let s = LocalServer::start();
    let (status, _, _) = post(
        &s,
        &[("Content-Type", "text/plain"), ACCEPT],
        br#"{"jsonrpc":"2.0","method":"tools/list","id":1}"#,
    );
    assert_eq!(status, 415);
}

#[test]
fn accept_without_json_and_event_stream_is_406() {
    let s = LocalServer::start();
    for accept in [&[("Accept", "text/html")][..], &[]] {
        let mut headers = vec![JSON];
        headers.extend_from_slice(accept);
        let (status, _, _) = post(
            &s,
            &headers,
            br#"{"jsonrpc":"2.0","method":"tools/list","id":1}"#,
        );
        assert_eq!(status, 406, "{accept:?}");
    }
}

#[test]
fn get_and_delete_are_405_with_allow() {
    let s = LocalServer::start();
    for method in ["GET", "DELETE"] {
        let (status, headers, _) =
            http_request(s.addr, method, "/mcp", &[ACCEPT], b"").expect("request");
        assert_eq!(status, 405, "{method}");
        assert_eq!(header(&headers, "allow"), Some("POST"));
    }
}

#[test]
fn other_paths_are_json_404() {
    let s = LocalServer::start();
    let (status, _, body) =
        http_request(s.addr, "POST", "/other", &[JSON, ACCEPT], b"{}").expect("request");
    assert_eq!(status, 404);
    assert_eq!(json(&body)["message"], "Not Found");
}

#[test]
fn foreign_origin_is_refused_and_configured_origin_allowed() {
    let s = LocalServer::start_with(&[("MCP_ALLOWED_ORIGINS", "https://app.example.com:443")]);
    let list = br#"{"jsonrpc":"2.0","method":"tools/list","id":1}"#;
    let (status, _, _) = post(&s, &[JSON, ACCEPT, ("Origin", "http://evil.example")], list);
    assert_eq!(status, 403);
    let (status, _, _) = post(
        &s,
        &[JSON, ACCEPT, ("Origin", "http://localhost:6274")],
        list,
    );
    assert_eq!(status, 200);
    let (status, _, _) = post(
        &s,
        &[JSON, ACCEPT, ("Origin", "https://app.example.com")],
        list,
    );
    assert_eq!(status, 200);
}

#[test]
fn notifications_are_accepted_without_body() {
    let s = LocalServer::start();
    let (status, _, body) = post(
        &s,
        &[JSON, ACCEPT],
        br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    );
    assert_eq!(status, 202);
    assert!(body.is_empty());
}
