//! One place that turns deploy.toml's region/profile into SDK clients, counts the calls that
//! change something, and turns SDK errors into one readable line.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;
use mcpctl_stack::Config;

/// Regions mcpctl knows. A typo in deploy.toml would otherwise surface as a DNS failure deep
/// inside the first call; `MCPCTL_ALLOW_UNKNOWN_REGION=1` lets a region newer than this list through.
const KNOWN_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-south-1",
    "ap-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// Appends `Service.Operation` of every call to this file (tests of `mcpctl policy`).
pub const CALL_LOG_ENV: &str = "MCPCTL_CALL_LOG";

/// The names of every operation sent, so `--output json` and the tests can tell how many
/// calls changed something. Shared by all clients of one command.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    calls: Arc<Mutex<Vec<String>>>,
}

impl CallLog {
    /// `Service.Operation` of every call that is not a read.
    pub fn mutating(&self) -> Vec<String> {
        self.calls
            .lock()
            .map(|c| c.iter().filter(|op| is_mutating(op)).cloned().collect())
            .unwrap_or_default()
    }

    pub fn mutating_count(&self) -> usize {
        self.mutating().len()
    }

    pub fn total(&self) -> usize {
        self.calls.lock().map(|c| c.len()).unwrap_or(0)
    }
}

/// Reads are Get*, List*, Describe*; everything else may change the account.
fn is_mutating(service_operation: &str) -> bool {
    let op = service_operation
        .rsplit_once('.')
        .map_or(service_operation, |(_, op)| op);
    !["Get", "List", "Describe"]
        .iter()
        .any(|read| op.starts_with(read))
}

impl Intercept for CallLog {
    fn name(&self) -> &'static str {
        "mcpctl-call-log"
    }

    // Once per operation, not per retry attempt: a retried call is still one change. (Not
    // read_before_execution: client interceptors see it before the operation's metadata exists.)
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg
            .load::<Metadata>()
            .map(|m| format!("{}.{}", m.service(), m.name()))
            .unwrap_or_else(|| "unknown.Unknown".to_string());
        // Testing knob: every operation of every command, for the test of `mcpctl policy`.
        if let Some(path) = std::env::var_os(CALL_LOG_ENV) {
            use std::io::Write;
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path);
            if let Ok(mut file) = file {
                let _ = writeln!(file, "{name}");
            }
        }
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(name);
        }
        Ok(())
    }
}

/// Every client one command needs, sharing one [`CallLog`].
pub struct Aws {
    pub region: String,
    pub secrets: aws_sdk_secretsmanager::Client,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub apigw: aws_sdk_apigatewayv2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub calls: CallLog,
    /// The stack lock's client: its calls are logged apart, as they change no resource.
    pub lock: aws_sdk_cloudwatchlogs::Client,
    pub lock_calls: CallLog,
}

impl fmt::Debug for Aws {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Aws").field("region", &self.region).finish()
    }
}

impl Aws {
    /// Loads the standard credential chain for deploy.toml's region and profile and checks that
    /// credentials exist before anything else runs, so a missing login is one clear line.
    pub async fn connect(config: &Config) -> Result<Self> {
        check_region(&config.region)?;
        let region = Region::new(config.region.clone());
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(region.clone())
            .retry_config(retry_config());
        if let Some(profile) = &config.profile {
            // deploy.toml's profile wins over credentials in the environment, like `--profile`.
            // The provider gets the region, so assume-role (`role_arn` + `source_profile`), SSO
            // and `credential_process` profiles resolve the way `AWS_PROFILE` does.
            let provider_config = aws_config::provider_config::ProviderConfig::default()
                .with_region(Some(region))
                .with_retry_config(retry_config());
            loader = loader.profile_name(profile).credentials_provider(
                aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .configure(&provider_config)
                    .profile_name(profile)
                    .build(),
            );
        }
        let sdk = loader.load().await;
        check_credentials(&sdk, config.profile.as_deref()).await?;
        let calls = CallLog::default();
        let lock_calls = CallLog::default();
        Ok(Self {
            region: config.region.clone(),
            secrets: aws_sdk_secretsmanager::Client::from_conf(
                aws_sdk_secretsmanager::config::Builder::from(&sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(
                aws_sdk_iam::config::Builder::from(&sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            lambda: aws_sdk_lambda::Client::from_conf(
                aws_sdk_lambda::config::Builder::from(&sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            apigw: aws_sdk_apigatewayv2::Client::from_conf(
                aws_sdk_apigatewayv2::config::Builder::from(&sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(&sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            ecr: aws_sdk_ecr::Client::from_conf(
                aws_sdk_ecr::config::Builder::from(&sdk)
                    .interceptor(calls.clone())
                    .build(),
            ),
            calls,
            lock: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(&sdk)
                    .interceptor(lock_calls.clone())
                    .build(),
            ),
            lock_calls,
        })
    }
}

#[cfg(test)]
impl Aws {
    /// Clients that are never called, for unit tests of pure planning code.
    pub fn offline() -> Self {
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        Self {
            region: "us-east-1".into(),
            secrets: aws_sdk_secretsmanager::Client::new(&sdk),
            iam: aws_sdk_iam::Client::new(&sdk),
            lambda: aws_sdk_lambda::Client::new(&sdk),
            apigw: aws_sdk_apigatewayv2::Client::new(&sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            ecr: aws_sdk_ecr::Client::new(&sdk),
            calls: CallLog::default(),
            lock: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            lock_calls: CallLog::default(),
        }
    }
}

/// AWS's standard retry mode (exponential backoff with jitter, a retry quota) with 5 attempts
/// instead of 3: a deploy makes ~40 calls to 6 services, any of which may be throttled.
/// `AWS_MAX_ATTEMPTS` still decides when it is set.
pub fn retry_config() -> RetryConfig {
    let attempts = std::env::var("AWS_MAX_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(MAX_ATTEMPTS);
    RetryConfig::standard().with_max_attempts(attempts)
}

/// Attempts per call (the first one included) unless `AWS_MAX_ATTEMPTS` says otherwise.
pub const MAX_ATTEMPTS: u32 = 5;

fn check_region(region: &str) -> Result<()> {
    if KNOWN_REGIONS.contains(&region) || std::env::var_os("MCPCTL_ALLOW_UNKNOWN_REGION").is_some()
    {
        return Ok(());
    }
    Err(anyhow!(
        "unknown AWS region `{region}` in deploy.toml: use one such as us-east-1 or eu-west-1 \
         (set MCPCTL_ALLOW_UNKNOWN_REGION=1 for a region newer than mcpctl)"
    ))
}

async fn check_credentials(sdk: &SdkConfig, profile: Option<&str>) -> Result<()> {
    let provider = sdk.credentials_provider().ok_or_else(no_credentials)?;
    match provider.provide_credentials().await {
        Ok(_) => Ok(()),
        Err(_) => Err(match profile {
            Some(p) => anyhow!(
                "no AWS credentials for profile `{p}`: run `aws configure --profile {p}` \
                 (or `aws sso login --profile {p}`), or remove `profile` from deploy.toml"
            ),
            None => no_credentials(),
        }),
    }
}

fn no_credentials() -> anyhow::Error {
    anyhow!(
        "no AWS credentials found: run `aws configure` or set AWS_PROFILE \
         (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
    )
}

/// How long mcpctl waits for AWS to catch up with a change it made: IAM propagating a new role
/// or policy, a deleted secret's name being freed. AWS documents these as eventually consistent
/// with no bound; these are the limits after which waiting is reported as an error.
pub const IAM_PROPAGATION: Duration = Duration::from_secs(120);
pub const SECRET_NAME_RELEASE: Duration = Duration::from_secs(60);
/// Deleted resources that still show up in reads (destroy's final check).
pub const DELETION_VISIBLE: Duration = Duration::from_secs(60);

/// Runs `call` again, with exponential backoff (0.5 s doubling to 8 s), while `not_yet` says the
/// error only means AWS has not caught up yet, for at most `limit`; says once on stderr what it
/// waits for. The SDK's own retries (throttling, 5xx) still run inside every attempt.
pub async fn eventually<T, E, F, Fut>(
    waiting_for: &str,
    limit: Duration,
    not_yet: impl Fn(&E) -> bool,
    mut call: F,
) -> Result<T, E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let start = Instant::now();
    let mut delay = Duration::from_millis(500);
    let mut said = false;
    loop {
        match call().await {
            Err(e) if not_yet(&e) && start.elapsed() + delay <= limit => {
                if !said {
                    note(&format!(
                        "waiting for {waiting_for} (up to {} s)",
                        limit.as_secs()
                    ));
                    said = true;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            other => return other,
        }
    }
}

static QUIET: AtomicBool = AtomicBool::new(false);

/// `-o json`: progress notes stay off stderr too.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// A progress line on stderr (`note: ...`), unless the output is JSON.
pub fn note(line: &str) {
    if !QUIET.load(Ordering::Relaxed) {
        eprintln!("note: {line}");
    }
}

/// The message of a service error, for the few AWS errors whose code is shared by unrelated
/// causes (Lambda's InvalidParameterValueException, Secrets Manager's InvalidRequestException).
pub fn error_message<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> &str {
    match err {
        SdkError::ServiceError(e) => e.err().message().unwrap_or_default(),
        _ => "",
    }
}

/// The AWS error code of a failed call, e.g. `ResourceNotFoundException`.
pub fn error_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> Option<&str> {
    match err {
        SdkError::ServiceError(e) => e.err().code(),
        _ => None,
    }
}

/// True when the call failed because the thing does not exist (each service names it differently).
pub fn is_not_found<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>) -> bool {
    matches!(
        error_code(err),
        Some(
            "ResourceNotFoundException"
                | "NoSuchEntity"
                | "NotFoundException"
                | "NoSuchEntityException"
        )
    )
}

/// One line for a failed call: what was attempted, the AWS code and message, never a Debug dump.
pub fn describe<E, R>(operation: &str, err: &SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    match err {
        SdkError::ServiceError(e) => {
            let inner = e.err();
            let code = inner.code().unwrap_or("error");
            let message = inner
                .message()
                .map(str::to_string)
                .unwrap_or_else(|| inner.to_string());
            anyhow!("{operation} failed: {code}: {message}")
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => anyhow!(
            "{operation} failed: cannot reach AWS ({}); check your network, the region and AWS_ENDPOINT_URL",
            aws_smithy_types::error::display::DisplayErrorContext(err)
        ),
        other => anyhow!(
            "{operation} failed: {}",
            aws_smithy_types::error::display::DisplayErrorContext(other)
        ),
    }
}

/// `.map_err(aws::err("CreateFunction"))`
pub fn err<E, R>(operation: &'static str) -> impl FnOnce(SdkError<E, R>) -> anyhow::Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    move |e| describe(operation, &e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_not_mutations() {
        assert!(!is_mutating("Lambda.GetFunction"));
        assert!(!is_mutating("ApiGatewayV2.GetApis"));
        assert!(!is_mutating("IAM.ListAttachedRolePolicies"));
        assert!(!is_mutating("SecretsManager.DescribeSecret"));
        assert!(is_mutating("Lambda.CreateFunction"));
        assert!(is_mutating("IAM.TagRole"));
    }

    #[test]
    fn unknown_region_is_refused() {
        assert!(check_region("us-east-1").is_ok());
        let e = check_region("mars-north-1").unwrap_err().to_string();
        assert!(e.contains("mars-north-1"), "{e}");
    }
}
