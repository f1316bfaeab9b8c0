//! A complete server on the library, as a user's crate writes it (`mcpctl new` generates one
//! like it): one tool with structured output, one prompt with an argument, one fixed resource
//! and one resource template. It uses nothing but `mcpctl_server`, `serde` and `schemars`.
//! `cargo run -p mcpctl-server --example minimal` serves it on 127.0.0.1:8080;
//! `server/tests/library.rs` drives it.

use mcpctl_server::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone)]
pub struct Greeter {
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub struct GreetArgs {
    /// Who to greet.
    pub name: String,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct Greeting {
    pub message: String,
    pub length: usize,
}

#[tool_router]
impl Greeter {
    pub fn new() -> Self {
        Self {
            tool_router: Self::tool_router(),
            prompt_router: Self::prompt_router(),
        }
    }

    /// `Json<T>`: the tool lists an `outputSchema` and answers with `structuredContent`.
    #[tool(description = "Greets someone by name.")]
    pub async fn greet(
        &self,
        Parameters(GreetArgs { name }): Parameters<GreetArgs>,
    ) -> Result<Json<Greeting>, String> {
        if name.trim().is_empty() {
            return Err("name must not be empty".into());
        }
        let message = format!("Hello, {name}!");
        Ok(Json(Greeting {
            length: message.chars().count(),
            message,
        }))
    }
}

impl Default for Greeter {
    fn default() -> Self {
        Self::new()
    }
}

#[prompt_router]
impl Greeter {
    /// Asks the model to greet someone warmly.
    #[prompt(name = "greet_warmly")]
    pub async fn greet_warmly(
        &self,
        Parameters(GreetArgs { name }): Parameters<GreetArgs>,
    ) -> Vec<PromptMessage> {
        vec![PromptMessage::new_text(
            Role::User,
            format!("Greet {name} warmly, using the greet tool."),
        )]
    }
}

mcpctl_server::resources! {
    impl Greeter {
        /// What this server is.
        #[resource(uri = "demo://about", title = "About")]
        pub async fn about(&self) -> &'static str {
            "A demo MCP server built on mcpctl-server."
        }

        /// The greeting for one name, e.g. demo://greetings/Ada.
        #[resource(template = "demo://greetings/{name}", name = "greeting", mime_type = "application/json")]
        pub async fn greeting(&self, request: ResourceRequest) -> Result<Json<Greeting>, ErrorData> {
            let name = request.var("name").unwrap_or_default().to_owned();
            self.greet(Parameters(GreetArgs { name }))
                .await
                .map_err(|e| ErrorData::invalid_params(e, None))
        }
    }
}

// The routers built once in `new()` (rmcp's default, `Self::tool_router()`, would build them
// for every request).
#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for Greeter {
    mcpctl_server::resource_handler!();

    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .enable_resources()
                .build(),
        )
        .with_server_info(Implementation::new("greeter", env!("CARGO_PKG_VERSION")))
    }

    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        Err(mcpctl_server::handler::untyped_request(&request, &context))
    }
}

fn main() -> std::process::ExitCode {
    mcpctl_server::run(Greeter::new())
}
