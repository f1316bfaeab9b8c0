//! The server's tools. Each file adds its tools to [`McpServer`] with `#[tool_router]`; adding a
//! tool is one `#[tool]` function in one of these impl blocks (see README, "Add a tool").

mod calculate;
mod mock_data;
pub mod status;
mod users;
mod weather;

use std::sync::OnceLock;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{
    CustomRequest, CustomResult, ErrorCode, ErrorData, Implementation, ProtocolVersion,
    ServerCapabilities, ServerConfig,
};
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
        let router = McpServer::weather_tools()
            + McpServer::calculate_tools()
            + McpServer::status_tools()
            + McpServer::user_tools();
        #[cfg(feature = "conformance")]
        let router = router + crate::conformance::tools();
        router
    })
}

const INSTRUCTIONS: &str =
    "Example tools: weather by city, arithmetic, server status and a user directory.";

/// What `initialize` and `server/discover` answer, built once.
fn server_config() -> &'static ServerConfig {
    static CONFIG: OnceLock<ServerConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        #[allow(unused_mut)]
        let mut capabilities = ServerCapabilities::builder().enable_tools().build();
        #[cfg(feature = "conformance")]
        crate::conformance::add_capabilities(&mut capabilities);
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new(
                "mcpctl-server",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(INSTRUCTIONS.to_string())
    })
}

/// Whether the request uses the 2026-07-28 revision (per-request `_meta`, no session methods).
pub(crate) fn is_2026_07_28_or_later(context: &RequestContext<RoleServer>) -> bool {
    context
        .protocol_version()
        .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str())
}

#[tool_handler(router = tool_router())]
impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        server_config().clone()
    }

    /// `logging/setLevel` exists only before 2026-07-28, and only with the `logging`
    /// capability. The level cannot be kept: the next request may reach another instance, so
    /// it is accepted and log messages follow the rule in `crate::notify::Log`.
    #[allow(deprecated)]
    async fn set_level(
        &self,
        _request: rmcp::model::SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if is_2026_07_28_or_later(&context) || server_config().capabilities.logging.is_none() {
            return Err(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                "logging/setLevel",
                None,
            ));
        }
        Ok(())
    }

    #[cfg(feature = "conformance")]
    async fn list_resources(
        &self,
        request: Option<rmcp::model::PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, ErrorData> {
        crate::conformance::list_resources(request, context)
    }

    #[cfg(feature = "conformance")]
    async fn list_resource_templates(
        &self,
        request: Option<rmcp::model::PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, ErrorData> {
        crate::conformance::list_resource_templates(request, context)
    }

    #[cfg(feature = "conformance")]
    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, ErrorData> {
        crate::conformance::read_resource(request, context)
    }

    #[cfg(feature = "conformance")]
    async fn list_prompts(
        &self,
        request: Option<rmcp::model::PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListPromptsResult, ErrorData> {
        crate::conformance::list_prompts(request, context)
    }

    #[cfg(feature = "conformance")]
    async fn get_prompt(
        &self,
        request: rmcp::model::GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::GetPromptResponse, ErrorData> {
        crate::conformance::get_prompt(request, context)
    }

    #[cfg(feature = "conformance")]
    async fn complete(
        &self,
        request: rmcp::model::CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CompleteResult, ErrorData> {
        crate::conformance::complete(request, context)
    }

    /// rmcp hands over a request it could not type. For a standard MCP method that means its
    /// params were malformed (JSON-RPC -32602); only other methods are really unknown (-32601).
    /// From 2026-07-28 the session methods are gone: whatever their params, they are
    /// `-32601` (HTTP 404), as every other method the server does not have.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        let method = request.method;
        let removed =
            is_2026_07_28_or_later(&context) && REMOVED_IN_2026_07_28.contains(&method.as_str());
        if STANDARD_METHODS.contains(&method.as_str()) && !removed {
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

/// Methods of the earlier revisions that 2026-07-28 removed (sessions, server-kept state).
const REMOVED_IN_2026_07_28: &[&str] = &[
    "initialize",
    "ping",
    "logging/setLevel",
    "resources/subscribe",
    "resources/unsubscribe",
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
