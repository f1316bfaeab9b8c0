//! `mcpctl unlock`: frees the stack lock left by a deploy or destroy that died on another
//! machine (one that died on this machine is taken over by the next deploy on its own).

use anyhow::Result;
use serde_json::json;

use crate::aws::Aws;
use crate::lock;
use crate::resources::Ctx;
use crate::{Cli, Output};

#[derive(clap::Args, Debug)]
pub struct Args {}

pub async fn run(cli: &Cli, _args: &Args) -> Result<()> {
    let config = super::load_config(cli)?;
    let aws = Aws::connect(&config).await?;
    let ctx = Ctx::new(&aws, &config);
    let holder = lock::force_unlock(&ctx).await?;
    match cli.output {
        Output::Json => super::print_json(&json!({
            "stack": config.name,
            "was_locked": holder.is_some(),
            "holder": holder.as_ref().map(lock::Holder::to_json),
        }))?,
        Output::Text => match holder {
            Some(h) => println!("Unlocked {}: it was held by {}.", config.name, h.describe()),
            None => println!("{} was not locked.", config.name),
        },
    }
    Ok(())
}
