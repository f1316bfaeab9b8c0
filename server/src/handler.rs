//! Answers every `ServerHandler` of a stateless server gives the same way.

use rmcp::model::{CustomRequest, ErrorCode, ErrorData, ProtocolVersion};
use rmcp::service::RequestContext;
use rmcp::RoleServer;

/// Whether the request uses the 2026-07-28 revision (per-request `_meta`, no session methods).
pub fn is_2026_07_28_or_later(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

/// The error for a request rmcp could not type, for `ServerHandler::on_custom_request`:
///
/// ```text
/// async fn on_custom_request(&self, request: CustomRequest, context: RequestContext<RoleServer>)
///     -> Result<CustomResult, ErrorData> {
///     Err(mcpctl_server::handler::untyped_request(&request, &context))
/// }
/// ```
///
/// For a standard MCP method that means its params were malformed (JSON-RPC -32602); only other
/// methods are really unknown (-32601, rmcp's default for both). From 2026-07-28 the session
/// methods are gone: whatever their params, they are -32601 (HTTP 404), as every other method
/// the server does not have.
pub fn untyped_request(request: &CustomRequest, context: &RequestContext<RoleServer>) -> ErrorData {
    let method = request.method.as_str();
    let removed = is_2026_07_28_or_later(context) && REMOVED_IN_2026_07_28.contains(&method);
    if STANDARD_METHODS.contains(&method) && !removed {
        ErrorData::new(
            ErrorCode::INVALID_PARAMS,
            format!("Invalid params for {method}"),
            None,
        )
    } else {
        ErrorData::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("Method not found: {method}"),
            None,
        )
    }
}

/// Methods of the earlier revisions that 2026-07-28 removed (sessions, server-kept state).
pub const REMOVED_IN_2026_07_28: &[&str] = &[
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
];

/// MCP request methods rmcp types itself.
pub const STANDARD_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
];
