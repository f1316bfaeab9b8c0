//! `bootstrap` of the oauth Lambda function: reads both secrets during init, then answers API
//! Gateway's proxy events for the OAuth routes through `lambda_runtime`.

use std::process::ExitCode;
use std::time::Duration;

use lambda_runtime::{service_fn, LambdaEvent};
use mcpctl_authorizer::signing::SigningKeyStore;
use mcpctl_authorizer::{KeyStore, SecretsManagerSource};
use mcpctl_oauth::{AuthServer, Request};
use serde_json::Value;

/// How long a warm instance trusts its copy of each secret unless
/// [`mcpctl_stack::env::SECRET_CACHE_TTL_VAR`] says otherwise (as the authorizer's).
const DEFAULT_SECRET_TTL: Duration = Duration::from_secs(60);

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_ansi(false)
        .without_time()
        .with_target(false)
        // lambda_runtime logs raw events at TRACE, and a consent event carries the API key.
        .with_max_level(tracing::Level::INFO)
        .init();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mcpctl-oauth: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let (settings, api_key_secret, signing_secret) =
        mcpctl_oauth::settings_from_env(|name| std::env::var(name).ok())?;
    for name in ["AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_FUNCTION_NAME"] {
        if std::env::var_os(name).is_none_or(|v| v.is_empty()) {
            return Err(format!(
                "this is the bootstrap of a Lambda function and must run under the Lambda runtime ({name} unset); to run the stack locally use `mcpctl dev`"
            ));
        }
    }
    let ttl = match std::env::var(mcpctl_stack::env::SECRET_CACHE_TTL_VAR) {
        Err(_) => DEFAULT_SECRET_TTL,
        Ok(raw) => raw
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|s| *s <= mcpctl_authorizer::config::MAX_CACHE_TTL_S)
            .map(Duration::from_secs)
            .ok_or_else(|| {
                format!(
                    "{} must be a whole number of seconds (got {raw:?})",
                    mcpctl_stack::env::SECRET_CACHE_TTL_VAR
                )
            })?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(async move {
        let server = AuthServer::new(
            settings,
            KeyStore::new(SecretsManagerSource::from_env(api_key_secret).await, ttl),
            SigningKeyStore::new(SecretsManagerSource::from_env(signing_secret).await, ttl),
        );
        server.prefetch().await;
        let server = &server;
        let handler = service_fn(move |event: LambdaEvent<Value>| async move {
            let request = Request::from_event(&event.payload);
            let response = server.handle(&request).await;
            tracing::info!(
                method = %request.method,
                path = %request.path,
                status = response.status,
                "answered"
            );
            Ok::<Value, lambda_runtime::Error>(response.to_event())
        });
        lambda_runtime::run(handler)
            .await
            .map_err(|e| format!("the Lambda runtime loop stopped: {e}"))
    })
}
