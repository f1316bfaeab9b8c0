//! The floor of the HTTP stack: the same axum + hyper + tokio as `mcpctl-server`, with none of
//! the MCP work. It reads the request body (a real handler must) and answers with a fixed
//! tools/list response of the server's size, so the benchmark can show how much of our cost is
//! the stack and how much is ours.

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;

/// A tools/list answer captured from mcpctl-server; the floor only needs the same byte count.
const TOOLS_LIST: &str = include_str!("tools_list.json");

async fn mcp(_body: Bytes) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], TOOLS_LIST)
}

fn main() -> ExitCode {
    let port: u16 = match std::env::var("PORT").map(|p| p.parse()) {
        Ok(Ok(p)) => p,
        Ok(Err(_)) => {
            eprintln!("error: PORT must be a number from 0 to 65535");
            return ExitCode::FAILURE;
        }
        Err(_) => 8080,
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    // The same runtime flavour as mcpctl-server's local mode, so the difference is the MCP work.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        println!("MCP server listening on http://{bound}/mcp");
        axum::serve(listener, Router::new().route("/mcp", post(mcp))).await
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
