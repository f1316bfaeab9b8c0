//! `mcpctl destroy`: remove everything deploy made, in reverse order, tolerating what is already
//! gone, then check that nothing of the stack is left.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Result};
use serde_json::json;

use crate::aws::Aws;
use crate::lock;
use crate::resources::{api, Ctx};
use crate::stack::{self, STACK};
use crate::steps::Steps;
use crate::{Cli, Output};

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub lock_timeout: lock::LockTimeout,
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Delete the API key secret now instead of scheduling it with the 30-day recovery window.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<()> {
    let config = super::load_config(cli)?;
    if !args.yes && std::io::stdin().is_terminal() {
        confirm(&config.name, &config.region)?;
    }
    let aws = Aws::connect(&config).await?;
    let ctx = Ctx::new(&aws, &config);
    let mut steps = Steps::new(cli.output, aws.calls.clone())?;

    let left = lock::while_locked(&ctx, "destroy", args.lock_timeout.wait(), async {
        // The APIs the stack has now, so the final check can look each up by id.
        let api_ids: Vec<String> = api::find(&ctx).await?.into_iter().map(|a| a.id).collect();
        // The declaration backwards; parts AWS deletes with another part go with it (the API
        // takes its stage, routes, authorizer and integration, a function its permissions).
        for part in STACK.iter().rev().filter(|p| p.removed_with().is_none()) {
            steps
                .run(part.label(&ctx), async {
                    Ok((part.remove(&ctx, args.force).await?, ()))
                })
                .await?;
        }
        // Checked while the lock is held: a deploy that starts right after must not count.
        let left = stack::leftovers(&ctx, &api_ids).await?;
        Ok((left, stack::foreign(&ctx).await?))
    })
    .await?;
    let (left, foreign) = left;
    if !foreign.is_empty() && cli.output == Output::Text {
        eprintln!(
            "note: left alone, tagged {}={} but not made by mcpctl: {}",
            mcpctl_stack::names::STACK_TAG,
            config.name,
            foreign.join(", ")
        );
    }
    if cli.output == Output::Json {
        super::print_json(&json!({
            "stack": config.name,
            "region": config.region,
            "resources": steps.records,
            "left_behind": left,
            "foreign": foreign,
            "mutating_calls": aws.calls.mutating_count(),
            "api_calls": aws.calls.total(),
            "lock_calls": aws.lock_calls.total(),
            "elapsed_ms": steps.elapsed().as_millis(),
        }))?;
    }
    if !left.is_empty() {
        bail!(
            "destroy left resources of stack {} behind: {}",
            config.name,
            left.join(", ")
        );
    }
    if cli.output == Output::Text {
        println!(
            "Destroyed {} in {:.1}s.",
            config.name,
            steps.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn confirm(stack: &str, region: &str) -> Result<()> {
    eprint!(
        "Delete every resource of stack `{stack}` in {region}? Type the stack name to confirm: "
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() != stack {
        bail!("not confirmed: nothing was deleted");
    }
    Ok(())
}
