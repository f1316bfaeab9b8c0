//! `bootstrap` of the authorizer Lambda: reads its settings, reads the secret once during init,
//! then answers API Gateway's authorizer events through `lambda_runtime`.

use std::process::ExitCode;

use lambda_runtime::{service_fn, LambdaEvent};
use mcpctl_authorizer::{authorize_event, AuthorizerEvent, Config, KeyStore, SecretsManagerSource};
use tracing::Level;

/// What `lambda_runtime` reads at start-up and panics without; checked first so that running the
/// binary outside Lambda ends with one line instead of a panic.
const LAMBDA_RUNTIME_VARS: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

fn main() -> ExitCode {
    init_logging();
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mcpctl-authorizer: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    check_lambda_environment()?;
    // One thread: an authorizer handles one event at a time, and a single-threaded runtime
    // starts faster and uses less memory.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    runtime.block_on(serve(config))
}

async fn serve(config: Config) -> Result<(), String> {
    let accepted = config.accepted;
    let source = SecretsManagerSource::from_env(config.secret_id).await;
    let store = KeyStore::new(source, config.cache_ttl);
    store.prefetch().await;
    let store = &store;
    // `[auth] mode = "oauth"`: access tokens too, signed with a second secret (docs/oauth.md).
    let oauth = match std::env::var(mcpctl_stack::oauth::AUTH_MODE_VAR).as_deref() {
        Ok("oauth") => {
            let id = std::env::var(mcpctl_stack::oauth::SIGNING_SECRET_ID_VAR)
                .ok()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    format!(
                        "{} is oauth but {} is not set",
                        mcpctl_stack::oauth::AUTH_MODE_VAR,
                        mcpctl_stack::oauth::SIGNING_SECRET_ID_VAR
                    )
                })?;
            let signing = mcpctl_authorizer::signing::SigningKeyStore::new(
                SecretsManagerSource::from_env(id).await,
                config.cache_ttl,
            );
            signing.keys(None).await;
            let issuer = std::env::var(mcpctl_stack::oauth::ISSUER_VAR).ok();
            Some((signing, issuer))
        }
        Ok("api-key") | Err(_) => None,
        Ok(other) => {
            return Err(format!(
                "{} must be api-key or oauth (got {other:?})",
                mcpctl_stack::oauth::AUTH_MODE_VAR
            ))
        }
    };
    let oauth = &oauth;
    let handler = service_fn(move |event: LambdaEvent<AuthorizerEvent>| async move {
        // An error fails the invocation: API Gateway answers 500 and caches nothing.
        let verdict = match oauth {
            Some((signing, issuer)) => {
                mcpctl_authorizer::oauth::authorize_oauth_event(
                    &event.payload,
                    store,
                    signing,
                    issuer.as_deref(),
                )
                .await
            }
            None => authorize_event(&event.payload, accepted, store).await,
        };
        verdict.map_err(|e| lambda_runtime::Diagnostic::from(e.to_string()))
    });
    lambda_runtime::run(handler)
        .await
        .map_err(|e| format!("the Lambda runtime loop stopped: {e}"))
}

fn check_lambda_environment() -> Result<(), String> {
    let missing: Vec<&str> = LAMBDA_RUNTIME_VARS
        .into_iter()
        .filter(|name| std::env::var_os(name).is_none_or(|v| v.is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "this is the bootstrap of a Lambda function and must run under the Lambda runtime \
             ({} unset); to run the stack locally use `mcpctl dev`",
            missing.join(", ")
        ));
    }
    let memory = std::env::var("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").unwrap_or_default();
    if memory.parse::<i32>().is_err() {
        return Err(format!(
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE must be a number of MB (got {memory:?})"
        ));
    }
    Ok(())
}

/// Plain text lines for CloudWatch: no colours, no timestamps (Lambda adds its own). The level
/// is RUST_LOG, else Lambda's AWS_LAMBDA_LOG_LEVEL, else info; a plain level name only, since the
/// directive parser would pull a regex engine into the binary for no use here.
fn init_logging() {
    let level = ["RUST_LOG", "AWS_LAMBDA_LOG_LEVEL"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find_map(|value| parse_level(&value))
        .unwrap_or(Level::INFO);
    use tracing_subscriber::prelude::*;
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .finish()
        .with(tracing_subscriber::filter::filter_fn(|meta| {
            !logs_raw_event(meta)
        }))
        .init();
}

/// lambda_runtime logs each raw invocation event at TRACE, and an authorizer event carries the
/// caller's API key in its headers: that line is never written, whatever the level.
fn logs_raw_event(meta: &tracing::Metadata<'_>) -> bool {
    *meta.level() == Level::TRACE && meta.target().starts_with("lambda_runtime")
}

fn parse_level(value: &str) -> Option<Level> {
    match value.trim().to_ascii_lowercase().as_str() {
        "trace" => Some(Level::TRACE),
        "debug" => Some(Level::DEBUG),
        "info" => Some(Level::INFO),
        "warn" | "warning" => Some(Level::WARN),
        // Lambda's levels include FATAL, which tracing calls error.
        "error" | "fatal" => Some(Level::ERROR),
        _ => None,
    }
}
