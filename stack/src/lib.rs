//! The description of one mcpctl deployment, shared by `mcpctl deploy` (real AWS) and
//! `mcpctl dev` (local emulation) so both build exactly the same stack.

pub mod auth;
pub mod config;
pub mod env;
pub mod names;
pub mod oauth;
pub mod routes;
pub mod time;

pub use config::{Config, ConfigError};
pub use names::StackNames;
pub use routes::{Route, ROUTES};
