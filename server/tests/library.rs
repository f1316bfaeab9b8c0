//! The library with handlers that are not the seed's: `examples/minimal.rs` (a user's server:
//! a tool with structured output, a prompt, a resource and a template) run as a process through
//! `mcpctl_server::run`, and small handlers here through the same router and Lambda app.

mod common;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use common::LocalServer;
use mcpctl_server::prelude::*;
use mcpctl_server::{lambda, router, HttpOptions};
use mcpctl_testkit::http_request;
use serde_json::{json, Value};
use tower::ServiceExt;

const JSON: (&str, &str) = ("Content-Type", "application/json");
const ACCEPT: (&str, &str) = ("Accept", "application/json, text/event-stream");

/// target/debug/examples/minimal: `cargo test` builds it beside this test; built here when only
/// this test was asked for (`cargo test --test library`).
fn example() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/debug");
    let path = dir.join("examples").join("minimal");
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "-p", "mcpctl-server", "--example", "minimal"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cannot build the example");
    }
    path
}

fn rpc(server: &LocalServer, method: &str, params: Value) -> Value {
    rpc_with(server, &[], method, params).1
}

fn rpc_with(
    server: &LocalServer,
    extra: &[(&str, &str)],
    method: &str,
    params: Value,
) -> (u16, Value) {
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string();
    let mut headers = vec![JSON, ACCEPT];
    headers.extend_from_slice(extra);
    let (status, _, body) = http_request(server.addr, "POST", "/mcp", &headers, body.as_bytes())
        .expect("request completes");
    // rmcp refuses a foreign Origin in plain text.
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
    (status, value)
}

#[test]
fn a_users_server_gets_tools_prompts_resources_and_the_transport_rules() {
    let mut s = LocalServer::start_program(&example(), &[]);

    let init = rpc(
        &s,
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
    );
    let result = &init["result"];
    assert_eq!(result["serverInfo"]["name"], "greeter", "{init}");
    let mut capabilities: Vec<&String> = result["capabilities"]
        .as_object()
        .expect("capabilities")
        .keys()
        .collect();
    capabilities.sort();
    assert_eq!(capabilities, ["prompts", "resources", "tools"]);

    // A tool with structured output: outputSchema listed, structuredContent answered.
    let tools = rpc(&s, "tools/list", json!({}));
    let greet = &tools["result"]["tools"][0];
    assert_eq!(greet["name"], "greet", "{tools}");
    assert_eq!(
        greet["outputSchema"]["properties"]["message"]["type"],
        "string"
    );
    let call = rpc(
        &s,
        "tools/call",
        json!({"name": "greet", "arguments": {"name": "Ada"}}),
    );
    assert_eq!(
        call["result"]["structuredContent"],
        json!({"message": "Hello, Ada!", "length": 11})
    );
    let text = call["result"]["content"][0]["text"].as_str().expect("text");
    assert_eq!(
        serde_json::from_str::<Value>(text).expect("JSON text"),
        call["result"]["structuredContent"]
    );
    let failed = rpc(
        &s,
        "tools/call",
        json!({"name": "greet", "arguments": {"name": " "}}),
    );
    assert_eq!(failed["result"]["isError"], true, "{failed}");

    // Resources: the fixed one listed, the template listed, both read; an unknown URI named.
    let list = rpc(&s, "resources/list", json!({}));
    assert_eq!(
        list["result"]["resources"],
        json!([{"uri": "demo://about", "name": "about", "title": "About", "description": "What this server is."}])
    );
    let templates = rpc(&s, "resources/templates/list", json!({}));
    assert_eq!(
        templates["result"]["resourceTemplates"],
        json!([{
            "uriTemplate": "demo://greetings/{name}",
            "name": "greeting",
            "description": "The greeting for one name, e.g. demo://greetings/Ada.",
            "mimeType": "application/json",
        }])
    );
    let about = rpc(&s, "resources/read", json!({"uri": "demo://about"}));
    assert_eq!(
        about["result"]["contents"],
        json!([{"uri": "demo://about", "mimeType": "text/plain", "text": "A demo MCP server built on mcpctl-server."}])
    );
    let greeting = rpc(&s, "resources/read", json!({"uri": "demo://greetings/Bob"}));
    let contents = &greeting["result"]["contents"][0];
    assert_eq!(contents["mimeType"], "application/json", "{greeting}");
    assert_eq!(
        serde_json::from_str::<Value>(contents["text"].as_str().expect("text")).expect("JSON"),
        json!({"message": "Hello, Bob!", "length": 11})
    );
    for uri in [
        "demo://nothing",
        "demo://greetings/",
        "demo://greetings/a/b",
    ] {
        let missing = rpc(&s, "resources/read", json!({ "uri": uri }));
        assert_eq!(missing["error"]["code"], -32002, "{uri}: {missing}");
        assert_eq!(missing["error"]["data"]["uri"], uri);
    }

    // A prompt with an argument.
    let prompts = rpc(&s, "prompts/list", json!({}));
    let prompt = &prompts["result"]["prompts"][0];
    assert_eq!(prompt["name"], "greet_warmly", "{prompts}");
    assert_eq!(
        prompt["description"],
        "Asks the model to greet someone warmly."
    );
    assert_eq!(prompt["arguments"][0]["name"], "name");
    assert_eq!(prompt["arguments"][0]["required"], true);
    let got = rpc(
        &s,
        "prompts/get",
        json!({"name": "greet_warmly", "arguments": {"name": "Ada"}}),
    );
    assert_eq!(got["result"]["messages"][0]["role"], "user", "{got}");
    assert!(got["result"]["messages"][0]["content"]["text"]
        .as_str()
        .is_some_and(|t| t.contains("Greet Ada warmly")));
    let no_argument = rpc(&s, "prompts/get", json!({"name": "greet_warmly"}));
    assert_eq!(no_argument["error"]["code"], -32602, "{no_argument}");

    // What run() adds for any handler: malformed params of a standard method are -32602
    // (handler::untyped_request), the body limit, JSON-RPC parse errors, the Origin check.
    let malformed = rpc(&s, "tools/call", json!({"arguments": {}}));
    assert_eq!(malformed["error"]["code"], -32602, "{malformed}");
    let mut big = br#"{"jsonrpc":"2.0","method":"tools/list","id":1,"pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'a', 1024 * 1024 + 1));
    big.extend(br#""}"#);
    let (status, _, _) = http_request(s.addr, "POST", "/mcp", &[JSON, ACCEPT], &big).unwrap();
    assert_eq!(status, 413);
    let (status, _, body) =
        http_request(s.addr, "POST", "/mcp", &[JSON, ACCEPT], b"{\"jsonrpc\":").unwrap();
    assert_eq!(status, 400);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"],
        -32700
    );
    let (status, refusal) = rpc_with(
        &s,
        &[("Origin", "http://evil.example")],
        "tools/list",
        json!({}),
    );
    assert_eq!(status, 403, "{refusal}");
    let (status, _) = rpc_with(
        &s,
        &[("Origin", "http://localhost:6274")],
        "tools/list",
        json!({}),
    );
    assert_eq!(status, 200);

    // Graceful shutdown on SIGTERM.
    let exit = s.terminate().expect("exits after SIGTERM");
    assert!(exit.success(), "{exit:?}");
}

/// Only tools, with everything rmcp's `#[tool_handler]` generates (get_info included).
#[derive(Clone)]
struct ToolsOnly;

#[tool_router]
impl ToolsOnly {
    #[tool(description = "Answers pong.")]
    async fn ping(&self) -> String {
        "pong".into()
    }

    #[tool(description = "Answers with `size` bytes of text.")]
    async fn big(&self, Parameters(Big { size }): Parameters<Big>) -> String {
        "x".repeat(size)
    }
}

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Big {
    size: usize,
}

#[tool_handler]
impl ServerHandler for ToolsOnly {}

async fn send(app: &axum::Router, headers: &[(&str, &str)], body: Value) -> (u16, Value) {
    let mut request = axum::http::Request::post("/mcp");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

#[tokio::test]
async fn capabilities_follow_what_the_handler_has_and_local_mode_checks_the_host() {
    let app = router(ToolsOnly, HttpOptions::local(Vec::new()));
    let local = [("host", "127.0.0.1:8080"), JSON, ACCEPT];
    let (status, init) = send(
        &app,
        &local,
        request(
            1,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{init}");
    let capabilities = init["result"]["capabilities"].as_object().unwrap();
    assert_eq!(capabilities.keys().collect::<Vec<_>>(), ["tools"]);
    for method in ["resources/list", "prompts/list"] {
        let (_, v) = send(&app, &local, request(2, method, json!({}))).await;
        assert_eq!(v["error"]["code"], -32601, "{method}: {v}");
    }
    let (_, v) = send(
        &app,
        &local,
        request(3, "tools/call", json!({"name": "ping", "arguments": {}})),
    )
    .await;
    assert_eq!(v["result"]["content"][0]["text"], "pong");
    // DNS rebinding: a foreign Host is refused locally, accepted in Lambda mode (API Gateway's).
    let foreign = [("host", "evil.example"), JSON, ACCEPT];
    let (status, _) = send(&app, &foreign, request(4, "tools/list", json!({}))).await;
    assert_eq!(status, 403);
    let lambda_router = router(ToolsOnly, HttpOptions::lambda(None));
    let (status, _) = send(
        &lambda_router,
        &foreign,
        request(4, "tools/list", json!({})),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn lambda_app_strips_the_stage_and_guards_the_response_size_for_any_handler() {
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::request::RequestContext;

    let app = lambda::app(router(ToolsOnly, HttpOptions::lambda(None)));
    let call = |size: usize| {
        let mut req = lambda_http::Request::new(lambda_http::Body::from(
            request(
                9,
                "tools/call",
                json!({"name": "big", "arguments": {"size": size}}),
            )
            .to_string(),
        ));
        *req.method_mut() = lambda_http::http::Method::POST;
        *req.uri_mut() = "/prod/mcp".parse().unwrap();
        req.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        req.headers_mut().insert(
            "host",
            "abc123.execute-api.eu-west-1.amazonaws.com"
                .parse()
                .unwrap(),
        );
        req.headers_mut().insert(
            "accept",
            "application/json, text/event-stream".parse().unwrap(),
        );
        let mut ctx = ApiGatewayV2httpRequestContext::default();
        ctx.stage = Some("prod".into());
        req.extensions_mut()
            .insert(RequestContext::ApiGatewayV2(ctx));
        let app = app.clone();
        async move {
            let response = app.oneshot(req).await.unwrap();
            let status = response.status().as_u16();
            let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            let value = serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|e| {
                panic!(
                    "{status}: not JSON ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            });
            (status, value)
        }
    };
    let (status, small) = call(10).await;
    assert_eq!(status, 200, "{small}");
    assert_eq!(small["result"]["content"][0]["text"], "xxxxxxxxxx");
    let (status, huge) = call(7 * 1024 * 1024).await;
    assert_eq!(status, 200);
    assert_eq!(huge["id"], 9);
    assert_eq!(huge["error"]["code"], -32603);
    assert!(huge["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("6 MB")));
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_log_filter_never_writes_the_raw_lambda_event() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber =
        mcpctl_server::log_subscriber(tracing_subscriber::EnvFilter::new("trace"), move || {
            writer.clone()
        });
    tracing::subscriber::with_default(subscriber, || {
        tracing::trace!(target: "lambda_runtime", "raw event {{\"x-api-key\":\"SECRET-1\"}}");
        tracing::trace!(target: "lambda_runtime::layers::trace", "SECRET-2");
        tracing::debug!(target: "lambda_runtime", "kept: runtime debug");
        tracing::trace!(target: "my_tools", "kept: a user's trace");
    });
    let out = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(!out.contains("SECRET"), "{out}");
    assert!(out.contains("kept: runtime debug"), "{out}");
    assert!(out.contains("kept: a user's trace"), "{out}");
}
