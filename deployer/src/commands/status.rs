//! `mcpctl status`: what is deployed (endpoint, functions and their architecture, authorizer
//! cache, key age) and how it drifted from deploy.toml. The drift is `mcpctl plan`'s, from the same single read; nothing
//! is changed and the key itself is never shown.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Result;
use serde_json::{json, Value};

use crate::aws::{self, Aws};
use crate::human::age;
use crate::lock;
use crate::preview::{self, Planned, Preview};
use crate::resources::function::FunctionState;
use crate::resources::Ctx;
use crate::{Cli, Output};

#[derive(clap::Args, Debug)]
pub struct Args {}

/// When the key versions were made; the values are never read.
#[derive(Debug, Default, PartialEq)]
pub struct KeyAge {
    /// Seconds since the epoch.
    pub current_created: Option<i64>,
    pub previous_created: Option<i64>,
}

async fn key_age(ctx: &Ctx<'_>) -> Result<KeyAge> {
    let out = match ctx
        .aws
        .secrets
        .list_secret_version_ids()
        .secret_id(ctx.names.secret())
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if aws::is_not_found(&e) => return Ok(KeyAge::default()),
        Err(e) => return Err(aws::describe("ListSecretVersionIds", &e)),
    };
    let created = |label: &str| {
        out.versions()
            .iter()
            .find(|v| v.version_stages().iter().any(|s| s == label))
            .and_then(|v| v.created_date())
            .map(|d| d.secs())
    };
    Ok(KeyAge {
        current_created: created("AWSCURRENT"),
        previous_created: created("AWSPREVIOUS"),
    })
}

pub async fn run(cli: &Cli, _args: &Args) -> Result<()> {
    let config = super::load_config(cli)?;
    let aws = Aws::connect(&config).await?;
    let ctx = Ctx::new(&aws, &config);
    let preview = preview::preview_stack(&ctx, None).await?;
    let keys = match &preview.secret {
        Some(s) if !s.scheduled_for_deletion => key_age(&ctx).await?,
        _ => KeyAge::default(),
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let endpoint = preview
        .api
        .as_ref()
        .map(|a| super::endpoint_url(&a.endpoint, &config.api.stage));
    let deployed = is_deployed(&preview);
    let lock = lock::read_holder(&aws, &ctx.names.lock()).await?;
    let drift: Vec<&Planned> = preview.changes.iter().filter(|c| c.is_change()).collect();

    match cli.output {
        Output::Json => super::print_json(&with_oauth(
            &config,
            &preview,
            json!({
                "stack": config.name,
                "region": config.region,
                "server_package": config.server.package,
                "deployed": deployed,
                "endpoint": endpoint,
                "functions": {
                    "server": preview.server.as_ref().map(function_json),
                    "authorizer": preview.authorizer.as_ref().map(function_json),
                },
                "authorizer_cache_ttl_s": preview.api_authorizer.as_ref().and_then(|a| a.ttl_s),
                "api_key": {
                    "secret_id": ctx.names.secret(),
                    "scheduled_for_deletion": preview.secret.as_ref().map(|s| s.scheduled_for_deletion),
                    "current_created": keys.current_created.map(mcpctl_stack::time::rfc3339),
                    "current_age_s": keys.current_created.map(|c| now - c),
                    "previous_still_valid": keys.previous_created.is_some(),
                },
                "drift": drift,
                "in_sync": drift.is_empty(),
                "locked_by": lock.as_ref().map(lock::Holder::to_json),
                "mutating_calls": aws.calls.mutating_count(),
            }),
        )),
        Output::Text => {
            print!(
                "{}",
                render(cli, &config, &preview, &keys, endpoint.as_deref(), now)
            );
            if let Some(h) = &lock {
                println!(
                    "  {:<12} held by {}: a deploy or destroy is running",
                    "Lock",
                    h.describe()
                );
            }
            Ok(())
        }
    }
}

/// With `[auth] mode = "oauth"`, the status also names the oauth function (api-key mode's
/// output stays as it was).
fn with_oauth(config: &mcpctl_stack::Config, preview: &Preview, mut status: Value) -> Value {
    if config.auth.mode == mcpctl_stack::config::AuthMode::OAuth {
        status["auth_mode"] = json!(config.auth.mode.as_str());
        status["functions"]["oauth"] = json!(preview.oauth.as_ref().map(function_json));
        status["oauth_signing_secret_id"] = json!(mcpctl_stack::oauth::signing_secret_name(config));
    }
    status
}

/// Anything of the stack exists, other than a secret `destroy` left scheduled for deletion.
fn is_deployed(preview: &Preview) -> bool {
    preview.api.is_some()
        || preview.server.is_some()
        || preview.authorizer.is_some()
        || preview.oauth.is_some()
        || preview
            .secret
            .as_ref()
            .is_some_and(|s| !s.scheduled_for_deletion)
}

fn function_json(f: &FunctionState) -> Value {
    json!({
        "arn": f.arn,
        "last_modified": f.last_modified,
        "code_sha256": f.code_sha256,
        "package_type": f.package_type,
        "architecture": f.architecture(),
        "memory_mb": f.memory_mb,
        "timeout_s": f.timeout_s,
    })
}

fn render(
    cli: &Cli,
    config: &mcpctl_stack::Config,
    preview: &Preview,
    keys: &KeyAge,
    endpoint: Option<&str>,
    now: i64,
) -> String {
    let mut out = format!(
        "Stack {} in {}, server package {}\n",
        config.name, config.region, config.server.package
    );
    if !is_deployed(preview) {
        out.push_str("  not deployed: `mcpctl deploy` creates it (`mcpctl plan` shows what)\n");
        return out;
    }
    let line = |out: &mut String, label: &str, value: String| {
        out.push_str(&format!("  {label:<12} {value}\n"));
    };
    line(
        &mut out,
        "Endpoint",
        endpoint.unwrap_or("(no API)").to_string(),
    );
    let oauth = config.auth.mode == mcpctl_stack::config::AuthMode::OAuth;
    let mut functions = vec![
        ("Server", &preview.server),
        ("Authorizer", &preview.authorizer),
    ];
    if oauth {
        functions.push(("OAuth", &preview.oauth));
    }
    for (label, f) in functions {
        let value = match f {
            Some(f) => format!(
                "{}, {}, {} MB / {} s, code {}, last modified {}",
                f.package_type.as_deref().unwrap_or("Zip").to_lowercase(),
                f.architecture(),
                f.memory_mb.map_or("?".into(), |m| m.to_string()),
                f.timeout_s.map_or("?".into(), |t| t.to_string()),
                short_sha(&f.code_sha256),
                f.last_modified.as_deref().unwrap_or("?")
            ),
            None => "(missing)".to_string(),
        };
        line(&mut out, label, value);
    }
    line(
        &mut out,
        "Auth cache",
        match preview.api_authorizer.as_ref().and_then(|a| a.ttl_s) {
            Some(ttl) => format!("{ttl} s per key"),
            None => "(no authorizer)".to_string(),
        },
    );
    let key = match (&preview.secret, keys.current_created) {
        (None, _) => "(no secret)".to_string(),
        (Some(s), _) if s.scheduled_for_deletion => {
            "secret scheduled for deletion (`mcpctl deploy` restores it)".to_string()
        }
        (Some(_), Some(created)) => {
            let mut v = format!(
                "current key created {} ({} ago)",
                mcpctl_stack::time::rfc3339(created),
                age(now - created)
            );
            if keys.previous_created.is_some() {
                v.push_str("; the previous key still works until `mcpctl rotate-key --finalize`");
            }
            v
        }
        (Some(_), None) => "(no current version)".to_string(),
    };
    line(&mut out, "API key", key);
    let drift: Vec<Planned> = preview
        .changes
        .iter()
        .filter(|c| c.is_change())
        .cloned()
        .collect();
    if drift.is_empty() {
        out.push_str(&format!("In sync with {}.\n", cli.config.display()));
    } else {
        out.push_str(&format!(
            "Drift from {} (`mcpctl deploy` fixes it):\n",
            cli.config.display()
        ));
        out.push_str(&preview::render(&drift));
    }
    out
}

fn short_sha(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}
