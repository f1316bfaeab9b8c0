//! `deploy.toml`: one file describes one deployment. Every field has a default, unknown keys are
//! refused, and every error names the key, its line and what is allowed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::auth::{Accepted, KeyHeader};
use crate::names::{StackNames, STACK_TAG};

/// The server package deploy builds when deploy.toml names none: this repository's example.
pub const DEFAULT_SERVER_PACKAGE: &str = "mcpctl-server";

/// The authorizer package deploy builds next to the server (a member of this repository, a
/// dependency of a project made by `mcpctl new`); its binary has the same name.
pub const AUTHORIZER_PACKAGE: &str = "mcpctl-authorizer";

/// What is wrong with `name` as a Cargo package name, if anything (`cargo new`'s rules: ASCII
/// letters, digits, `-` and `_`, starting with a letter, not a Rust keyword or a name Cargo
/// reserves; crates.io's 64 characters at most).
pub fn package_name_error(name: &str) -> Option<String> {
    const KEYWORDS: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
        "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
        "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
        "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "try",
        "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
    ];
    // Names rustc or Cargo use themselves (cargo's `restricted_names`).
    const RESERVED: &[&str] = &[
        "alloc",
        "core",
        "proc_macro",
        "proc-macro",
        "std",
        "test",
        "build",
        "deps",
        "examples",
        "incremental",
        "con",
        "prn",
        "aux",
        "nul",
    ];
    if name.is_empty() || name.len() > 64 {
        return Some(format!(
            "must be 1-64 characters (got {} characters)",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Some(format!(
            "must be ASCII letters, digits, '-' and '_' only, as Cargo package names are ({c:?} in {name:?})"
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some(format!("must start with a letter (got {name:?})"));
    }
    if KEYWORDS.contains(&name) || RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        return Some(format!(
            "cannot be {name:?}: Rust or Cargo reserves that name"
        ));
    }
    None
}

/// API Gateway HTTP APIs cut every integration at 30 s; the function must finish first.
pub const MAX_SERVER_TIMEOUT_S: u32 = 29;

/// API Gateway waits at most 10 s for a Lambda authorizer's answer ("Timeout for Lambda
/// authorizer response: 10000 ms", not adjustable: API Gateway developer guide, "Quotas for
/// configuring and running an HTTP API").
pub const MAX_AUTHORIZER_TIMEOUT_S: u32 = 10;

/// The tightest tags-per-resource limit of the services mcpctl tags: 50 for IAM roles, Lambda
/// functions, Secrets Manager secrets, CloudWatch Logs log groups (TagLogGroup: "Maximum number
/// of 50 items"), ECR repositories and API Gateway APIs and stages ("Tags per stage: 50").
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

/// The most tags mcpctl puts on one resource itself, next to `[tags]`: the stack lock's log group
/// carries `mcpctl:stack` and the lock's token, holder, host, pid and heartbeat
/// (deployer/src/lock.rs). Every other resource carries `mcpctl:stack`, the API key secret also
/// `mcpctl:api-id`.
pub const MCPCTL_LOCK_TAGS: &[&str] = &[
    STACK_TAG,
    "mcpctl:lock-token",
    "mcpctl:lock-holder",
    "mcpctl:lock-host",
    "mcpctl:lock-pid",
    "mcpctl:lock-heartbeat",
];

/// How many `[tags]` (after a stage's are merged in) fit next to [`MCPCTL_LOCK_TAGS`]: 44.
pub const MAX_USER_TAGS: usize = MAX_TAGS_PER_RESOURCE - MCPCTL_LOCK_TAGS.len();

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Prefix of every resource name, and the value of the `mcpctl:stack` tag.
    pub name: String,
    pub region: String,
    pub profile: Option<String>,
    /// `zip` (default) or `image` (OCI image pushed to ECR).
    pub package: Package,
    /// The instruction set both functions run on: `arm64` (Graviton, the default) or `x86_64`.
    pub architecture: Architecture,
    pub server: ServerConfig,
    pub authorizer: AuthorizerConfig,
    /// `[auth]`: how clients prove who they are (`mode = "api-key"`, the default, or `"oauth"`).
    pub auth: AuthConfig,
    pub api: ApiConfig,
    pub tags: BTreeMap<String, String>,
    /// Per-stage overrides, selected with `--stage NAME`.
    pub stages: BTreeMap<String, StageOverride>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Package {
    #[default]
    Zip,
    Image,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// The Cargo package deploy builds as the server (its binary has the package's name), in the
    /// workspace around deploy.toml: `mcpctl-server` (this repository's example tools) by
    /// default; `mcpctl new` names the project's own.
    pub package: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub log_retention_days: u32,
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthorizerConfig {
    pub memory_mb: u32,
    pub timeout_s: u32,
    /// Where callers may put the key: `x-api-key`, `bearer` (`Authorization: Bearer`), or both.
    /// Both means no identity source and so no result cache (see `crate::auth`).
    pub accept: Vec<KeyHeader>,
    /// API Gateway's authorizer result cache (0 disables it); applies only when `accept` names
    /// one header (`crate::auth::effective_cache_ttl_s`).
    pub cache_ttl_s: u32,
    /// How long a warm authorizer keeps the secret before reading it again.
    pub secret_cache_ttl_s: u32,
    pub log_retention_days: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    pub stage: String,
    pub throttling_burst: u32,
    pub throttling_rate: f64,
    pub cors: Option<CorsConfig>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    pub allow_origins: Vec<String>,
    pub allow_headers: Vec<String>,
    pub max_age_s: u32,
}

/// `[auth]`: the one switch between the API key and OAuth 2.1 (docs/oauth.md).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub mode: AuthMode,
}

/// `api-key`: callers send the stack's key (nothing OAuth is routed or advertised). `oauth`:
/// the stack is also an OAuth 2.1 authorization server and the MCP route a resource server
/// (`crate::oauth`); the key still works as a bearer token and approves consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Default)]
pub enum AuthMode {
    #[default]
    #[serde(rename = "api-key")]
    ApiKey,
    #[serde(rename = "oauth")]
    OAuth,
}

impl AuthMode {
    /// The word deploy.toml and the authorizer's environment use.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::ApiKey => "api-key",
            AuthMode::OAuth => "oauth",
        }
    }

    pub fn from_word(word: &str) -> Option<Self> {
        [AuthMode::ApiKey, AuthMode::OAuth]
            .into_iter()
            .find(|m| m.as_str() == word)
    }
}

/// Lambda's `Architectures`: what both functions are built for and run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Default)]
pub enum Architecture {
    /// AWS Graviton (64-bit Arm): cheaper per GB-second than x86_64 for the same work.
    #[default]
    #[serde(rename = "arm64")]
    Arm64,
    #[serde(rename = "x86_64")]
    X86_64,
}

impl Architecture {
    pub const ALL: [Architecture; 2] = [Architecture::Arm64, Architecture::X86_64];

    /// The name Lambda and deploy.toml use: `arm64` or `x86_64`.
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Arm64 => "arm64",
            Architecture::X86_64 => "x86_64",
        }
    }
}

impl std::fmt::Display for Architecture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a `[stages.NAME]` table may change.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StageOverride {
    pub name: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub architecture: Option<Architecture>,
    pub server_memory_mb: Option<u32>,
    pub server_timeout_s: Option<u32>,
    pub tags: BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            name: "mcp-server".into(),
            region: "us-east-1".into(),
            profile: None,
            package: Package::Zip,
            architecture: Architecture::Arm64,
            server: ServerConfig::default(),
            authorizer: AuthorizerConfig::default(),
            auth: AuthConfig::default(),
            api: ApiConfig::default(),
            tags: BTreeMap::new(),
            stages: BTreeMap::new(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            package: DEFAULT_SERVER_PACKAGE.into(),
            memory_mb: 256,
            timeout_s: MAX_SERVER_TIMEOUT_S,
            log_retention_days: 14,
            env: BTreeMap::new(),
        }
    }
}

impl Default for AuthorizerConfig {
    fn default() -> Self {
        Self {
            memory_mb: 128,
            timeout_s: 5,
            accept: KeyHeader::ALL.to_vec(),
            cache_ttl_s: 300,
            secret_cache_ttl_s: 60,
            log_retention_days: 14,
        }
    }
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            stage: "$default".into(),
            throttling_burst: 50,
            throttling_rate: 100.0,
            cors: None,
        }
    }
}

/// CloudWatch Logs accepts only these retention periods.
const LOG_RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Lambda environment variable keys the runtime reserves.
const RESERVED_ENV: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// Lambda's "Environment variables: 4 KB, for all environment variables associated with the
/// function, in aggregate" (Lambda quotas; not adjustable). Lambda measures the variables as one
/// JSON object: its refusal reads "...exceeded the 4KB limit. String measured: {"KEY":"value",...}".
const MAX_LAMBDA_ENV_BYTES: usize = 4096;

/// Where API Gateway's CORS `MaxAge` stops (apigatewayv2 model: `IntegerWithLengthBetweenMinus1And86400`;
/// -1, "no caching", cannot be written as the unsigned `max_age_s`).
const MAX_CORS_MAX_AGE_S: u32 = 86400;

/// Tag lengths in characters, the same for IAM (`Tag`: key 1-128, value 0-256), CloudWatch Logs
/// (TagLogGroup), Lambda, Secrets Manager, ECR and API Gateway.
const MAX_TAG_KEY_CHARS: usize = 128;
const MAX_TAG_VALUE_CHARS: usize = 256;

/// The characters every tagged service accepts in tag keys and values. IAM (`Tag`) and CloudWatch
/// Logs (TagLogGroup) allow `[\p{L}\p{Z}\p{N}_.:/=+\-@]`; Lambda, Secrets Manager, ECR and the
/// API Gateway v2 model document no pattern beyond "generally allowed"; AWS calls
/// "A-Z, a-z, 0-9, space, and _ . : / = + @ -" "the standard set of characters available across
/// AWS services that support tags" (Amazon Personalize developer guide, tagging), so only those.
fn tag_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c)
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses and validates `text`; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of_offset(text, s.start)).unwrap_or(1);
            let message = one_line(e.message());
            // serde's wrong-type and unknown-variant messages do not say which key they are
            // about; the line they point at does.
            let message = match key_on_line(text, line) {
                Some(key) if !message.contains(&format!("`{}`", leaf_of(&key))) => {
                    format!("`{key}` {message}")
                }
                _ => message,
            };
            ConfigError::Invalid {
                path: origin.to_string(),
                line,
                message,
            }
        })?;
        config
            .validate()
            .map_err(|(key, message)| ConfigError::Invalid {
                path: origin.to_string(),
                line: line_of_key(text, &key),
                message: format!("`{key}` {message}"),
            })?;
        Ok(config)
    }

    /// The configuration with `[stages.NAME]` applied; the stack name gets the stage as suffix
    /// unless the stage sets its own, so two stages never share a resource.
    pub fn for_stage(&self, stage: &str) -> Result<Self, String> {
        let over = self.stages.get(stage).ok_or_else(|| {
            let known: Vec<&str> = self.stages.keys().map(String::as_str).collect();
            if known.is_empty() {
                format!(
                    "stage `{stage}` is not defined: add a [stages.{stage}] table to deploy.toml"
                )
            } else {
                format!(
                    "stage `{stage}` is not defined; known stages: {}",
                    known.join(", ")
                )
            }
        })?;
        let c = self.merged(stage, over);
        c.validate().map_err(|(key, message)| {
            let (key, message) = stage_error(stage, over, &c.name, key, message);
            format!("stage `{stage}`: `{key}` {message}")
        })?;
        Ok(c)
    }

    /// `self` with `over` (the table of `stage`) applied, without its stages.
    fn merged(&self, stage: &str, over: &StageOverride) -> Self {
        let mut c = self.clone();
        c.name = over
            .name
            .clone()
            .unwrap_or_else(|| format!("{}-{stage}", self.name));
        if let Some(r) = &over.region {
            c.region = r.clone();
        }
        if over.profile.is_some() {
            c.profile = over.profile.clone();
        }
        if let Some(a) = over.architecture {
            c.architecture = a;
        }
        if let Some(m) = over.server_memory_mb {
            c.server.memory_mb = m;
        }
        if let Some(t) = over.server_timeout_s {
            c.server.timeout_s = t;
        }
        c.tags.extend(over.tags.clone());
        c.stages.clear();
        c
    }

    /// Returns the dotted key path and what is wrong with it. Every `[stages.NAME]` is checked
    /// too, as it would be deployed, so `--stage` never meets a value AWS refuses.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let err = |k: &str, m: String| Err((k.to_string(), m));
        // The longest derived name is "<name>-authorizer-role" (16 more characters): IAM role
        // names are 1-64 of `[\w+=,.@-]` (IAM CreateRole), Lambda function names 1-64 of
        // `[a-zA-Z0-9-_]` (Lambda CreateFunction) for "<name>-authorizer", secret names 1-512
        // (Secrets Manager CreateSecret) for "<name>/api-key", log group names 1-512 of
        // `[\.\-_/#A-Za-z0-9]` (CloudWatch Logs CreateLogGroup) for "/aws/lambda/<name>-server"
        // and "/mcpctl/<name>/lock", HTTP API and authorizer names 1-128 (apigatewayv2
        // `StringWithLengthBetween1And128`). 40 stays inside all of them with room to spare; the
        // ECR repository name is checked below, for `package = "image"` only.
        if self.name.is_empty()
            || self.name.len() > 40
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            || !self.name.starts_with(|c: char| c.is_ascii_alphabetic())
        {
            return err(
                "name",
                format!(
                    "must be 1-40 characters of letters, digits and '-', starting with a letter (got {:?})",
                    self.name
                ),
            );
        }
        if self.package == Package::Image {
            let repository = StackNames::new(self.name.clone()).ecr_repository();
            if !ecr_repository_ok(&repository) {
                let message = if self.name.chars().any(|c| c.is_ascii_uppercase()) {
                    format!(
                        "must be lower case with package = \"image\", because ECR repository names are and {repository:?} would not be; use a lower-case name or package = \"zip\" (got {:?})",
                        self.name
                    )
                } else {
                    format!(
                        "cannot end with '-' or contain \"--\" with package = \"image\": ECR wants each '-' of a repository name between letters or digits, and {repository:?} breaks that; change the name or use package = \"zip\" (got {:?})",
                        self.name
                    )
                };
                return err("name", message);
            }
        }
        let region_ok = {
            let parts: Vec<&str> = self.region.split('-').collect();
            parts.len() >= 3
                && parts.iter().all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
                && parts
                    .last()
                    .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
        };
        if !region_ok {
            return err(
                "region",
                format!(
                    "must be an AWS region such as \"us-east-1\" (got {:?})",
                    self.region
                ),
            );
        }
        if let Some(message) = package_name_error(&self.server.package) {
            return err("server.package", message);
        }
        // Lambda CreateFunction `MemorySize`: 128-10240 MB.
        for (key, mb) in [
            ("server.memory_mb", self.server.memory_mb),
            ("authorizer.memory_mb", self.authorizer.memory_mb),
        ] {
            if !(128..=10240).contains(&mb) {
                return err(key, format!("must be between 128 and 10240 (got {mb})"));
            }
        }
        if !(1..=MAX_SERVER_TIMEOUT_S).contains(&self.server.timeout_s) {
            return err(
                "server.timeout_s",
                format!(
                    "must be between 1 and {MAX_SERVER_TIMEOUT_S}, because API Gateway cuts every request at 30 s (got {})",
                    self.server.timeout_s
                ),
            );
        }
        if !(1..=MAX_AUTHORIZER_TIMEOUT_S).contains(&self.authorizer.timeout_s) {
            return err(
                "authorizer.timeout_s",
                format!(
                    "must be between 1 and {MAX_AUTHORIZER_TIMEOUT_S}, because API Gateway waits at most 10 s for a Lambda authorizer (got {})",
                    self.authorizer.timeout_s
                ),
            );
        }
        // CloudWatch Logs PutRetentionPolicy `retentionInDays`.
        for (key, days) in [
            ("server.log_retention_days", self.server.log_retention_days),
            (
                "authorizer.log_retention_days",
                self.authorizer.log_retention_days,
            ),
        ] {
            if !LOG_RETENTION_DAYS.contains(&days) {
                return err(
                    key,
                    format!("must be one of CloudWatch's retention periods {LOG_RETENTION_DAYS:?} (got {days})"),
                );
            }
        }
        if let Err(e) = Accepted::from_list(&self.authorizer.accept) {
            return err("authorizer.accept", e.to_string());
        }
        // apigatewayv2 CreateAuthorizer `AuthorizerResultTtlInSeconds`:
        // `IntegerWithLengthBetween0And3600`.
        if self.authorizer.cache_ttl_s > 3600 {
            return err(
                "authorizer.cache_ttl_s",
                format!(
                    "must be between 0 and 3600 (got {})",
                    self.authorizer.cache_ttl_s
                ),
            );
        }
        if self.authorizer.secret_cache_ttl_s > 3600 {
            return err(
                "authorizer.secret_cache_ttl_s",
                format!(
                    "must be between 0 and 3600 (got {})",
                    self.authorizer.secret_cache_ttl_s
                ),
            );
        }
        // Lambda `Environment.Variables` key pattern: `[a-zA-Z]([a-zA-Z0-9_])+`, so 2 or more.
        for key in self.server.env.keys() {
            let valid = key.len() >= 2
                && key.starts_with(|c: char| c.is_ascii_alphabetic())
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return err(
                    "server.env",
                    format!("has an invalid variable name {key:?}: use letters, digits and '_', at least 2 characters starting with a letter"),
                );
            }
            if RESERVED_ENV.contains(&key.as_str()) {
                return err("server.env", format!("sets {key}, which Lambda reserves"));
            }
        }
        let env_bytes = lambda_env_bytes(&crate::env::server_env(self));
        if env_bytes > MAX_LAMBDA_ENV_BYTES {
            return err(
                "server.env",
                format!(
                    "makes the server's environment {env_bytes} bytes as Lambda measures it (all variables with RUST_LOG, as one JSON object); Lambda allows at most {MAX_LAMBDA_ENV_BYTES} (4 KB)"
                ),
            );
        }
        // apigatewayv2 CreateStage `StageName`: "$default", or up to 128 alphanumeric characters,
        // hyphens and underscores.
        let stage_ok = self.api.stage == "$default"
            || (!self.api.stage.is_empty()
                && self.api.stage.len() <= 128
                && self
                    .api
                    .stage
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        if !stage_ok {
            return err(
                "api.stage",
                format!(
                    "must be \"$default\" or letters, digits, '-' and '_' (got {:?})",
                    self.api.stage
                ),
            );
        }
        // apigatewayv2 `RouteSettings`: `ThrottlingRateLimit` is a double, `ThrottlingBurstLimit`
        // a 32-bit integer. Both are also capped by the account's (adjustable) Region quota,
        // 10,000 requests per second with a burst of 5,000 by default, which no file can know.
        if !(self.api.throttling_rate.is_finite() && self.api.throttling_rate > 0.0) {
            return err(
                "api.throttling_rate",
                format!(
                    "must be a positive number of requests per second (got {})",
                    self.api.throttling_rate
                ),
            );
        }
        let max_burst = i32::MAX.unsigned_abs();
        if self.api.throttling_burst == 0 || self.api.throttling_burst > max_burst {
            return err(
                "api.throttling_burst",
                format!(
                    "must be at least 1 and at most {max_burst}, API Gateway's 32-bit limit (got {})",
                    self.api.throttling_burst
                ),
            );
        }
        if let Some(cors) = &self.api.cors {
            if cors.max_age_s > MAX_CORS_MAX_AGE_S {
                return err(
                    "api.cors.max_age_s",
                    format!(
                        "must be between 0 and {MAX_CORS_MAX_AGE_S} seconds, API Gateway's CORS MaxAge range (got {})",
                        cors.max_age_s
                    ),
                );
            }
            // `AllowOrigins` and `AllowHeaders` are lists of unconstrained strings in the
            // apigatewayv2 model, and the HTTP API CORS guide documents no limit for them.
        }
        check_tags(&self.tags).or_else(|m| err("tags", m))?;
        for (stage, over) in &self.stages {
            check_tags(&over.tags).map_err(|m| (format!("stages.{stage}.tags"), m))?;
            let c = self.merged(stage, over);
            c.validate()
                .map_err(|(key, message)| stage_error(stage, over, &c.name, key, message))?;
        }
        Ok(())
    }
}

/// Where a stage's error belongs: the stage's own key when the stage set the value, and what the
/// stage made of the stack name when it derived one.
fn stage_error(
    stage: &str,
    over: &StageOverride,
    stack: &str,
    key: String,
    message: String,
) -> (String, String) {
    let own = |leaf: &str| format!("stages.{stage}.{leaf}");
    match key.as_str() {
        "name" if over.name.is_some() => (own("name"), message),
        "name" => (
            format!("stages.{stage}"),
            format!("makes the stack name {stack:?} (`name` plus \"-{stage}\"), which {message}"),
        ),
        "region" if over.region.is_some() => (own("region"), message),
        "server.memory_mb" if over.server_memory_mb.is_some() => (own("server_memory_mb"), message),
        "server.timeout_s" if over.server_timeout_s.is_some() => (own("server_timeout_s"), message),
        // Each of the stage's tags passed on its own: what is left is their number.
        "tags" if !over.tags.is_empty() => (own("tags"), format!("together with [tags] {message}")),
        _ => (key, format!("{message} in stage `{stage}`")),
    }
}

/// `[tags]` against what IAM, Lambda, Secrets Manager, CloudWatch Logs, API Gateway and ECR all
/// accept, next to the tags mcpctl adds itself.
fn check_tags(tags: &BTreeMap<String, String>) -> Result<(), String> {
    let allowed = "letters A-Z a-z, digits, spaces and _ . : / = + - @";
    for (k, v) in tags {
        let key_chars = k.chars().count();
        if key_chars == 0 || key_chars > MAX_TAG_KEY_CHARS {
            return Err(format!(
                "has the tag key {k:?} of {key_chars} characters: keys are 1-{MAX_TAG_KEY_CHARS} characters"
            ));
        }
        let value_chars = v.chars().count();
        if value_chars > MAX_TAG_VALUE_CHARS {
            return Err(format!(
                "has a value of {value_chars} characters for tag {k:?}: values are at most {MAX_TAG_VALUE_CHARS} characters"
            ));
        }
        // "Don't use aws:, AWS:, or any upper or lowercase combination of such as a prefix for
        // either keys or values, as it is reserved for AWS use" (AWS tagging restrictions;
        // Secrets Manager TagResource says the same for names and values).
        if starts_with_ignore_case(k, "aws:") {
            return Err(format!(
                "has the tag {k:?}: keys starting with \"aws:\" (in any case) are reserved for AWS"
            ));
        }
        if starts_with_ignore_case(v, "aws:") {
            return Err(format!(
                "has the value {v:?} for tag {k:?}: values starting with \"aws:\" (in any case) are reserved for AWS"
            ));
        }
        if k.starts_with("mcpctl:") {
            return Err(format!(
                "has the tag {k:?}: keys starting with \"mcpctl:\" are reserved for mcpctl's own tags ({STACK_TAG}, mcpctl:api-id, mcpctl:lock-…)"
            ));
        }
        for (what, s) in [("key", k), ("value", v)] {
            if let Some(c) = s.chars().find(|&c| !tag_char_ok(c)) {
                return Err(format!(
                    "has {c:?} in the {what} of tag {k:?}: tags go to IAM, Lambda, Secrets Manager, CloudWatch Logs, API Gateway and ECR, and all of them accept only {allowed}"
                ));
            }
        }
    }
    if tags.len() > MAX_USER_TAGS {
        return Err(format!(
            "has {} tags, at most {MAX_USER_TAGS} are allowed: AWS allows {MAX_TAGS_PER_RESOURCE} per resource and mcpctl adds up to {} of its own (on the stack lock's log group: {})",
            tags.len(),
            MCPCTL_LOCK_TAGS.len(),
            MCPCTL_LOCK_TAGS.join(", ")
        ));
    }
    Ok(())
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// ECR CreateRepository `repositoryName`: 2-256 characters matching
/// `(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*`.
fn ecr_repository_ok(name: &str) -> bool {
    (2..=256).contains(&name.len())
        && name.split('/').all(|segment| {
            segment.split(['.', '_', '-']).all(|run| {
                !run.is_empty()
                    && run
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            })
        })
}

/// The length of `env` as the JSON object Lambda measures against its 4 KB (compact, UTF-8).
fn lambda_env_bytes(env: &BTreeMap<String, String>) -> usize {
    let json_string = |s: &str| {
        2 + s
            .chars()
            .map(|c| match c {
                '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
                c if u32::from(c) < 0x20 => 6,
                c => c.len_utf8(),
            })
            .sum::<usize>()
    };
    let pairs: usize = env
        .iter()
        .map(|(k, v)| json_string(k) + 1 + json_string(v))
        .sum();
    2 + pairs + env.len().saturating_sub(1)
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The dotted key set on 1-based `line` (`table.key = value`), if that line sets one.
fn key_on_line(text: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    for raw in text.lines().take(line.saturating_sub(1)) {
        let raw = raw.trim();
        if let Some(header) = raw.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = header.trim().to_string();
        }
    }
    let (key, _) = text.lines().nth(line.checked_sub(1)?)?.split_once('=')?;
    let key = key.trim().trim_matches('"');
    if key.is_empty() || key.starts_with('[') || key.starts_with('#') {
        return None;
    }
    Some(if table.is_empty() {
        key.to_string()
    } else {
        format!("{table}.{key}")
    })
}

fn leaf_of(key: &str) -> &str {
    key.rsplit_once('.').map_or(key, |(_, leaf)| leaf)
}

/// The line where dotted `key` is set, found by walking table headers: the key's own line, or
/// the header of its table (`[stages.prod]` for `stages.prod`, or the first `[stages.prod.…]`
/// when only subtables exist); 1 when it is absent (a default that failed validation).
fn line_of_key(text: &str, key: &str) -> usize {
    let (table, leaf) = match key.rsplit_once('.') {
        Some((t, l)) => (t, l),
        None => ("", key),
    };
    let subtable = format!("{key}.");
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            // `[stages."my stage"]` names the table `stages.my stage`.
            current = header.trim().replace('"', "");
            if current == key || current.starts_with(&subtable) {
                return i + 1;
            }
            continue;
        }
        if current == table {
            if let Some((k, _)) = line.split_once('=') {
                if k.trim().trim_matches('"') == leaf {
                    return i + 1;
                }
            }
        }
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(text: &str) -> (usize, String) {
        match Config::parse(text, "deploy.toml") {
            Err(ConfigError::Invalid { line, message, .. }) => (line, message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn empty_file_gives_working_defaults() {
        let c = Config::parse("", "deploy.toml").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.server.timeout_s, 29);
    }

    #[test]
    fn server_package_defaults_to_this_repository_and_follows_cargo_names() {
        assert_eq!(Config::default().server.package, "mcpctl-server");
        for name in ["demo", "my-tools", "my_tools2", &"a".repeat(64)] {
            let c =
                Config::parse(&format!("[server]\npackage = {name:?}\n"), "deploy.toml").unwrap();
            assert_eq!(c.server.package, name);
        }
        let (line, msg) = invalid("name = \"a\"\n[server]\npackage = \"my tools\"\n");
        assert_eq!(line, 3);
        assert!(
            msg.starts_with("`server.package` must be ASCII letters"),
            "{msg}"
        );
        assert!(package_name_error(&"a".repeat(65)).is_some());
        assert!(package_name_error("-x").is_some());
        assert!(package_name_error("std").is_some());
    }

    #[test]
    fn shipped_deploy_toml_is_valid() {
        let text = include_str!("../../deploy.toml");
        Config::parse(text, "deploy.toml").unwrap();
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let (line, msg) = invalid("name = \"a\"\n\n[server]\nmemory = 512\n");
        assert_eq!(line, 4);
        assert!(msg.contains("memory"), "{msg}");
    }

    #[test]
    fn timeout_over_29_is_refused_with_the_reason() {
        let (line, msg) = invalid("name = \"a\"\n[server]\ntimeout_s = 30\n");
        assert_eq!(line, 3);
        assert!(
            msg.contains("server.timeout_s") && msg.contains("30 s"),
            "{msg}"
        );
    }

    #[test]
    fn wrong_type_is_refused_with_line() {
        let (line, msg) = invalid("[authorizer]\ncache_ttl_s = \"five\"\n");
        assert_eq!(line, 2);
        assert!(
            msg.starts_with("`authorizer.cache_ttl_s` invalid type"),
            "{msg}"
        );
        let (line, msg) = invalid("name = \"a\"\npackage = \"docker\"\n");
        assert_eq!(line, 2);
        assert!(msg.contains("`package`") && msg.contains("`zip`"), "{msg}");
        // Unknown keys already name themselves once.
        let (_, msg) = invalid("[server]\nmemory = 512\n");
        assert_eq!(msg.matches("memory").count(), 2, "{msg}");
    }

    #[test]
    fn bad_values_each_name_their_key() {
        for (text, key) in [
            ("name = \"has space\"", "name"),
            ("region = \"mars\"", "region"),
            ("[server]\nmemory_mb = 64", "server.memory_mb"),
            ("[server]\npackage = \"\"", "server.package"),
            ("[server]\npackage = \"my server\"", "server.package"),
            ("[server]\npackage = \"1st\"", "server.package"),
            ("[server]\npackage = \"fn\"", "server.package"),
            (
                "[server]\nlog_retention_days = 2",
                "server.log_retention_days",
            ),
            ("[server.env]\nAWS_REGION = \"x\"", "server.env"),
            ("[authorizer]\ncache_ttl_s = 9999", "authorizer.cache_ttl_s"),
            ("[api]\nthrottling_rate = 0.0", "api.throttling_rate"),
            ("[api]\nstage = \"a b\"", "api.stage"),
            ("[tags]\n\"aws:x\" = \"y\"", "tags"),
        ] {
            let (_, msg) = invalid(text);
            assert!(msg.contains(&format!("`{key}`")), "{text}: {msg}");
        }
    }

    /// `n` tags `t0 = "v"`, `t1 = "v"`, … under whatever table header precedes them.
    fn tags(n: usize) -> String {
        (0..n).map(|i| format!("t{i} = \"v\"\n")).collect()
    }

    #[test]
    fn values_aws_refuses_name_their_key_line_and_limit() {
        assert_eq!(
            MAX_USER_TAGS, 44,
            "50 per resource, 6 on the lock's log group"
        );
        let too_many = format!(
            "has {} tags, at most 44 are allowed: AWS allows 50 per resource and mcpctl adds up to 6",
            MAX_USER_TAGS + 1
        );
        let long_key = "k".repeat(129);
        let long_value = "v".repeat(257);
        let big_env = "x".repeat(4059);
        let cases: Vec<(String, &str, usize, &str)> = vec![
            // ECR repository names ("<name>-server") are lower case.
            (
                "name = \"MyApp\"\npackage = \"image\"".into(),
                "name",
                1,
                "must be lower case with package = \"image\"",
            ),
            (
                "name = \"MyApp\"\npackage = \"image\"".into(),
                "name",
                1,
                "use a lower-case name or package = \"zip\"",
            ),
            (
                "name = \"my--app\"\npackage = \"image\"".into(),
                "name",
                1,
                "\"my--app-server\"",
            ),
            (
                "name = \"app-\"\npackage = \"image\"".into(),
                "name",
                1,
                "cannot end with '-'",
            ),
            (
                "[authorizer]\ntimeout_s = 11".into(),
                "authorizer.timeout_s",
                2,
                "between 1 and 10, because API Gateway waits at most 10 s",
            ),
            (
                "[server.env]\nA = \"x\"".into(),
                "server.env",
                1,
                "at least 2 characters",
            ),
            (
                format!("[server.env]\nBIG = \"{big_env}\""),
                "server.env",
                1,
                "4097 bytes as Lambda measures it",
            ),
            (
                "[api]\nthrottling_burst = 3000000000".into(),
                "api.throttling_burst",
                2,
                "at most 2147483647",
            ),
            (
                "[api.cors]\nmax_age_s = 86401".into(),
                "api.cors.max_age_s",
                2,
                "between 0 and 86400",
            ),
            (
                format!("[tags]\n{long_key} = \"v\""),
                "tags",
                1,
                "of 129 characters: keys are 1-128",
            ),
            (
                format!("[tags]\nk = \"{long_value}\""),
                "tags",
                1,
                "257 characters for tag \"k\": values are at most 256",
            ),
            (
                "[tags]\n\"AWS:x\" = \"y\"".into(),
                "tags",
                1,
                "\"aws:\" (in any case) are reserved",
            ),
            (
                "[tags]\nk = \"Aws:thing\"".into(),
                "tags",
                1,
                "values starting with \"aws:\"",
            ),
            (
                "[tags]\n\"mcpctl:stack\" = \"x\"".into(),
                "tags",
                1,
                "reserved for mcpctl's own tags (mcpctl:stack, mcpctl:api-id",
            ),
            (
                "[tags]\n\"a#b\" = \"x\"".into(),
                "tags",
                1,
                "'#' in the key of tag \"a#b\"",
            ),
            (
                "[tags]\nteam = \"caf\u{e9}\"".into(),
                "tags",
                1,
                "'\u{e9}' in the value of tag \"team\"",
            ),
            (
                format!("name = \"a\"\n[tags]\n{}", tags(MAX_USER_TAGS + 1)),
                "tags",
                2,
                &too_many,
            ),
            // Every stage is checked as it would be deployed, at its own key.
            (
                format!(
                    "[tags]\n{}[stages.prod.tags]\nextra = \"x\"",
                    tags(MAX_USER_TAGS)
                ),
                "stages.prod.tags",
                MAX_USER_TAGS + 2,
                "together with [tags] has 45 tags, at most 44",
            ),
            (
                "[stages.prod.tags]\n\"aws:x\" = \"y\"".into(),
                "stages.prod.tags",
                1,
                "reserved for AWS",
            ),
            (
                "name = \"a\"\n[stages.prod]\nserver_memory_mb = 64".into(),
                "stages.prod.server_memory_mb",
                3,
                "between 128 and 10240",
            ),
            (
                "[stages.prod]\nserver_timeout_s = 30".into(),
                "stages.prod.server_timeout_s",
                2,
                "30 s",
            ),
            (
                "[stages.prod]\nname = \"bad name\"".into(),
                "stages.prod.name",
                2,
                "1-40 characters",
            ),
            (
                "[stages.prod]\nregion = \"mars\"".into(),
                "stages.prod.region",
                2,
                "us-east-1",
            ),
            (
                format!("name = \"{}\"\n[stages.prod]", "a".repeat(36)),
                "stages.prod",
                2,
                "(`name` plus \"-prod\"), which must be 1-40 characters",
            ),
            (
                "name = \"app\"\npackage = \"image\"\n[stages.Prod]".into(),
                "stages.Prod",
                3,
                "\"app-Prod\" (`name` plus \"-Prod\"), which must be lower case",
            ),
            (
                "name = \"app\"\npackage = \"image\"\n[stages.Prod.tags]\nk = \"v\"".into(),
                "stages.Prod",
                3,
                "\"app-Prod-server\"",
            ),
            (
                "[stages.\"my stage\"]".into(),
                "stages.my stage",
                1,
                "letters, digits and '-'",
            ),
        ];
        for (text, key, line, fragment) in &cases {
            let (at, msg) = invalid(text);
            assert!(
                msg.starts_with(&format!("`{key}` ")) && msg.contains(fragment) && at == *line,
                "{text:?}: line {at}: {msg}"
            );
        }
    }

    #[test]
    fn values_at_the_aws_limits_are_accepted() {
        let cases = [
            "name = \"app\"\npackage = \"image\"".to_string(),
            format!(
                "name = \"{}abcdefgh\"\npackage = \"image\"",
                "a1-b2-c-".repeat(4)
            ),
            "name = \"My-App\"".into(),
            "[authorizer]\ntimeout_s = 10\ncache_ttl_s = 3600".into(),
            "[server.env]\nAB = \"x\"".into(),
            format!("[server.env]\nBIG = \"{}\"", "x".repeat(4058)),
            "[api]\nthrottling_burst = 2147483647".into(),
            "[api.cors]\nmax_age_s = 86400".into(),
            "[api.cors]\nmax_age_s = 0".into(),
            format!("[tags]\n{}", tags(MAX_USER_TAGS)),
            format!(
                "[tags]\n\"{}\" = \"{}\"\n\"Cost Center\" = \"a b_.:/=+-@ 09\"\nempty = \"\"",
                "k".repeat(128),
                "v".repeat(256)
            ),
            format!(
                "[tags]\n{}[stages.prod.tags]\nt0 = \"overridden\"",
                tags(MAX_USER_TAGS)
            ),
            format!("name = \"{}\"\n[stages.prod]", "a".repeat(35)),
        ];
        for text in &cases {
            if let Err(e) = Config::parse(text, "deploy.toml") {
                panic!("{text:?} refused: {e}");
            }
        }
    }

    #[test]
    fn authorizer_accept_names_one_or_both_headers() {
        for (text, line, fragment) in [
            ("[authorizer]\naccept = []", 2, "names no header"),
            (
                "name = \"a\"\n[authorizer]\naccept = [\"bearer\", \"bearer\"]",
                3,
                "names \"bearer\" twice",
            ),
            ("[authorizer]\naccept = [\"basic\"]", 2, "`bearer`"),
            ("[authorizer]\naccept = [\"Bearer\"]", 2, "`x-api-key`"),
            ("[authorizer]\naccept = \"bearer\"", 2, "invalid type"),
        ] {
            let (at, msg) = invalid(text);
            assert!(
                msg.starts_with("`authorizer.accept` ") && msg.contains(fragment) && at == line,
                "{text:?}: line {at}: {msg}"
            );
        }
        for (text, expected) in [
            ("", vec![KeyHeader::XApiKey, KeyHeader::Bearer]),
            (
                "[authorizer]\naccept = [\"x-api-key\"]",
                vec![KeyHeader::XApiKey],
            ),
            (
                "[authorizer]\naccept = [\"bearer\"]",
                vec![KeyHeader::Bearer],
            ),
            (
                "[authorizer]\naccept = [\"bearer\", \"x-api-key\"]",
                vec![KeyHeader::Bearer, KeyHeader::XApiKey],
            ),
        ] {
            match Config::parse(text, "deploy.toml") {
                Ok(c) => assert_eq!(c.authorizer.accept, expected, "{text:?}"),
                Err(e) => panic!("{text:?} refused: {e}"),
            }
        }
    }

    #[test]
    fn lambda_env_bytes_is_the_json_lambda_measures() {
        let env = BTreeMap::from([
            ("A_B".to_string(), "x\"y".to_string()),
            ("C".to_string(), "\n\u{1}\u{e9}".to_string()),
        ]);
        assert_eq!(
            lambda_env_bytes(&env),
            "{\"A_B\":\"x\\\"y\",\"C\":\"\\n\\u0001\u{e9}\"}".len()
        );
        assert_eq!(lambda_env_bytes(&BTreeMap::new()), "{}".len());
    }

    #[test]
    fn ecr_repository_names_follow_the_ecr_pattern() {
        for ok in ["ab", "a-b", "a.b_c-d", "ns/app-server", "0a"] {
            assert!(ecr_repository_ok(ok), "{ok}");
        }
        for bad in [
            "a",
            "A-b",
            "a--b",
            "a-",
            "-a",
            "a//b",
            "/a",
            "a_",
            &"a".repeat(257),
        ] {
            assert!(!ecr_repository_ok(bad), "{bad}");
        }
    }

    #[test]
    fn for_stage_names_the_stage_key_too() {
        let mut c = Config::default();
        c.stages.insert(
            "prod".into(),
            StageOverride {
                server_memory_mb: Some(64),
                ..StageOverride::default()
            },
        );
        let e = c.for_stage("prod").unwrap_err();
        assert!(
            e.starts_with("stage `prod`: `stages.prod.server_memory_mb` must be between 128"),
            "{e}"
        );
    }

    #[test]
    fn stage_override_renames_and_overrides() {
        let c = Config::parse(
            "name = \"app\"\n[stages.prod]\nserver_memory_mb = 1024\n[stages.prod.tags]\nenv = \"prod\"\n",
            "deploy.toml",
        )
        .unwrap();
        let prod = c.for_stage("prod").unwrap();
        assert_eq!(prod.name, "app-prod");
        assert_eq!(prod.server.memory_mb, 1024);
        assert_eq!(prod.tags.get("env").map(String::as_str), Some("prod"));
        assert!(c.for_stage("qa").unwrap_err().contains("prod"));
    }

    #[test]
    fn architecture_defaults_to_arm64_and_a_stage_may_change_it() {
        let arch = |text: &str| Config::parse(text, "deploy.toml").map(|c| c.architecture);
        assert_eq!(arch("").unwrap(), Architecture::Arm64);
        assert_eq!(
            arch("architecture = \"arm64\"").unwrap(),
            Architecture::Arm64
        );
        assert_eq!(
            arch("architecture = \"x86_64\"").unwrap(),
            Architecture::X86_64
        );
        let c = Config::parse(
            "name = \"app\"\n[stages.intel]\narchitecture = \"x86_64\"\n[stages.same]\n",
            "deploy.toml",
        )
        .unwrap();
        assert_eq!(c.architecture, Architecture::Arm64);
        assert_eq!(
            c.for_stage("intel").unwrap().architecture,
            Architecture::X86_64
        );
        assert_eq!(
            c.for_stage("same").unwrap().architecture,
            Architecture::Arm64
        );
        let c = Config::parse(
            "architecture = \"x86_64\"\n[stages.graviton]\narchitecture = \"arm64\"\n",
            "deploy.toml",
        )
        .unwrap();
        assert_eq!(
            c.for_stage("graviton").unwrap().architecture,
            Architecture::Arm64
        );
        assert_eq!(Architecture::Arm64.to_string(), "arm64");
        assert_eq!(Architecture::X86_64.as_str(), "x86_64");
    }

    #[test]
    fn architecture_other_than_lambdas_two_is_refused_at_its_key() {
        for (text, key, line, got) in [
            ("architecture = \"amd64\"", "architecture", 1, "amd64"),
            (
                "name = \"a\"\narchitecture = \"aarch64\"",
                "architecture",
                2,
                "aarch64",
            ),
            ("architecture = \"ARM64\"", "architecture", 1, "ARM64"),
            (
                "[stages.prod]\narchitecture = \"x86-64\"",
                "stages.prod.architecture",
                2,
                "x86-64",
            ),
        ] {
            let (at, msg) = invalid(text);
            assert!(
                msg.starts_with(&format!("`{key}` unknown variant `{got}`"))
                    && msg.contains("`arm64`")
                    && msg.contains("`x86_64`")
                    && at == line,
                "{text:?}: line {at}: {msg}"
            );
        }
        let (at, msg) = invalid("name = \"a\"\narchitecture = 64");
        assert!(msg.starts_with("`architecture` ") && at == 2, "{msg}");
    }
}

#[cfg(test)]
mod auth_mode_tests {
    use super::*;

    #[test]
    fn auth_mode_defaults_to_api_key_and_parses_oauth() {
        let c = Config::parse("name = \"x\"\n", "deploy.toml").unwrap();
        assert_eq!(c.auth.mode, AuthMode::ApiKey);
        let c = Config::parse("[auth]\nmode = \"oauth\"\n", "deploy.toml").unwrap();
        assert_eq!(c.auth.mode, AuthMode::OAuth);
        for bad in [
            "[auth]\nmode = \"OAuth\"\n",
            "[auth]\nmode = \"jwt\"\n",
            "[auth]\nmodes = \"oauth\"\n",
        ] {
            let e = Config::parse(bad, "deploy.toml").unwrap_err().to_string();
            assert!(e.contains("deploy.toml:2"), "{bad}: {e}");
        }
        for m in [AuthMode::ApiKey, AuthMode::OAuth] {
            assert_eq!(AuthMode::from_word(m.as_str()), Some(m));
        }
    }
}
