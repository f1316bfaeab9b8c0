//! `bootstrap` of the authorizer Lambda: reads its settings, reads the secret once during init,
//! then answers API Gateway's authorizer events through `lambda_runtime`.

use std::convert::Infallible;
use std::process::ExitCode;

use lambda_runtime::{service_fn, LambdaEvent};
use mcpctl_authorizer::{authorize, AuthorizerEvent, Config, KeyStore, SecretsManagerSource};
use tracing_subscriber::EnvFilter;

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
    let source = SecretsManagerSource::from_env(config.secret_id).await;
    let store = KeyStore::new(source, config.cache_ttl);
    store.prefetch().await;
    let store = &store;
    let handler = service_fn(move |event: LambdaEvent<AuthorizerEvent>| async move {
        Ok::<_, Infallible>(authorize(&event.payload, store).await)
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
/// comes from RUST_LOG, else Lambda's AWS_LAMBDA_LOG_LEVEL, else info.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| {
            std::env::var("AWS_LAMBDA_LOG_LEVEL")
                .map_err(|_| ())
                .and_then(|level| {
                    // Lambda's levels are upper-case and include FATAL, which tracing calls error.
                    let level = match level.to_ascii_lowercase().as_str() {
                        "fatal" => "error".to_string(),
                        other => other.to_string(),
                    };
                    EnvFilter::try_new(level).map_err(|_| ())
                })
        })
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time()
        .with_target(false)
        .init();
}
