//! `mcpctl destroy`: remove everything deploy made, in reverse order, tolerating what is already
//! gone, then check that nothing of the stack is left.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Result};
use serde_json::json;

use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use mcpctl_stack::names::STACK_TAG;

use crate::aws::{self, Aws};
use crate::lock;
use crate::resources::{api, function, iam, logs, repository, secret, Ctx};
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
    let names = &ctx.names;
    let mut steps = Steps::new(cli.output, aws.calls.clone())?;
    let server_fn = names.server_function();
    let authorizer_fn = names.authorizer_function();

    let left = lock::while_locked(&ctx, "destroy", args.lock_timeout.wait(), async {
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
        // After the function that ran its image.
        steps
            .run(format!("repository {}", names.ecr_repository()), async {
                Ok((repository::remove(&ctx).await?, ()))
            })
            .await?;
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

        // Checked while the lock is held: a deploy that starts right after must not count.
        leftovers(&ctx).await
    })
    .await?;
    if cli.output == Output::Json {
        super::print_json(&json!({
            "stack": config.name,
            "region": config.region,
            "resources": steps.records,
            "left_behind": left,
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

/// Everything still tagged with the stack (or named like it, for log groups, whose tags mcpctl
/// does not read back). A secret scheduled for deletion counts as gone.
pub async fn leftovers(ctx: &Ctx<'_>) -> Result<Vec<String>> {
    let aws = ctx.aws;
    let stack = ctx.config.name.as_str();
    let prefix = format!("{stack}-");
    let tagged = |tags: Option<&std::collections::HashMap<String, String>>| {
        tags.and_then(|t| t.get(STACK_TAG)).map(String::as_str) == Some(stack)
    };
    let mut left = Vec::new();

    for a in api::list(ctx, None).await? {
        left.push(format!("http api {}", a.id));
    }

    let mut marker = None;
    loop {
        let page = aws
            .lambda
            .list_functions()
            .set_marker(marker.take())
            .send()
            .await
            .map_err(aws::err("ListFunctions"))?;
        for f in page.functions() {
            let (Some(name), Some(arn)) = (f.function_name(), f.function_arn()) else {
                continue;
            };
            if !name.starts_with(&prefix) {
                continue;
            }
            let tags = aws
                .lambda
                .list_tags()
                .resource(arn)
                .send()
                .await
                .map_err(aws::err("ListTags"))?;
            if tagged(tags.tags()) {
                left.push(format!("function {name}"));
            }
        }
        match page.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_string()),
            _ => break,
        }
    }

    let roles = aws
        .iam
        .list_roles()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws::err("ListRoles"))?;
    for role in roles.iter().filter(|r| r.role_name().starts_with(&prefix)) {
        let tags = aws
            .iam
            .list_role_tags()
            .role_name(role.role_name())
            .send()
            .await
            .map_err(aws::err("ListRoleTags"))?;
        if tags
            .tags()
            .iter()
            .any(|t| t.key() == STACK_TAG && t.value() == stack)
        {
            left.push(format!("role {}", role.role_name()));
        }
    }

    if repository::read_repository(ctx, &ctx.names.ecr_repository())
        .await?
        .is_some_and(|r| r.tags.get(STACK_TAG).map(String::as_str) == Some(stack))
    {
        left.push(format!("repository {}", ctx.names.ecr_repository()));
    }

    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(ctx.names.log_group(&prefix))
        .send()
        .await
        .map_err(aws::err("DescribeLogGroups"))?;
    for g in groups.log_groups() {
        let name = g.log_group_name().unwrap_or_default();
        let ours = [ctx.names.server_function(), ctx.names.authorizer_function()]
            .iter()
            .any(|f| ctx.names.log_group(f) == name);
        if ours {
            left.push(format!("log group {name}"));
        }
    }

    let secrets = aws
        .secrets
        .list_secrets()
        .filters(
            Filter::builder()
                .key(FilterNameStringType::TagKey)
                .values(STACK_TAG)
                .build(),
        )
        .filters(
            Filter::builder()
                .key(FilterNameStringType::TagValue)
                .values(stack)
                .build(),
        )
        .send()
        .await
        .map_err(aws::err("ListSecrets"))?;
    for s in secrets.secret_list() {
        let tagged_here = s
            .tags()
            .iter()
            .any(|t| t.key() == Some(STACK_TAG) && t.value() == Some(stack));
        if tagged_here && s.deleted_date().is_none() {
            left.push(format!("secret {}", s.name().unwrap_or_default()));
        }
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
