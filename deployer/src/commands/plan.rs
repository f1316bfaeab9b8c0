//! `mcpctl plan`: what `mcpctl deploy` would change, changing nothing (see `preview.rs`).

use std::path::PathBuf;

use anyhow::Result;
use serde_json::json;

use crate::artifacts;
use crate::aws::Aws;
use crate::build::{self, PREBUILT_ENV};
use crate::platform::Platform;
use crate::preview::{preview_stack, render, Action, Planned};
use crate::resources::Ctx;
use crate::{Cli, Output};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Compare the code too: zip the server's binary (named as deploy.toml's `[server]
    /// package`) and `mcpctl-authorizer` (and `mcpctl-oauth` with `[auth] mode = "oauth"`) from
    /// DIR (checked for deploy.toml's `architecture`) and compare their hashes with the deployed
    /// ones (otherwise the code is built at deploy time).
    #[arg(long, value_name = "DIR", env = PREBUILT_ENV)]
    pub prebuilt: Option<PathBuf>,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<()> {
    let config = super::load_config(cli)?;
    crate::stack::check_supported(&config)?;
    let code = match &args.prebuilt {
        Some(dir) => Some(artifacts::code_hashes(
            &config,
            &build::prebuilt_for(dir, &config, Platform::of(config.architecture))?,
        )?),
        None => None,
    };
    let aws = Aws::connect(&config).await?;
    let ctx = Ctx::new(&aws, &config);
    let preview = preview_stack(&ctx, code).await?;
    let changes = &preview.changes;
    let count = |a: Action| changes.iter().filter(|c| c.action == a).count();
    match cli.output {
        Output::Json => super::print_json(&json!({
            "stack": config.name,
            "region": config.region,
            "architecture": config.architecture.as_str(),
            "server_package": config.server.package,
            "changes": changes,
            "to_create": count(Action::Create),
            "to_update": count(Action::Update),
            "to_delete": count(Action::Delete),
            "unchanged": count(Action::None),
            "mutating_calls": aws.calls.mutating_count(),
            "api_calls": aws.calls.total(),
        }))?,
        Output::Text => {
            println!(
                "Plan for stack {} in {}, {}, server package {} (nothing was changed):",
                config.name, config.region, config.architecture, config.server.package
            );
            print!("{}", render(changes));
            if changes.iter().any(Planned::is_change) {
                println!(
                    "{} to create, {} to update, {} to delete, {} unchanged. Apply with `mcpctl deploy`.",
                    count(Action::Create),
                    count(Action::Update),
                    count(Action::Delete),
                    count(Action::None)
                );
            } else {
                println!(
                    "Nothing to change: the stack matches {}.",
                    cli.config.display()
                );
            }
        }
    }
    Ok(())
}
