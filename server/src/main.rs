//! The `mcpctl-server` binary: the example server this repository deploys (`src/tools/`), built
//! on the `mcpctl_server` library like any user's server. Only this binary compiles the example;
//! a crate that depends on the library does not.

#[cfg(feature = "conformance")]
mod conformance;
mod fast_path;
mod tools;

use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    if cfg!(feature = "conformance") {
        eprintln!("mcpctl-server: conformance build (the MCP suite's fixture tools, resources and prompts); not for deployment");
    }
    // The seed's own shortcut for plain tools/list and tools/call (see fast_path).
    let fast_path = Arc::new(fast_path::FastPath::default());
    mcpctl_server::run_with(Arc::new(tools::McpServer), move |mcp| {
        mcp.route_layer(axum::middleware::from_fn_with_state(
            fast_path,
            fast_path::middleware,
        ))
    })
}
