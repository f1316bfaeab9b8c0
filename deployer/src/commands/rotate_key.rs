use crate::Cli;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub async fn run(_cli: &Cli, _args: &Args) -> anyhow::Result<()> {
    anyhow::bail!("`mcpctl rotate_key` is not built yet")
}
