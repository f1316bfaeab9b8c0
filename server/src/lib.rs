//! The MCP server: Streamable HTTP, stateless, JSON responses. One router serves both the
//! Lambda (through `lambda_http`) and the local HTTP server, so what is tested locally is what
//! ships.

#[cfg(feature = "conformance")]
mod conformance;
mod fast_path;
pub mod http;
pub mod input;
pub mod lambda;
pub mod notify;
pub mod tools;

pub use http::{router, HttpOptions};
pub use tools::McpServer;
