//! The production [`SecretSource`]: both staging labels of one Secrets Manager secret.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
use aws_sdk_secretsmanager::config::SharedHttpClient;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use aws_sdk_secretsmanager::Client;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::Builder as HttpClientBuilder;

use crate::keys::{key_from_secret_binary, key_from_secret_string, KeyStage, SecretKeys};
use crate::store::{FetchError, SecretSource};

/// Short enough that a slow Secrets Manager falls back to the cached copy well inside the
/// authorizer's own timeout (5 s by default), instead of the whole invocation timing out.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1500);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

pub struct SecretsManagerSource {
    client: Client,
    secret_id: String,
}

impl SecretsManagerSource {
    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        Self {
            client,
            secret_id: secret_id.into(),
        }
    }

    /// A client from the SDK's default chain: region and credentials from the Lambda environment,
    /// and `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_SECRETS_MANAGER` honoured (mcpctl dev, moto).
    pub async fn from_env(secret_id: impl Into<String>) -> Self {
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build();
        let config = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client())
            .timeout_config(timeouts)
            .load()
            .await;
        Self::new(Client::new(&config), secret_id)
    }

    /// The key held by one staging label; `None` when no version carries that label.
    async fn read(&self, stage: KeyStage) -> Result<Option<String>, FetchError> {
        let result = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .version_stage(stage.label())
            .send()
            .await;
        let output = match result {
            Ok(output) => output,
            Err(SdkError::ServiceError(err))
                if stage == KeyStage::Previous && err.err().is_resource_not_found_exception() =>
            {
                // No AWSPREVIOUS yet (the secret was never rotated): only AWSCURRENT is accepted.
                return Ok(None);
            }
            Err(err) => {
                return Err(FetchError::Read {
                    stage,
                    message: describe(&err),
                })
            }
        };
        let key = if let Some(text) = output.secret_string() {
            key_from_secret_string(text)
        } else if let Some(bytes) = output.secret_binary() {
            key_from_secret_binary(bytes.as_ref())
        } else {
            return Err(FetchError::NoValue { stage });
        };
        key.map(Some)
            .map_err(|source| FetchError::Format { stage, source })
    }
}

/// The HTTPS client every SDK client of this crate uses (rustls on ring, see Cargo.toml). Tests
/// that build their own SDK config need it too, since no default client is compiled in.
pub fn http_client() -> SharedHttpClient {
    HttpClientBuilder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

fn describe(err: &SdkError<GetSecretValueError>) -> String {
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            format!(
                "{}: {}",
                e.code().unwrap_or("unknown error"),
                e.message().unwrap_or("no message")
            )
        }
        other => error_chain(other),
    }
}

/// Every cause on one line, without the Debug dump `DisplayErrorContext` appends.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

impl SecretsManagerSource {
    /// The secret's AWSCURRENT value and, if a version carries it, its AWSPREVIOUS value: what
    /// [`SecretSource::fetch`] digests, and the raw signing keys of `[auth] mode = "oauth"`.
    pub async fn read_versions(&self) -> Result<(String, Option<String>), FetchError> {
        // Both reads at once: on a cold start they are the whole latency of the first request.
        let (current, previous) =
            tokio::join!(self.read(KeyStage::Current), self.read(KeyStage::Previous));
        let current = current?.ok_or(FetchError::NoValue {
            stage: KeyStage::Current,
        })?;
        // A broken AWSPREVIOUS (deleted value, wrong format) must not lock out the current key.
        let previous = match previous {
            Ok(previous) => previous,
            Err(err @ FetchError::Format { .. }) | Err(err @ FetchError::NoValue { .. }) => {
                tracing::warn!(secret = %self.secret_id, "ignoring the previous key: {err}");
                None
            }
            Err(err) => return Err(err),
        };
        Ok((current, previous))
    }
}

impl crate::signing::RawSecretSource for SecretsManagerSource {
    async fn versions(&self) -> Result<(String, Option<String>), FetchError> {
        self.read_versions().await
    }

    fn secret_id(&self) -> &str {
        &self.secret_id
    }
}

impl SecretSource for SecretsManagerSource {
    async fn fetch(&self) -> Result<SecretKeys, FetchError> {
        let (current, previous) = self.read_versions().await?;
        Ok(SecretKeys::new(
            current.as_bytes(),
            previous.as_deref().map(str::as_bytes),
        ))
    }

    fn secret_id(&self) -> &str {
        &self.secret_id
    }
}
