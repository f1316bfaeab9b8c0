//! `mcpctl`: build, deploy, rotate, invoke and destroy a remote MCP server on AWS Lambda behind
//! API Gateway HTTP API v2, straight on the AWS SDKs.

mod artifacts;
mod aws;
mod build;
mod commands;
mod elf;
mod endpoint;
mod human;
mod image;
#[cfg(test)]
mod layers;
mod local;
mod lock;
mod package;
mod platform;
mod preview;
mod resources;
mod signals;
mod stack;
mod steps;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "mcpctl", version, about, propagate_version = true)]
pub struct Cli {
    /// The deployment description.
    #[arg(
        long,
        short = 'c',
        global = true,
        default_value = "deploy.toml",
        env = "MCPCTL_CONFIG"
    )]
    pub config: PathBuf,
    /// Apply the `[stages.NAME]` overrides of deploy.toml.
    #[arg(long, global = true)]
    pub stage: Option<String>,
    /// Human-readable progress (default) or one JSON document on stdout.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build both Lambdas and create or update every AWS resource of the stack.
    Deploy(commands::deploy::Args),
    /// Remove every AWS resource of the stack.
    Destroy(commands::destroy::Args),
    /// Replace the API key; the previous key keeps working until --finalize.
    RotateKey(commands::rotate_key::Args),
    /// Call the MCP server: initialize, tools/list, tools/call NAME ARGS.
    Invoke(commands::invoke::Args),
    /// Run the whole stack locally: API Gateway, authorizer and server, no AWS, no Docker.
    Dev(commands::dev::Args),
    /// Start a project: your own MCP server (one example tool), deploy.toml, README.
    New(commands::new::Args),
    /// Show what `deploy` would change, changing nothing.
    Plan(commands::plan::Args),
    /// What is deployed (endpoint, functions, auth cache, key age) and its drift from deploy.toml.
    Status(commands::status::Args),
    /// Print a function's CloudWatch logs (server or authorizer); --follow keeps printing.
    Logs(commands::logs::Args),
    /// Print the least-privilege IAM policy for whoever runs mcpctl on this stack.
    Policy(commands::policy::Args),
    /// Free the stack lock of a deploy or destroy that died on another machine.
    Unlock(commands::unlock::Args),
    /// Print the MCP client configuration (cursor, vscode, claude, windsurf), API key included.
    ///
    /// The output contains the API key (as the x-api-key header): printing it is the point of
    /// this command. Keep files written from it out of version control.
    Config(commands::config::Args),
    /// Print shell completions: bash, zsh, fish, powershell or elvish.
    Completions(commands::completions::CompletionsArgs),
    /// Print the man page (roff) on stdout.
    Man(commands::completions::ManArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// One line: the outermost context says what failed, each cause after it why, each once (many
/// messages already end with their cause).
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::one_line;
    use anyhow::Context;

    #[test]
    fn every_cause_is_printed_once() {
        let io = || std::io::Error::new(std::io::ErrorKind::NotFound, "No such file (os error 2)");
        // The message already ends with its cause (thiserror's `{source}`).
        #[derive(Debug, thiserror::Error)]
        #[error("cannot read deploy.toml: {source}")]
        struct Read {
            source: std::io::Error,
        }
        let e = anyhow::Error::new(Read { source: io() });
        assert_eq!(
            one_line(&e),
            "cannot read deploy.toml: No such file (os error 2)"
        );
        // Contexts over a cause: each layer once, the middle one too.
        let e = Err::<(), _>(io())
            .context("cannot read server.zip")
            .context("cannot package the server")
            .unwrap_err();
        assert_eq!(
            one_line(&e),
            "cannot package the server: cannot read server.zip: No such file (os error 2)"
        );
    }
}
