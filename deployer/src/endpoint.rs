//! A deployed stack as its clients see it: the API's endpoint (found by name and tag) and the
//! API key (the secret's AWSCURRENT), shared by `invoke` and `config`. A stack without either is
//! "not deployed", said in one line that tells what to do.

use anyhow::{anyhow, Result};
use mcpctl_stack::Config;

use crate::resources::{api, secret, Ctx};

/// `stack NAME is not deployed in REGION: run `mcpctl deploy` first`, with why in brackets when
/// only a part of the stack is missing.
pub fn not_deployed(config: &Config, why: Option<&str>) -> anyhow::Error {
    let why = why.map(|w| format!(" ({w})")).unwrap_or_default();
    anyhow!(
        "stack {} is not deployed in {}{why}: run `mcpctl deploy` first",
        config.name,
        config.region
    )
}

/// The base endpoint of the stack's HTTP API (`https://ID.execute-api.REGION.amazonaws.com`).
pub async fn api_endpoint(ctx: &Ctx<'_>) -> Result<String> {
    api::find(ctx)
        .await?
        .into_iter()
        .next()
        .map(|found| found.endpoint)
        .ok_or_else(|| not_deployed(ctx.config, None))
}

/// The stack's current API key. A secret that is missing or scheduled for deletion (by
/// `destroy`, or by hand) means the stack is not deployed, not an AWS error.
pub async fn current_key(ctx: &Ctx<'_>) -> Result<String> {
    let missing = |why: &str| not_deployed(ctx.config, Some(why));
    match secret::describe(ctx).await? {
        None => return Err(missing("it has no API key secret")),
        Some(s) if s.scheduled_for_deletion => {
            return Err(missing("its API key secret is scheduled for deletion"))
        }
        Some(_) => {}
    }
    secret::key(ctx, "AWSCURRENT")
        .await?
        .ok_or_else(|| missing("its API key secret has no current value"))
}
