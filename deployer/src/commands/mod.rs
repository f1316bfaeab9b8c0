pub mod deploy;
pub mod destroy;
pub mod dev;
pub mod invoke;
pub mod rotate_key;

use crate::{Cli, Command};

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Deploy(ref args) => deploy::run(&cli, args).await,
        Command::Destroy(ref args) => destroy::run(&cli, args).await,
        Command::RotateKey(ref args) => rotate_key::run(&cli, args).await,
        Command::Invoke(ref args) => invoke::run(&cli, args).await,
        Command::Dev(ref args) => dev::run(&cli, args).await,
    }
}
