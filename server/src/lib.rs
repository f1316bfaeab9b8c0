//! The server as a library: [`run`] turns an rmcp `ServerHandler` into the deployable binary
//! (Lambda mode and local mode, body limits, Host/Origin checks, the log filter that keeps keys
//! out of logs, the response-size guard). Streamable HTTP, stateless, JSON responses; one router
//! serves both the Lambda (through `lambda_http`) and the local HTTP server, so what is tested
//! locally is what ships.
//!
//! ```no_run
//! use mcpctl_server::prelude::*;
//!
//! #[derive(Clone)]
//! struct MyTools {
//!     tool_router: ToolRouter<Self>,
//! }
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Greet {
//!     /// Who to greet.
//!     name: String,
//! }
//!
//! #[tool_router]
//! impl MyTools {
//!     fn new() -> Self {
//!         Self { tool_router: Self::tool_router() }
//!     }
//!
//!     #[tool(description = "Greets someone.")]
//!     async fn greet(&self, Parameters(Greet { name }): Parameters<Greet>) -> String {
//!         format!("Hello, {name}!")
//!     }
//! }
//!
//! // `router = self.tool_router`: the router built once in `new()` (rmcp's default,
//! // `Self::tool_router()`, builds it again for every request).
//! #[tool_handler(router = self.tool_router)]
//! impl ServerHandler for MyTools {}
//!
//! fn main() -> std::process::ExitCode {
//!     mcpctl_server::run(MyTools::new())
//! }
//! ```
//!
//! Resources: [`resources!`] and [`resource_handler!`]; prompts: rmcp's `#[prompt]`. The
//! `mcpctl-server` binary of this crate (`src/main.rs`, `src/tools/`) is the example built on it
//! (four tools, two resources, a prompt), and `examples/minimal.rs` a complete small one. A crate
//! that depends on this one compiles only the library. See docs/server-library.md.

pub mod handler;
pub mod http;
pub mod input;
pub mod lambda;
pub mod notify;
pub mod resources;
mod run;

pub use http::{router, HttpOptions};
pub use run::{log_subscriber, logs_raw_event, run, uptime, ALLOWED_ORIGINS_ENV};

/// The rmcp this crate is built on. Its macros (`#[tool]`, `#[tool_router]`, `#[prompt]`, ...)
/// write paths starting with `rmcp::`, so a module that uses them needs `rmcp` in scope:
/// `use mcpctl_server::prelude::*;` (or `use mcpctl_server::rmcp;`) brings it.
pub use rmcp;

/// What a module with tools, prompts and resources needs, in one `use`.
pub mod prelude {
    pub use crate::input::{Input, InputKind};
    pub use crate::notify::{Log, Progress};
    pub use crate::resources::ResourceRequest;
    pub use rmcp;
    pub use rmcp::handler::server::router::prompt::PromptRouter;
    pub use rmcp::handler::server::router::tool::ToolRouter;
    pub use rmcp::handler::server::wrapper::{Json, Parameters};
    pub use rmcp::model::{
        CallToolResult, ContentBlock, CustomRequest, CustomResult, ErrorData, GetPromptResult,
        Implementation, PromptMessage, ResourceContents, Role, ServerCapabilities, ServerConfig,
    };
    pub use rmcp::service::RequestContext;
    pub use rmcp::{
        prompt, prompt_handler, prompt_router, tool, tool_handler, tool_router, RoleServer,
        ServerHandler,
    };
}
