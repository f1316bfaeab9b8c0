//! `mcpctl destroy`: remove everything deploy made, in reverse order, tolerating what is already
//! gone, then check that nothing of the stack is left.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Result};
use serde_json::json;

use crate::aws::Aws;
use crate::resources::{api, function, iam, logs, secret, Ctx};
use crate::steps::Steps;
use crate::{Cli, Output};

#[derive(clap::Args, Debug)]
pub struct Args {
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
    let names = &ctx.names;
    let mut steps = Steps::new(cli.output, aws.calls.clone())?;
    let server_fn = names.server_function();
    let authorizer_fn = names.authorizer_function();

    // The API goes first and takes its stage, routes, authorizer and integration with it;
    // each function takes its API Gateway permission with it.
    steps
        .run(format!("http api {}", names.api()), async {
            Ok((api::remove(&ctx).await?, ()))
        })
        .await?;
    for f in [&server_fn, &authorizer_fn] {
        steps
            .run(format!("function {f}"), async {
                Ok((function::remove(&ctx, f).await?, ()))
            })
            .await?;
    }
    for f in [&server_fn, &authorizer_fn] {
        let group = names.log_group(f);
        steps
            .run(format!("log group {group}"), async {
                Ok((logs::remove(&ctx, &group).await?, ()))
            })
            .await?;
    }
    for role in [names.authorizer_role(), names.server_role()] {
        steps
            .run(format!("role {role}"), async {
                Ok((iam::remove(&ctx, &role).await?, ()))
            })
            .await?;
    }
    steps
        .run(format!("secret {}", names.secret()), async {
            Ok((secret::remove(&ctx, args.force).await?, ()))
        })
        .await?;

    let left = leftovers(&ctx).await?;
    if cli.output == Output::Json {
        super::print_json(&json!({
            "stack": config.name,
            "region": config.region,
            "resources": steps.records,
            "left_behind": left,
            "mutating_calls": aws.calls.mutating_count(),
            "api_calls": aws.calls.total(),
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

/// Everything of the stack that still exists (a secret scheduled for deletion counts as gone).
pub async fn leftovers(ctx: &Ctx<'_>) -> Result<Vec<String>> {
    let names = &ctx.names;
    let mut left = Vec::new();
    for a in api::find(ctx).await? {
        left.push(format!("http api {}", a.id));
    }
    for f in [names.server_function(), names.authorizer_function()] {
        if function::read_function(ctx, &f).await?.is_some() {
            left.push(format!("function {f}"));
        }
        let group = names.log_group(&f);
        if logs::exists(ctx, &group).await? {
            left.push(format!("log group {group}"));
        }
    }
    for role in [names.server_role(), names.authorizer_role()] {
        if iam::exists(ctx, &role).await? {
            left.push(format!("role {role}"));
        }
    }
    if secret::describe(ctx)
        .await?
        .is_some_and(|s| !s.scheduled_for_deletion)
    {
        left.push(format!("secret {}", names.secret()));
    }
    Ok(left)
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
