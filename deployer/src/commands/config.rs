//! `mcpctl config CLIENT`: the ready-to-paste configuration of one MCP client for the deployed
//! stack (or the local dev stack with `--local`), from the same `client_config` functions
//! `mcpctl dev` prints. By default the snippet holds no key (an environment variable, a VS Code
//! prompt, or a placeholder for the HTTP APIs), and stderr says how to provide it, with the key;
//! `--inline-key` writes the key in.

use anyhow::{bail, Result};
use mcpctl_devstack::client_config::{export_line, KeySource, McpClient, Target, API_KEY_ENV};
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
    /// Codex CLI (~/.codex/config.toml)
    Codex,
    /// Gemini CLI (~/.gemini/settings.json)
    Gemini,
    /// Claude API: the Messages API's MCP connector (request body)
    ClaudeApi,
    /// OpenAI Responses API: an `mcp` tool (request body)
    Openai,
    /// ChatGPT (developer-mode app, OAuth: needs [auth] mode = "oauth")
    Chatgpt,
    /// claude.ai / Claude Desktop custom connector (OAuth: needs [auth] mode = "oauth")
    ClaudeAi,
}

impl From<ClientName> for McpClient {
    fn from(c: ClientName) -> Self {
        match c {
            ClientName::Cursor => McpClient::Cursor,
            ClientName::Vscode => McpClient::VsCode,
            ClientName::Claude => McpClient::ClaudeCode,
            ClientName::Windsurf => McpClient::Windsurf,
            ClientName::Codex => McpClient::Codex,
            ClientName::Gemini => McpClient::Gemini,
            ClientName::ClaudeApi => McpClient::ClaudeApi,
            ClientName::Openai => McpClient::OpenAi,
            ClientName::Chatgpt => McpClient::ChatGpt,
            ClientName::ClaudeAi => McpClient::ClaudeAi,
        }
    }
}

#[derive(clap::Args, Debug)]
#[command(
    after_long_help = "By default the snippet holds no key, so the file can be committed: Cursor, Windsurf, Codex, Gemini and the `claude mcp add` line read it from MCPCTL_API_KEY (stderr prints the `export` line that sets it), VS Code asks for it, and the Claude and OpenAI APIs, which expand no variables, get the placeholder <MCPCTL_API_KEY>. --inline-key writes the key in. The header is x-api-key when [authorizer] accept takes it, else Authorization: Bearer (the Claude API only sends a bearer token). With [auth] mode = \"oauth\" the key goes as Authorization: Bearer only, and `chatgpt` and `claude-ai` print what to enter in their connector forms (the URL; they sign in with OAuth and the consent page asks for the key). See docs/clients.md and docs/oauth.md."
)]
pub struct Args {
    /// The client to configure.
    #[arg(value_enum)]
    pub client: ClientName,
    /// For the local `mcpctl dev` stack (its endpoint, or the default one if it is not running,
    /// and the local key) instead of the deployed stack.
    #[arg(long)]
    pub local: bool,
    /// Write the API key into the snippet instead of reading it from MCPCTL_API_KEY (or a VS
    /// Code prompt, or a placeholder). Keep what you write from it out of version control.
    #[arg(long)]
    pub inline_key: bool,
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
    let client = McpClient::from(args.client);
    if client.oauth_only() && config.auth.mode != mcpctl_stack::config::AuthMode::OAuth {
        bail!(
            "{} signs in with OAuth only: set [auth] mode = \"oauth\" in {} and deploy (docs/oauth.md)",
            client.title(),
            cli.config.display()
        );
    }
    let note = mcpctl_devstack::client_config::auth_mode_note(&config, client);
    // Before any AWS call: a client that cannot send an accepted header gets no snippet.
    let Some(header) = client.header(mcpctl_stack::auth::accepted(&config)) else {
        bail!(
            "{} sends the key only as `Authorization: Bearer`, which [authorizer] accept in {} does not take: add \"bearer\" to it and deploy",
            client.title(),
            cli.config.display()
        );
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
    let target = Target {
        name: &config.name,
        url: &url,
        api_key: &key,
    };
    let snippet = client.snippet(&url, &config.name, target.key_mode(args.inline_key), header);
    // The hosted APIs connect from their providers' servers: a local or plain-http URL is out of
    // their reach (the Claude API refuses anything but https://).
    let out_of_reach = (client.hosted() && !url.starts_with("https://")).then(|| {
        format!(
            "the {} connects from its provider's servers and needs a public https:// URL, which {url} is not",
            client.title()
        )
    });
    match cli.output {
        Output::Json => {
            let mut out = json!({
                "client": client.title(),
                "id": client.id(),
                "location": client.location(),
                "url": url,
                "format": snippet.format.word(),
                "header": snippet.header.word(),
                "key": snippet.key.word(),
                "config": snippet.value.clone().unwrap_or_else(|| json!(snippet.text)),
                "text": snippet.text,
            });
            // The key where the text form shows it (stderr), never for a placeholder.
            match &snippet.key {
                KeySource::Env => {
                    out["env_var"] = json!(API_KEY_ENV);
                    out["export"] = json!(export_line(&key));
                    out["api_key"] = json!(key);
                }
                KeySource::Prompt { input } => {
                    out["input"] = json!(input);
                    out["api_key"] = json!(key);
                }
                KeySource::Inline | KeySource::OAuth => out["api_key"] = json!(key),
                KeySource::Placeholder => {}
            }
            if let Some(warning) = &out_of_reach {
                out["warning"] = json!(warning);
            }
            if let Some(note) = &note {
                out["note"] = json!(note);
            }
            let headers = client.request_headers();
            if !headers.is_empty() {
                out["request_headers"] = headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), json!(v)))
                    .collect();
            }
            super::print_json(&out)
        }
        Output::Text => {
            // The snippet alone on stdout, so `mcpctl config cursor > .cursor/mcp.json` works.
            eprintln!(
                "{} ({}); {}",
                client.title(),
                client.location(),
                snippet.key_help(&key)
            );
            if let Some(note) = &note {
                eprintln!("{note}");
            }
            if let Some(warning) = &out_of_reach {
                eprintln!("warning: {warning}");
            }
            println!("{}", snippet.text);
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
