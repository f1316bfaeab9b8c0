//! `mcpctl completions SHELL` and `mcpctl man`: generated from the same clap definition the
//! parser uses, so they never drift from the real flags.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::Cli;

#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, powershell or elvish. Install, e.g.:
    /// `mcpctl completions bash > ~/.local/share/bash-completion/completions/mcpctl`,
    /// `mcpctl completions zsh > ~/.zfunc/_mcpctl`,
    /// `mcpctl completions fish > ~/.config/fish/completions/mcpctl.fish`.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {}

pub fn completions(args: &CompletionsArgs) -> Result<()> {
    let mut command = Cli::command();
    // Into a buffer first: clap_complete panics when its writer fails (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "mcpctl", &mut script);
    write_stdout(&script)
}

/// The roff man page on stdout: `mcpctl man > mcpctl.1; man ./mcpctl.1`.
pub fn man(_args: &ManArgs) -> Result<()> {
    write_stdout(&man_page()?)
}

/// A reader that stops early (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("cannot write to stdout")
        }
        _ => Ok(()),
    }
}

/// mcpctl(1): synopsis, global options and the list of subcommands with what each does.
fn man_page() -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .context("cannot render the man page")?;
    Ok(page)
}
