//! The `mcpctl-server` binary: the example server this repository deploys (`src/tools/`), built
//! on the `mcpctl_server` library like any user's server. Only this binary compiles the example;
//! a crate that depends on the library does not.

#[cfg(feature = "conformance")]
mod conformance;
mod tools;

use std::process::ExitCode;

fn main() -> ExitCode {
    if cfg!(feature = "conformance") {
        eprintln!("mcpctl-server: conformance build (the MCP suite's fixture tools, resources and prompts); not for deployment");
    }
    mcpctl_server::run(tools::McpServer)
}
