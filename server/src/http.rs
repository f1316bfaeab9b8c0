//! The HTTP surface: `POST /mcp` carries JSON-RPC; everything else is refused with the status a
//! client can act on.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::ServerHandler;

/// The MCP endpoint path, the same locally and behind API Gateway.
pub const MCP_PATH: &str = "/mcp";

/// API Gateway accepts 10 MB, but no JSON-RPC request to an MCP server needs more than a
/// fraction of that; refusing early keeps a Lambda from buffering garbage.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// Hosts accepted in the `Host` header; empty disables the check (behind API Gateway the
    /// host is the API's domain, and the authorizer already guards the endpoint).
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted in the `Origin` header; `None` disables the check.
    pub allowed_origins: Option<Vec<String>>,
}

impl HttpOptions {
    /// Local mode: only loopback hosts, and only browser pages served from loopback, so a web
    /// page cannot reach the server through DNS rebinding (the MCP spec asks for this check).
    pub fn local(extra_origins: Vec<String>) -> Self {
        let mut origins: Vec<String> =
            ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
                .into_iter()
                .map(String::from)
                .collect();
        origins.extend(extra_origins);
        Self {
            allowed_hosts: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
            allowed_origins: Some(origins),
        }
    }

    /// Lambda mode: the request came through API Gateway and its authorizer.
    pub fn lambda(allowed_origins: Option<Vec<String>>) -> Self {
        Self {
            allowed_hosts: Vec::new(),
            allowed_origins,
        }
    }
}

/// The complete application for `server`: `POST /mcp` (stateless Streamable HTTP, JSON
/// responses) and a JSON 404 for anything else. `server` is shared by every request.
pub fn router<S: ServerHandler>(server: S, options: HttpOptions) -> Router {
    let server = Arc::new(server);
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_sse_retry(None)
        .with_max_request_body_bytes(MAX_BODY_BYTES);
    config = if options.allowed_hosts.is_empty() {
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(options.allowed_hosts)
    };
    config = match options.allowed_origins {
        Some(origins) => config
            .with_allowed_origins(origins)
            .enforce_origin_validation(),
        None => config.disable_allowed_origins(),
    };
    // Stateless: rmcp asks for a handler per request; an `Arc` clone is all that costs.
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service(MCP_PATH, service)
        .route_layer(middleware::from_fn(jsonrpc_envelope))
        .fallback(not_found)
}

async fn not_found() -> impl IntoResponse {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"message":"Not Found"}"#,
    )
}

/// JSON-RPC error codes the transport itself answers with.
const PARSE_ERROR: i32 = -32700;
const INVALID_REQUEST: i32 = -32600;

fn jsonrpc_error(status: StatusCode, code: i32, message: &str) -> Response {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": code, "message": message },
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn is_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Gives a POST body the JSON-RPC answers clients expect before rmcp sees it: a body that is
/// not JSON gets -32700 and one that is not a single request object gets -32600 (both with
/// 400), where rmcp alone would answer 415 in plain text. Everything else passes unchanged.
async fn jsonrpc_envelope(request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !is_json_content_type(request.headers()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                [(header::CONTENT_TYPE, "application/json")],
                format!(r#"{{"message":"Request body exceeds {MAX_BODY_BYTES} bytes"}}"#),
            )
                .into_response()
        }
    };
    if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_err() {
        return jsonrpc_error(StatusCode::BAD_REQUEST, PARSE_ERROR, "Parse error");
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return jsonrpc_error(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            "Invalid Request: expected one JSON-RPC message object (batches are not supported)",
        );
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    // Valid JSON with an acceptable Content-Type that rmcp still cannot read is not JSON-RPC.
    if response.status() == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        return jsonrpc_error(
            StatusCode::BAD_REQUEST,
            INVALID_REQUEST,
            "Invalid Request: not a JSON-RPC 2.0 message",
        );
    }
    response
}
