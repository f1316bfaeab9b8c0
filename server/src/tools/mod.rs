//! The server's tools. Each file adds its tools to [`McpServer`] with `#[tool_router]`; adding a
//! tool is one `#[tool]` function in one of these impl blocks (see README, "Add a tool").

mod calculate;
mod mock_data;
pub mod status;
mod users;
mod weather;

use std::sync::OnceLock;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CustomRequest, CustomResult, ErrorCode, ErrorData};
use rmcp::service::RequestContext;
use rmcp::{tool_handler, RoleServer, ServerHandler};

/// Stateless: a fresh value per request costs nothing, because the tool table is built once.
#[derive(Debug, Clone, Copy, Default)]
pub struct McpServer;

/// Every tool of every file, built once per process: schemas are generated here, not per
/// request.
pub fn tool_router() -> &'static ToolRouter<McpServer> {
    static ROUTER: OnceLock<ToolRouter<McpServer>> = OnceLock::new();
    ROUTER.get_or_init(|| {
        McpServer::weather_tools()
            + McpServer::calculate_tools()
            + McpServer::status_tools()
            + McpServer::user_tools()
    })
}

#[tool_handler(
    router = tool_router(),
    name = "mcpctl-server",
    instructions = "Example tools: weather by city, arithmetic, server status and a user directory."
)]
impl ServerHandler for McpServer {
    /// rmcp hands over a request it could not type. For a standard MCP method that means its
    /// params were malformed (JSON-RPC -32602); only other methods are really unknown (-32601).
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        let method = request.method;
        if STANDARD_METHODS.contains(&method.as_str()) {
            Err(ErrorData::new(
                ErrorCode::INVALID_PARAMS,
                format!("Invalid params for {method}"),
                None,
            ))
        } else {
            Err(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("Method not found: {method}"),
                None,
            ))
        }
    }
}

/// Tools that never send the client anything while they run (no progress, logging, sampling
/// or elicitation through `context.peer`). The HTTP layer may call these without rmcp's
/// per-request serve loop, which is what carries such messages (see `fast_path`). A new tool
/// works without being listed here; list it only once the above holds for it.
pub const QUIET_TOOLS: &[&str] = &[
    "get_weather",
    "calculate",
    "get_server_status",
    "lookup_user",
];

/// MCP request methods rmcp types itself.
const STANDARD_METHODS: &[&str] = &[
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
