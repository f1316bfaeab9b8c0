//! The stateless machinery a tool uses to talk to the client mid-call (`mcpctl_server::input`,
//! `mcpctl_server::notify`), on rmcp's stateless Streamable HTTP transport configured as the
//! server configures it, with tools written the way a user would write them.

#![allow(deprecated)] // sampling, roots and logging types: SEP-2577-deprecated in rmcp

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use mcpctl_server::input::{Input, InputKind};
use mcpctl_server::notify::{Log, Progress};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, ErrorData, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{schemars, tool, tool_handler, tool_router, RoleServer, ServerHandler};
use serde::Deserialize;
use serde_json::{json, Value};
use tower::ServiceExt;

#[derive(Clone)]
struct Demo;

#[derive(Deserialize, schemars::JsonSchema)]
struct Greeting {
    greeting: String,
}

#[tool_router]
impl Demo {
    #[tool(description = "Asks for a name, then greets.")]
    async fn greet(
        &self,
        input: Input,
        Parameters(Greeting { greeting }): Parameters<Greeting>,
    ) -> Result<CallToolResponse, ErrorData> {
        match (input.state(), input.elicitation("name")?) {
            (Some(b"asked"), Some(answer)) => {
                let name = answer.content_str("name").unwrap_or("?").to_owned();
                Ok(CallToolResult::success(vec![ContentBlock::text(format!("{greeting}, {name}"))]).into())
            }
            _ => Ok(input
                .ask()
                .elicit(
                    "name",
                    "Your name?",
                    json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
                )
                .state(b"asked".to_vec())
                .build()?
                .into()),
        }
    }

    #[tool(description = "Asks the model, if the client can be asked.")]
    async fn ask_model(&self, input: Input) -> Result<CallToolResponse, ErrorData> {
        assert!(!input.client_supports(InputKind::Sampling));
        match input.sampling("q")? {
            Some(_) => Ok(CallToolResult::success(vec![ContentBlock::text("answered")]).into()),
            None => Ok(input.ask().sample("q", "Hi?", 10).build()?.into()),
        }
    }

    #[tool(description = "Logs at three levels and reports progress.")]
    async fn chatty(&self, context: RequestContext<RoleServer>) -> String {
        let log = Log::new(&context);
        log.debug("debug line").await;
        log.info("info line").await;
        log.error("error line").await;
        let progress = Progress::new(&context);
        progress.report(1.0, Some(2.0), None).await;
        progress.report(2.0, Some(2.0), Some("done")).await;
        "chatty done".into()
    }
}

#[tool_handler]
impl ServerHandler for Demo {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_logging()
                .enable_tools()
                .build(),
        )
    }
}

fn app() -> axum::Router {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_sse_retry(None);
    let service = StreamableHttpService::new(
        || Ok(Demo),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    axum::Router::new().route_service("/mcp", service)
}

const V2026: &str = "2026-07-28";

/// One POST; the JSON-RPC messages of the reply (one JSON body, or every SSE `data:`).
async fn call(
    version: &str,
    method: &str,
    name: Option<&str>,
    params: Value,
) -> (StatusCode, String, Vec<Value>) {
    let mut request = Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", version);
    if version == V2026 {
        request = request.header("mcp-method", method);
        if let Some(name) = name {
            request = request.header("mcp-name", name);
        }
    }
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params});
    let response = app()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let messages = if content_type.starts_with("text/event-stream") {
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter(|d| !d.trim().is_empty())
            .map(|d| serde_json::from_str(d.trim()).unwrap())
            .collect()
    } else if text.is_empty() {
        Vec::new()
    } else {
        vec![serde_json::from_str(&text).unwrap()]
    };
    (status, content_type, messages)
}

fn meta(capabilities: Value, extra: Value) -> Value {
    let mut meta = json!({
        "io.modelcontextprotocol/protocolVersion": V2026,
        "io.modelcontextprotocol/clientCapabilities": capabilities,
    });
    if let (Some(m), Some(e)) = (meta.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    meta
}

async fn tool_call(name: &str, params: Value) -> (StatusCode, Vec<Value>) {
    let (status, _, messages) = call(V2026, "tools/call", Some(name), params).await;
    (status, messages)
}

#[tokio::test]
async fn input_required_round_trip_with_sealed_state() {
    let caps = json!({"elicitation": {}});
    let (status, messages) = tool_call(
        "greet",
        json!({"name": "greet", "arguments": {"greeting": "Hello"}, "_meta": meta(caps.clone(), json!({}))}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let result = &messages[0]["result"];
    assert_eq!(result["resultType"], "input_required", "{result}");
    assert_eq!(
        result["inputRequests"]["name"]["method"],
        "elicitation/create"
    );
    let state = result["requestState"]
        .as_str()
        .expect("a requestState")
        .to_owned();

    let answer = json!({"name": {"action": "accept", "content": {"name": "Ferris"}}});
    let (_, messages) = tool_call(
        "greet",
        json!({"name": "greet", "arguments": {"greeting": "Hello"}, "_meta": meta(caps.clone(), json!({})),
               "inputResponses": answer, "requestState": state}),
    )
    .await;
    assert_eq!(messages[0]["result"]["content"][0]["text"], "Hello, Ferris");

    // Tampered, or replayed against other arguments: refused before the tool runs.
    for (arguments, state) in [
        (json!({"greeting": "Hello"}), format!("{state}x")),
        (json!({"greeting": "Bye"}), state.clone()),
    ] {
        let (_, messages) = tool_call(
            "greet",
            json!({"name": "greet", "arguments": arguments, "_meta": meta(caps.clone(), json!({})),
                   "inputResponses": answer, "requestState": state}),
        )
        .await;
        assert_eq!(messages[0]["error"]["code"], -32602, "{}", messages[0]);
    }
}

#[tokio::test]
async fn undeclared_capability_is_32021_with_http_400() {
    let (status, messages) = tool_call(
        "ask_model",
        json!({"name": "ask_model", "arguments": {}, "_meta": meta(json!({}), json!({}))}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(messages[0]["error"]["code"], -32021);
    assert!(messages[0]["error"]["data"]["requiredCapabilities"]["sampling"].is_object());
}

#[tokio::test]
async fn earlier_revisions_cannot_be_asked() {
    let (_, _, messages) = call(
        "2025-11-25",
        "tools/call",
        None,
        json!({"name": "greet", "arguments": {"greeting": "Hi"}}),
    )
    .await;
    assert_eq!(messages[0]["error"]["code"], -32600, "{}", messages[0]);
}

#[tokio::test]
async fn logs_follow_the_per_request_level_and_progress_its_token() {
    // 2026-07-28 without logLevel or progressToken: nothing but the result, as one JSON body.
    let (_, content_type, messages) = call(
        V2026,
        "tools/call",
        Some("chatty"),
        json!({"name": "chatty", "arguments": {}, "_meta": meta(json!({}), json!({}))}),
    )
    .await;
    assert_eq!(content_type, "application/json");
    assert_eq!(messages.len(), 1);

    // logLevel warning: only the error line; progressToken: both reports; then the result.
    let (_, content_type, messages) = call(
        V2026,
        "tools/call",
        Some("chatty"),
        json!({"name": "chatty", "arguments": {},
               "_meta": meta(json!({}), json!({"io.modelcontextprotocol/logLevel": "warning", "progressToken": "p1"}))}),
    )
    .await;
    assert!(content_type.starts_with("text/event-stream"));
    let logs: Vec<&Value> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/message")
        .collect();
    assert_eq!(logs.len(), 1, "{messages:?}");
    assert_eq!(logs[0]["params"]["data"], "error line");
    let progress: Vec<&Value> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 2);
    assert_eq!(progress[1]["params"]["progressToken"], "p1");
    assert_eq!(
        messages.last().unwrap()["result"]["content"][0]["text"],
        "chatty done"
    );

    // Before 2026-07-28 there is no per-request level and no session to keep one: every line.
    let (_, _, messages) = call(
        "2025-11-25",
        "tools/call",
        None,
        json!({"name": "chatty", "arguments": {}}),
    )
    .await;
    let logs = messages
        .iter()
        .filter(|m| m["method"] == "notifications/message")
        .count();
    assert_eq!(logs, 3, "{messages:?}");
}
