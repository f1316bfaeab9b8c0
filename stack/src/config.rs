//! `deploy.toml`: one file describes one deployment. Every field has a default, unknown keys are
//! refused, and every error names the key, its line and what is allowed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// API Gateway HTTP APIs cut every integration at 30 s; the function must finish first.
pub const MAX_SERVER_TIMEOUT_S: u32 = 29;

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
    pub server: ServerConfig,
    pub authorizer: AuthorizerConfig,
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
    /// API Gateway's authorizer result cache (0 disables it).
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

/// What a `[stages.NAME]` table may change.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct StageOverride {
    pub name: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
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
            server: ServerConfig::default(),
            authorizer: AuthorizerConfig::default(),
            api: ApiConfig::default(),
            tags: BTreeMap::new(),
            stages: BTreeMap::new(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
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
        if let Some(m) = over.server_memory_mb {
            c.server.memory_mb = m;
        }
        if let Some(t) = over.server_timeout_s {
            c.server.timeout_s = t;
        }
        c.tags.extend(over.tags.clone());
        c.stages.clear();
        c.validate()
            .map_err(|(key, message)| format!("stage `{stage}`: `{key}` {message}"))?;
        Ok(c)
    }

    /// Returns the dotted key path and what is wrong with it.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let err = |k: &str, m: String| Err((k.to_string(), m));
        // The longest derived name is "<name>-authorizer-role": IAM role names stop at 64.
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
        if !(1..=MAX_SERVER_TIMEOUT_S).contains(&self.authorizer.timeout_s) {
            return err(
                "authorizer.timeout_s",
                format!(
                    "must be between 1 and {MAX_SERVER_TIMEOUT_S} (got {})",
                    self.authorizer.timeout_s
                ),
            );
        }
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
        for key in self.server.env.keys() {
            let valid = key.starts_with(|c: char| c.is_ascii_alphabetic())
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return err(
                    "server.env",
                    format!("has an invalid variable name {key:?}: use letters, digits and '_'"),
                );
            }
            if RESERVED_ENV.contains(&key.as_str()) {
                return err("server.env", format!("sets {key}, which Lambda reserves"));
            }
        }
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
        if !(self.api.throttling_rate.is_finite() && self.api.throttling_rate > 0.0) {
            return err(
                "api.throttling_rate",
                format!(
                    "must be a positive number of requests per second (got {})",
                    self.api.throttling_rate
                ),
            );
        }
        if self.api.throttling_burst == 0 {
            return err("api.throttling_burst", "must be at least 1".to_string());
        }
        for (k, v) in &self.tags {
            if k.is_empty() || k.len() > 128 || v.len() > 256 || k.starts_with("aws:") {
                return err(
                    "tags",
                    format!("has an invalid tag {k:?}: keys are 1-128 characters not starting with \"aws:\", values at most 256"),
                );
            }
        }
        Ok(())
    }
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

/// The line where dotted `key` is set, found by walking table headers; 1 when it is absent
/// (a default that failed validation, e.g. after a stage override).
fn line_of_key(text: &str, key: &str) -> usize {
    let (table, leaf) = match key.rsplit_once('.') {
        Some((t, l)) => (t, l),
        None => ("", key),
    };
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = header.trim().to_string();
            if current == key {
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
}
