//! `mcpctl rotate-key`: a new random key becomes AWSCURRENT and the old one AWSPREVIOUS, which
//! the authorizer still accepts, so clients keep working until `--finalize` drops it.

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
}

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
    if args.finalize {
        let dropped = drop_previous(&ctx).await?;
        report_finalized(cli.output, dropped)
    } else {
        let key = mcpctl_devstack::state::new_api_key().context("generating the API key")?;
        // Secrets Manager moves AWSCURRENT to the new version and AWSPREVIOUS to the old one.
        aws.secrets
            .put_secret_value()
            .secret_id(&secret_id)
            .secret_string(&key)
            .send()
            .await
            .map_err(aws::err("PutSecretValue"))?;
        report_rotated(cli.output, &key)
    }
}

fn run_local(cli: &Cli, args: &Args) -> Result<()> {
    let state = mcpctl_devstack::state::LocalState::beside(&cli.config);
    if args.finalize {
        let had_previous = state.keys()?.is_some_and(|k| k.previous.is_some());
        state.finalize()?;
        report_finalized(cli.output, had_previous)
    } else {
        let pair = state.rotate()?;
        report_rotated(cli.output, &pair.current)
    }
}

/// Removes the AWSPREVIOUS label; false when there was none.
async fn drop_previous(ctx: &Ctx<'_>) -> Result<bool> {
    let secret_id = ctx.names.secret();
    let versions = ctx
        .aws
        .secrets
        .list_secret_version_ids()
        .secret_id(&secret_id)
        .send()
        .await
        .map_err(aws::err("ListSecretVersionIds"))?;
    let previous = versions
        .versions()
        .iter()
        .find(|v| v.version_stages().iter().any(|s| s == PREVIOUS))
        .and_then(|v| v.version_id());
    let Some(version) = previous else {
        return Ok(false);
    };
    ctx.aws
        .secrets
        .update_secret_version_stage()
        .secret_id(&secret_id)
        .version_stage(PREVIOUS)
        .remove_from_version_id(version)
        .send()
        .await
        .map_err(aws::err("UpdateSecretVersionStage"))?;
    Ok(true)
}

/// The new key is printed here, once, and nowhere else.
fn report_rotated(output: Output, key: &str) -> Result<()> {
    match output {
        Output::Json => super::print_json(&json!({ "api_key": key, "previous_key_valid": true })),
        Output::Text => {
            println!("{key}");
            eprintln!(
                "New API key above (shown once). The previous key keeps working until `mcpctl rotate-key --finalize`."
            );
            Ok(())
        }
    }
}

fn report_finalized(output: Output, dropped: bool) -> Result<()> {
    match output {
        Output::Json => super::print_json(&json!({ "previous_key_dropped": dropped })),
        Output::Text => {
            if dropped {
                println!("The previous API key no longer works; only the current one does.");
            } else {
                println!("There was no previous API key; nothing to finalize.");
            }
            Ok(())
        }
    }
}
