//! The example server this repository deploys, built on the `mcpctl_server` library: four
//! tools (all with structured output: `Json<T>` gives `outputSchema` and `structuredContent`),
//! two resources (`mcp://server/status` and the template `mcp://users/{id}`) and one prompt
//! (`weather_report`). Each file adds its tools with `#[tool_router]`, its resources with
//! `mcpctl_server::resources!` and its prompts with `#[prompt_router]` to [`McpServer`];
//! adding one is one annotated function in one of these blocks, plus its router in the
//! matching list below.

mod calculate;
mod mock_data;
pub mod status;
mod users;
mod weather;

use std::sync::OnceLock;

use mcpctl_server::prelude::*;
use mcpctl_server::resources::ResourceRouter;

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

/// Every resource, built once.
pub fn resource_router() -> &'static ResourceRouter<McpServer> {
    static ROUTER: OnceLock<ResourceRouter<McpServer>> = OnceLock::new();
    ROUTER
        .get_or_init(|| McpServer::status_resources().clone() + McpServer::user_resources().clone())
}

/// Every prompt, built once.
pub fn prompt_router() -> &'static PromptRouter<McpServer> {
    static ROUTER: OnceLock<PromptRouter<McpServer>> = OnceLock::new();
    ROUTER.get_or_init(McpServer::weather_prompts)
}

const INSTRUCTIONS: &str =
    "Example tools: weather by city, arithmetic, server status and a user directory; the status and the users as resources; a weather report prompt.";

/// What `initialize` and `server/discover` answer, built once.
pub fn server_config() -> &'static ServerConfig {
    static CONFIG: OnceLock<ServerConfig> = OnceLock::new();
    CONFIG.get_or_init(|| {
        #[allow(unused_mut)]
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .enable_prompts()
            .build();
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

/// The conformance build has its own handler for the same server (`crate::conformance`).
#[cfg(not(feature = "conformance"))]
#[tool_handler(router = tool_router())]
#[prompt_handler(router = prompt_router())]
impl ServerHandler for McpServer {
    mcpctl_server::resource_handler!(resource_router());

    fn get_info(&self) -> ServerConfig {
        server_config().clone()
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        Err(mcpctl_server::handler::untyped_request(&request, &context))
    }
}
