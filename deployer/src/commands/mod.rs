pub mod completions;
pub mod config;
pub mod deploy;
pub mod destroy;
pub mod dev;
pub mod invoke;
pub mod logs;
pub mod new;
pub mod plan;
pub mod policy;
pub mod rotate_key;
pub mod status;
pub mod unlock;

use anyhow::Result;
use mcpctl_stack::Config;

use crate::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    crate::aws::set_quiet(cli.output == crate::Output::Json);
    match cli.command {
        Command::Deploy(ref args) => deploy::run(&cli, args).await,
        Command::Destroy(ref args) => destroy::run(&cli, args).await,
        Command::RotateKey(ref args) => rotate_key::run(&cli, args).await,
        Command::Invoke(ref args) => invoke::run(&cli, args).await,
        Command::Dev(ref args) => dev::run(&cli, args).await,
        Command::New(ref args) => new::run(&cli, args).await,
        Command::Plan(ref args) => plan::run(&cli, args).await,
        Command::Status(ref args) => status::run(&cli, args).await,
        Command::Logs(ref args) => logs::run(&cli, args).await,
        Command::Unlock(ref args) => unlock::run(&cli, args).await,
        Command::Policy(ref args) => policy::run(&cli, args).await,
        Command::Config(ref args) => config::run(&cli, args).await,
        Command::Completions(ref args) => completions::completions(args),
        Command::Man(ref args) => completions::man(args),
    }
}

/// deploy.toml with `--stage` applied; every error is already one line naming file, line and key.
pub fn load_config(cli: &Cli) -> Result<Config> {
    if !cli.config.exists() {
        anyhow::bail!("{}", no_config(&cli.config));
    }
    let config = Config::load(&cli.config)?;
    match &cli.stage {
        Some(stage) => config.for_stage(stage).map_err(anyhow::Error::msg),
        None => Ok(config),
    }
}

/// The one line for a deploy.toml that is not there: where mcpctl looked, and what to do.
fn no_config(path: &std::path::Path) -> String {
    let looked = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!(
        "no deploy.toml at {}: run `mcpctl new NAME` to start a project (then cd NAME), or pass -c FILE",
        looked.display()
    )
}

/// The URL clients use: the API's base URL, the stage path unless it is `$default`, then `/mcp`.
pub fn endpoint_url(api_endpoint: &str, stage: &str) -> String {
    let base = api_endpoint.trim_end_matches('/');
    if stage == "$default" {
        format!("{base}/mcp")
    } else {
        format!("{base}/{stage}/mcp")
    }
}

/// Prints `value` as the one JSON document on stdout.
pub fn print_json(value: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_has_stage_path_unless_default() {
        assert_eq!(
            endpoint_url(
                "https://abc.execute-api.us-east-1.amazonaws.com",
                "$default"
            ),
            "https://abc.execute-api.us-east-1.amazonaws.com/mcp"
        );
        assert_eq!(endpoint_url("https://h/", "prod"), "https://h/prod/mcp");
    }

    #[test]
    fn a_missing_deploy_toml_says_where_mcpctl_looked_and_what_to_do() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            no_config(std::path::Path::new("deploy.toml")),
            format!(
                "no deploy.toml at {}: run `mcpctl new NAME` to start a project (then cd NAME), or pass -c FILE",
                cwd.join("deploy.toml").display()
            )
        );
    }
}
