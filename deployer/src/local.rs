//! The local `mcpctl dev` stack as the other commands see it: where its state lives, its
//! endpoint, and the configuration it runs without a deploy.toml.

use std::path::Path;

use anyhow::{anyhow, Result};
use mcpctl_devstack::state::{LocalState, StateError};
use mcpctl_stack::Config;

use crate::Cli;

/// `mcpctl dev` listens on 127.0.0.1 at this port unless told otherwise.
pub const DEFAULT_PORT: u16 = 8080;

/// The local key and endpoint: in `dir` if given, else `.mcpctl/dev` beside deploy.toml.
pub fn state(cli: &Cli, dir: Option<&Path>) -> LocalState {
    match dir {
        Some(dir) => LocalState::new(dir),
        None => LocalState::beside(&cli.config),
    }
}

/// The running dev stack's endpoint, or where `mcpctl dev` listens by default when it is not
/// running.
pub fn endpoint_or_default(state: &LocalState) -> Result<String> {
    match state.endpoint() {
        Ok(url) => Ok(url),
        Err(StateError::NotRunning) => Ok(format!("http://127.0.0.1:{DEFAULT_PORT}/mcp")),
        // The state error already names the file and what to do.
        Err(e) => Err(anyhow!("{e}")),
    }
}

/// The defaults when there is no deploy.toml (and no `--stage`), said on stderr: the local
/// stack needs no AWS settings, so `mcpctl dev` works in a fresh checkout. `None`: load the file.
pub fn defaults_without_config(cli: &Cli) -> Option<Config> {
    if cli.config.exists() || cli.stage.is_some() {
        return None;
    }
    eprintln!(
        "[dev] {} not found: using the default configuration",
        cli.config.display()
    );
    Some(Config::default())
}
