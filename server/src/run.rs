//! [`run`]: what turns an rmcp `ServerHandler` into the deployable binary.
//!
//! One binary, two modes: the Lambda `bootstrap` when the Lambda runtime API is present
//! (`AWS_LAMBDA_RUNTIME_API`), otherwise a plain HTTP server on `${HOST:-127.0.0.1}:${PORT:-8080}`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rmcp::ServerHandler;

use crate::http::{router, HttpOptions};
use crate::{input, lambda};

/// Environment variable with extra browser origins to accept (comma-separated patterns such as
/// `https://app.example` or `http://localhost:*`).
pub const ALLOWED_ORIGINS_ENV: &str = "MCP_ALLOWED_ORIGINS";

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Time since the process started serving ([`run`] marks it first thing), for a status tool.
pub fn uptime() -> Duration {
    STARTED.get_or_init(Instant::now).elapsed()
}

/// Serves `server` as this process's MCP endpoint (`POST /mcp`, stateless, JSON responses) and
/// returns the exit code for `main`:
///
/// - in Lambda (`AWS_LAMBDA_RUNTIME_API` set): the Lambda runtime loop on a single-threaded
///   runtime, API Gateway HTTP API v2 events, a named stage's path prefix removed, responses over
///   Lambda's 6 MB limit replaced by a JSON-RPC error;
/// - elsewhere: an HTTP server on `HOST` (default 127.0.0.1) and `PORT` (default 8080; 0 picks a
///   free port) that accepts only loopback `Host` headers and loopback browser origins (plus
///   `MCP_ALLOWED_ORIGINS`), prints `MCP server listening on http://ADDR/mcp` on stdout and
///   stops cleanly on Ctrl-C or SIGTERM.
///
/// Both modes refuse request bodies over [`crate::http::MAX_BODY_BYTES`], answer malformed
/// JSON-RPC with JSON-RPC errors, read `MCP_REQUEST_STATE_KEY` for [`crate::input`] (a bad key
/// stops the server at start), and log to stderr at `RUST_LOG` (default `warn`), never writing
/// the raw Lambda event (it carries the caller's API key).
///
/// ```no_run
/// # #[derive(Clone)] struct MyTools;
/// # impl mcpctl_server::rmcp::ServerHandler for MyTools {}
/// fn main() -> std::process::ExitCode {
///     mcpctl_server::run(MyTools)
/// }
/// ```
pub fn run<S>(server: S) -> ExitCode
where
    S: ServerHandler + Clone + Send + Sync + 'static,
{
    STARTED.get_or_init(Instant::now);
    init_logging();
    if let Err(e) = input::init() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    let origins = std::env::var(ALLOWED_ORIGINS_ENV)
        .ok()
        .map(|v| parse_origins(&v));
    let result = if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        run_lambda(router(server, HttpOptions::lambda(origins)))
    } else {
        run_local(router(
            server,
            HttpOptions::local(origins.unwrap_or_default()),
        ))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `MCP_ALLOWED_ORIGINS`: comma-separated, blanks ignored.
pub fn parse_origins(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    // A subscriber set before (by the caller, or a second `run` in tests) stays.
    let _ = tracing::subscriber::set_global_default(log_subscriber(filter, std::io::stderr));
}

/// The subscriber [`run`] installs (with `RUST_LOG`, default `warn`, and stderr): plain lines
/// without time (Lambda's log stream adds it), and never the raw Lambda event
/// ([`logs_raw_event`]), whatever the filter says.
pub fn log_subscriber<W>(
    filter: tracing_subscriber::EnvFilter,
    writer: W,
) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::prelude::*;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .without_time()
        .finish()
        .with(tracing_subscriber::filter::filter_fn(|meta| {
            !logs_raw_event(meta)
        }))
}

/// lambda_runtime logs each raw invocation event at TRACE, and behind API Gateway the event
/// carries every request header, the caller's x-api-key included: that line is never written,
/// whatever RUST_LOG says.
pub fn logs_raw_event(meta: &tracing::Metadata<'_>) -> bool {
    *meta.level() == tracing::Level::TRACE && meta.target().starts_with("lambda_runtime")
}

/// Lambda runs one request at a time per instance: a single-threaded runtime is all it can use
/// and starts faster.
fn run_lambda(router: axum::Router) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let app = lambda::app(router);
    runtime.block_on(async {
        lambda_http::run(app)
            .await
            .map_err(|e| format!("lambda runtime failed: {e}"))
    })
}

/// The address local mode listens on, from `HOST` and `PORT`.
pub fn local_addr(host: Option<&str>, port: Option<&str>) -> Result<SocketAddr, String> {
    let port: u16 = match port {
        Some(p) => p
            .parse()
            .map_err(|_| format!("PORT must be a number from 0 to 65535 (got {p:?})"))?,
        None => 8080,
    };
    let host = host.unwrap_or("127.0.0.1");
    format!("{host}:{port}")
        .parse()
        .or_else(|_| format!("[{host}]:{port}").parse())
        .map_err(|_| format!("HOST must be an IP address (got {host:?})"))
}

fn run_local(router: axum::Router) -> Result<(), String> {
    let addr = local_addr(
        std::env::var("HOST").ok().as_deref(),
        std::env::var("PORT").ok().as_deref(),
    )?;
    // One thread, as in Lambda: a request costs microseconds, so one thread serves tens of
    // thousands a second; it starts sooner (no worker threads to spawn) and measured as fast
    // as a multi-threaded runtime under load, with no wake-ups across threads (bench/).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e} (set PORT to use another port)"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        // Printed on stdout so scripts and tests can read where the server listens.
        println!("MCP server listening on http://{bound}/mcp");
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| format!("server failed: {e}"))
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_list() {
        assert_eq!(
            parse_origins(" https://a.example, ,http://localhost:*,"),
            vec!["https://a.example", "http://localhost:*"]
        );
        assert!(parse_origins("").is_empty());
    }

    #[test]
    fn local_address() {
        assert_eq!(
            local_addr(None, None).unwrap().to_string(),
            "127.0.0.1:8080"
        );
        assert_eq!(
            local_addr(Some("::1"), Some("0")).unwrap().to_string(),
            "[::1]:0"
        );
        assert!(local_addr(None, Some("70000"))
            .unwrap_err()
            .contains("PORT must be a number"));
        assert!(local_addr(Some("example.com"), None)
            .unwrap_err()
            .contains("HOST must be an IP address"));
    }
}
