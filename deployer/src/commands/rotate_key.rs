//! `mcpctl rotate-key`: a new random key becomes AWSCURRENT and the old one AWSPREVIOUS, which
//! the authorizer still accepts, so clients keep working until `--finalize` drops it. With
//! `[auth] mode = "oauth"` the token signing key's secret is rotated (and finalized) with it,
//! with the same overlap: tokens signed with the old key verify until `--finalize`.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::aws::{self, Aws};
use crate::resources::{secret, Ctx};
use crate::{Cli, Output};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Drop the previous key: only the current one is accepted afterwards.
    #[arg(long)]
    pub finalize: bool,
    /// Rotate the key of the local `mcpctl dev` stack instead of AWS.
    #[arg(long)]
    pub local: bool,
    /// Rotate even though the previous key still works (it stops working now).
    #[arg(long)]
    pub force: bool,
}

/// How long a new secret version may take to be served as AWSCURRENT.
const NEW_KEY_VISIBLE: Duration = Duration::from_secs(60);

const PREVIOUS: &str = "AWSPREVIOUS";

pub async fn run(cli: &Cli, args: &Args) -> Result<()> {
    if args.local {
        return run_local(cli, args);
    }
    let config = super::load_config(cli)?;
    let aws = Aws::connect(&config).await?;
    let ctx = Ctx::new(&aws, &config);
    let secret_id = ctx.names.secret();
    match secret::describe(&ctx).await? {
        Some(s) if !s.scheduled_for_deletion => {}
        _ => bail!(
            "stack {} has no API key secret {secret_id}: run `mcpctl deploy` first",
            config.name
        ),
    }
    // The signing key's secret, rotated along (oauth mode only).
    let signing_id = if config.auth.mode == mcpctl_stack::config::AuthMode::OAuth {
        let id = mcpctl_stack::oauth::signing_secret_name(&config);
        match secret::describe_named(&ctx, &id).await? {
            Some(s) if !s.scheduled_for_deletion => {}
            _ => bail!(
                "stack {} has no OAuth signing key secret {id}: run `mcpctl deploy` first",
                config.name
            ),
        }
        Some(id)
    } else {
        None
    };
    // Both keys work until the API Gateway verdict cache and the authorizer's secret cache
    // have expired.
    let overlap_s = overlap_s(&config);
    if args.finalize {
        let mut dropped = drop_previous(&ctx, &secret_id).await?;
        if let Some(id) = &signing_id {
            dropped |= drop_previous(&ctx, id).await?;
        }
        return report_finalized(cli.output, dropped, overlap_s);
    }
    let mut previous = previous_version(&ctx, &secret_id).await?.is_some();
    if let Some(id) = &signing_id {
        previous |= previous_version(&ctx, id).await?.is_some();
    }
    if !args.force && previous {
        bail!(
            "the previous API key still works: rotating again would stop it at once; run \
             `mcpctl rotate-key --finalize` first (once clients use the current key), or pass \
             --force"
        );
    }
    // The signing key first: a failure leaves the API key as it was.
    if let Some(id) = &signing_id {
        let signing = mcpctl_devstack::state::new_api_key().context("generating a signing key")?;
        put_new_version(&ctx, id, &signing).await?;
        wait_until_current(&ctx, id, &signing).await?;
    }
    let key = mcpctl_devstack::state::new_api_key().context("generating the API key")?;
    put_new_version(&ctx, &secret_id, &key).await?;
    wait_until_current(&ctx, &secret_id, &key).await?;
    report_rotated(cli.output, &key, signing_id.is_some())
}

/// Secrets Manager moves AWSCURRENT to the new version and AWSPREVIOUS to the old one. The
/// SDK sends one ClientRequestToken for every attempt, so a retry makes no second version.
async fn put_new_version(ctx: &Ctx<'_>, secret_id: &str, value: &str) -> Result<()> {
    ctx.aws
        .secrets
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(value)
        .send()
        .await
        .map_err(aws::err("PutSecretValue"))?;
    Ok(())
}

/// Reads AWSCURRENT until it is the new key (Secrets Manager is eventually consistent), so the
/// key printed is the one the authorizer will read.
async fn wait_until_current(ctx: &Ctx<'_>, secret_id: &str, key: &str) -> Result<()> {
    let start = Instant::now();
    let mut delay = Duration::from_millis(250);
    let mut said = false;
    loop {
        if secret::key_of(ctx, secret_id, "AWSCURRENT")
            .await?
            .as_deref()
            == Some(key)
        {
            return Ok(());
        }
        if start.elapsed() + delay > NEW_KEY_VISIBLE {
            bail!(
                "Secrets Manager did not serve the new key as AWSCURRENT within {} s; run \
                 `mcpctl status` to see which key is current",
                NEW_KEY_VISIBLE.as_secs()
            );
        }
        if !said {
            aws::note("waiting for Secrets Manager to serve the new key");
            said = true;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(4));
    }
}

fn run_local(cli: &Cli, args: &Args) -> Result<()> {
    let state = mcpctl_devstack::state::LocalState::beside(&cli.config);
    if args.finalize {
        let had_previous = state.keys()?.is_some_and(|k| k.previous.is_some());
        state.finalize()?;
        let overlap_s = super::load_config(cli).map(|c| overlap_s(&c)).unwrap_or(0);
        report_finalized(cli.output, had_previous, overlap_s)
    } else {
        if !args.force && state.keys()?.is_some_and(|k| k.previous.is_some()) {
            bail!(
                "the previous local API key still works: rotating again would stop it at once; \
                 run `mcpctl rotate-key --local --finalize` first, or pass --force"
            );
        }
        let pair = state.rotate()?;
        report_rotated(cli.output, &pair.current, false)
    }
}

/// How long a dropped key may still work: API Gateway's verdict cache (off when both key
/// headers are accepted) plus the authorizer's own secret cache.
fn overlap_s(config: &mcpctl_stack::Config) -> u32 {
    mcpctl_stack::auth::effective_cache_ttl_s(config) + config.authorizer.secret_cache_ttl_s
}

/// The version labelled AWSPREVIOUS, if any.
async fn previous_version(ctx: &Ctx<'_>, secret_id: &str) -> Result<Option<String>> {
    let versions = ctx
        .aws
        .secrets
        .list_secret_version_ids()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(aws::err("ListSecretVersionIds"))?;
    Ok(versions
        .versions()
        .iter()
        .find(|v| v.version_stages().iter().any(|s| s == PREVIOUS))
        .and_then(|v| v.version_id())
        .map(str::to_string))
}

/// Removes the AWSPREVIOUS label; false when there was none.
async fn drop_previous(ctx: &Ctx<'_>, secret_id: &str) -> Result<bool> {
    let Some(version) = previous_version(ctx, secret_id).await? else {
        return Ok(false);
    };
    ctx.aws
        .secrets
        .update_secret_version_stage()
        .secret_id(secret_id)
        .version_stage(PREVIOUS)
        .remove_from_version_id(version)
        .send()
        .await
        .map_err(aws::err("UpdateSecretVersionStage"))?;
    Ok(true)
}

/// The new key is printed here, once, and nowhere else (the signing key never is).
fn report_rotated(output: Output, key: &str, signing_rotated: bool) -> Result<()> {
    match output {
        Output::Json if signing_rotated => super::print_json(&json!({
            "api_key": key,
            "previous_key_valid": true,
            "signing_key_rotated": true,
        })),
        Output::Json => super::print_json(&json!({ "api_key": key, "previous_key_valid": true })),
        Output::Text => {
            println!("{key}");
            eprintln!(
                "New API key above (shown once). The previous key keeps working until `mcpctl rotate-key --finalize`."
            );
            if signing_rotated {
                eprintln!(
                    "The OAuth signing key is rotated too: tokens signed with the previous one verify until --finalize."
                );
            }
            Ok(())
        }
    }
}

fn report_finalized(output: Output, dropped: bool, overlap_s: u32) -> Result<()> {
    match output {
        Output::Json => super::print_json(&json!({
            "previous_key_dropped": dropped,
            "previous_key_may_work_for_s": if dropped { overlap_s } else { 0 },
        })),
        Output::Text => {
            if dropped {
                println!(
                    "The previous API key is dropped; it may keep working for up to {overlap_s} s \
                     (the verdict cache, authorizer.cache_ttl_s when one key header is \
                     accepted, + secret_cache_ttl_s), while caches expire."
                );
            } else {
                println!("There was no previous API key; nothing to finalize.");
            }
            Ok(())
        }
    }
}
