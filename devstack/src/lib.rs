//! Local API Gateway HTTP API v2 + Lambda Runtime API emulation that runs the real binaries.

pub mod state;
