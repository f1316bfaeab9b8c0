use std::time::{SystemTime, UNIX_EPOCH};

use mcpctl_server::prelude::*;
use serde::Serialize;

use super::McpServer;

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ServerStatus {
    pub status: String,
    /// RFC 3339, UTC.
    pub timestamp: String,
    /// `AWS_REGION` inside Lambda, "local" elsewhere.
    pub region: String,
    pub version: String,
    pub uptime_s: f64,
}

pub fn server_status() -> ServerStatus {
    let uptime = mcpctl_server::uptime();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    ServerStatus {
        status: "healthy".into(),
        timestamp: mcpctl_stack::time::rfc3339_millis(
            i64::try_from(now.as_millis()).unwrap_or(i64::MAX),
        ),
        region: std::env::var("AWS_REGION").unwrap_or_else(|_| "local".into()),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_s: (uptime.as_secs_f64() * 1000.0).round() / 1000.0,
    }
}

#[tool_router(router = status_tools, vis = "pub(crate)")]
impl McpServer {
    #[tool(
        description = "Server status: health, current time (RFC 3339), AWS region, version and uptime."
    )]
    pub async fn get_server_status(&self) -> Json<ServerStatus> {
        Json(server_status())
    }
}

mcpctl_server::resources! {
    router = status_resources;
    impl McpServer {
        /// Server status (the same as the get_server_status tool): health, time, region,
        /// version and uptime.
        #[resource(uri = "mcp://server/status", title = "Server status", mime_type = "application/json")]
        pub async fn status_resource(&self) -> Json<ServerStatus> {
            Json(server_status())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_region_defaults_to_local_or_env() {
        let s = server_status();
        assert_eq!(s.status, "healthy");
        assert!(!s.region.is_empty());
        assert!(s.timestamp.ends_with('Z'));
    }
}
