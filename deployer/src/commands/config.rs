//! `mcpctl config CLIENT`: the ready-to-paste configuration of one MCP client for the deployed
//! stack (or the local dev stack with `--local`). Printing the key is the point of this command:
//! the snippet is useless without it.

use anyhow::Result;
use mcpctl_devstack::client_config::{Client, Target};
use serde_json::json;

use crate::aws::Aws;
use crate::resources::Ctx;
use crate::{endpoint, local, Cli, Output};

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientName {
    /// Cursor (.cursor/mcp.json)
    Cursor,
    /// VS Code (.vscode/mcp.json)
    Vscode,
    /// Claude Code (a `claude mcp add` command)
    Claude,
    /// Windsurf (~/.codeium/windsurf/mcp_config.json)
    Windsurf,
}

impl From<ClientName> for Client {
    fn from(c: ClientName) -> Self {
        match c {
            ClientName::Cursor => Client::Cursor,
            ClientName::Vscode => Client::VsCode,
            ClientName::Claude => Client::ClaudeCode,
            ClientName::Windsurf => Client::Windsurf,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The client to configure.
    #[arg(value_enum)]
    pub client: ClientName,
    /// For the local `mcpctl dev` stack (its endpoint, or the default one if it is not running,
    /// and the local key) instead of the deployed stack.
    #[arg(long)]
    pub local: bool,
}

pub async fn run(cli: &Cli, args: &Args) -> Result<()> {
    // `--local` needs no deploy.toml, like `mcpctl dev`.
    let defaults = if args.local {
        local::defaults_without_config(cli)
    } else {
        None
    };
    let config = match defaults {
        Some(defaults) => defaults,
        None => super::load_config(cli)?,
    };
    let (url, key) = if args.local {
        local_target(cli)?
    } else {
        let aws = Aws::connect(&config).await?;
        let ctx = Ctx::new(&aws, &config);
        let api = endpoint::api_endpoint(&ctx).await?;
        let key = endpoint::current_key(&ctx).await?;
        (super::endpoint_url(&api, &config.api.stage), key)
    };
    let client = Client::from(args.client);
    let target = Target {
        name: &config.name,
        url: &url,
        api_key: &key,
    };
    match cli.output {
        Output::Json => super::print_json(&json!({
            "client": client.title(),
            "location": client.location(),
            "url": url,
            "config": client.json(&target).unwrap_or_else(|| json!(client.snippet(&target))),
        })),
        Output::Text => {
            // The snippet alone on stdout, so `mcpctl config cursor > .cursor/mcp.json` works.
            eprintln!(
                "{} ({}); it contains the API key:",
                client.title(),
                client.location()
            );
            println!("{}", client.snippet(&target));
            Ok(())
        }
    }
}

/// The running dev stack's endpoint (or where `mcpctl dev` listens by default) and the local key,
/// created now if `mcpctl dev` never ran, so the snippet keeps working once it does.
fn local_target(cli: &Cli) -> Result<(String, String)> {
    let state = local::state(cli, None);
    let url = local::endpoint_or_default(&state)?;
    let keys = state.keys_or_create().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((url, keys.current))
}
