//! The HTTP surface: `POST /mcp` carries JSON-RPC; everything else is refused with the status a
//! client can act on.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::fast_path::{FastPath, Method as FastMethod, Plain};
use crate::tools::McpServer;

/// The MCP endpoint path, the same locally and behind API Gateway.
pub const MCP_PATH: &str = "/mcp";

/// API Gateway accepts 10 MB, but no JSON-RPC request to these tools needs more than a fraction
/// of that; refusing early keeps a Lambda from buffering garbage.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct HttpOptions {
    /// Hosts accepted in the `Host` header; empty disables the check (behind API Gateway the
    /// host is the API's domain, and the authorizer already guards the endpoint).
    pub allowed_hosts: Vec<String>,
    /// Browser origins accepted in the `Origin` header; `None` disables the check.
    pub allowed_origins: Option<Vec<String>>,
    /// Answer plain `tools/list` and `tools/call` requests without rmcp's per-request serve
    /// loop (see `fast_path`); off only to compare against rmcp alone.
    pub fast_path: bool,
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
            fast_path: true,
        }
    }

    /// Lambda mode: the request came through API Gateway and its authorizer.
    pub fn lambda(allowed_origins: Option<Vec<String>>) -> Self {
        Self {
            allowed_hosts: Vec::new(),
            allowed_origins,
            fast_path: true,
        }
    }
}

/// The complete application: `/mcp` and a JSON 404 for anything else.
pub fn router(options: HttpOptions) -> Router {
    let fast_path = options.fast_path.then(|| Arc::new(FastPath::default()));
    router_with_fast_path(options, fast_path)
}

pub(crate) fn router_with_fast_path(
    options: HttpOptions,
    fast_path: Option<Arc<FastPath>>,
) -> Router {
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
    let service = StreamableHttpService::new(
        || Ok(McpServer),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .route_service(MCP_PATH, service)
        .route_layer(middleware::from_fn_with_state(fast_path, jsonrpc_envelope))
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
const INTERNAL_ERROR: i32 = -32603;

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
async fn jsonrpc_envelope(
    State(fast_path): State<Option<Arc<FastPath>>>,
    request: Request,
    next: Next,
) -> Response {
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
    let plain = fast_path
        .as_ref()
        .and_then(|_| Plain::recognize(&bytes, &parts.headers));
    if let (Some(fast_path), Some(plain)) = (&fast_path, &plain) {
        match plain.method {
            FastMethod::ToolsList => {
                if let Some(answer) = fast_path.tools_list(plain) {
                    return answer;
                }
            }
            FastMethod::ToolsCall => {
                if let Some(call) = fast_path.prepare_call(plain, &bytes) {
                    return call.run(parts).await;
                }
            }
        }
    }
    let mut response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if let (Some(fast_path), Some(plain)) = (fast_path, plain) {
        response = remember(&fast_path, plain, response).await;
    }
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

/// Shows rmcp's answer to the fast path and hands it on to the client unchanged.
async fn remember(fast_path: &FastPath, plain: Plain, response: Response) -> Response {
    let (parts, body) = response.into_parts();
    // rmcp answers a JSON request with one complete body; a stream (SSE) is passed on as is.
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/json");
    if !is_json {
        return Response::from_parts(parts, body);
    }
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            fast_path.remember(plain, parts.status, &parts.headers, &bytes);
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(_) => internal_error(),
    }
}

pub(crate) fn internal_error() -> Response {
    jsonrpc_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        INTERNAL_ERROR,
        "Internal error",
    )
}
