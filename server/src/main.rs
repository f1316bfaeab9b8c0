//! One binary, two modes: the Lambda `bootstrap` when the Lambda runtime API is present,
//! otherwise a plain HTTP server on 127.0.0.1:${PORT:-8080}.

use std::net::SocketAddr;
use std::process::ExitCode;

use mcpctl_server::{input, lambda, router, tools, HttpOptions};

fn main() -> ExitCode {
    tools::status::mark_start();
    init_logging();
    if let Err(e) = input::init() {
        eprintln!("error: {e}");
        return ExitCode::FAILURE;
    }
    if cfg!(feature = "conformance") {
        eprintln!("mcpctl-server: conformance build (the MCP suite's fixture tools, resources and prompts); not for deployment");
    }
    let origins = std::env::var("MCP_ALLOWED_ORIGINS").ok().map(|v| {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect::<Vec<_>>()
    });
    let result = if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        run_lambda(origins)
    } else {
        run_local(origins.unwrap_or_default())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    use tracing_subscriber::prelude::*;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .without_time()
        .finish()
        .with(tracing_subscriber::filter::filter_fn(|meta| {
            !logs_raw_event(meta)
        }))
        .init();
}

/// lambda_runtime logs each raw invocation event at TRACE, and behind API Gateway the event
/// carries every request header, the caller's x-api-key included: that line is never written,
/// whatever RUST_LOG says.
fn logs_raw_event(meta: &tracing::Metadata<'_>) -> bool {
    *meta.level() == tracing::Level::TRACE && meta.target().starts_with("lambda_runtime")
}

/// Lambda runs one request at a time per instance: a single-threaded runtime is all it can use
/// and starts faster.
fn run_lambda(origins: Option<Vec<String>>) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let app = tower::ServiceBuilder::new()
        .map_request(lambda::strip_stage_prefix)
        .service(
            router(HttpOptions::lambda(origins))
                .layer(axum::middleware::from_fn(lambda::limit_response_size)),
        );
    runtime.block_on(async {
        lambda_http::run(app)
            .await
            .map_err(|e| format!("lambda runtime failed: {e}"))
    })
}

fn run_local(extra_origins: Vec<String>) -> Result<(), String> {
    let port: u16 = match std::env::var("PORT") {
        Ok(p) => p
            .parse()
            .map_err(|_| format!("PORT must be a number from 0 to 65535 (got {p:?})"))?,
        Err(_) => 8080,
    };
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .map_err(|_| format!("HOST must be an IP address (got {host:?})"))?;
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
        axum::serve(listener, router(HttpOptions::local(extra_origins)))
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
