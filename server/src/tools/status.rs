use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rmcp::handler::server::wrapper::Json;
use rmcp::{schemars, tool, tool_router};
use serde::Serialize;

use super::McpServer;

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Call first thing in `main` so uptime counts from process start, not from the first call.
pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

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
    let uptime = STARTED.get_or_init(Instant::now).elapsed();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    ServerStatus {
        status: "healthy".into(),
        timestamp: rfc3339(now.as_secs(), now.subsec_millis()),
        region: std::env::var("AWS_REGION").unwrap_or_else(|_| "local".into()),
        version: env!("CARGO_PKG_VERSION").into(),
        uptime_s: (uptime.as_secs_f64() * 1000.0).round() / 1000.0,
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` from Unix seconds (civil-from-days, proleptic Gregorian), so the
/// server needs no date crate.
pub fn rfc3339(secs: u64, millis: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(rfc3339(1_798_761_599, 999), "2026-12-31T23:59:59.999Z");
    }

    #[test]
    fn status_region_defaults_to_local_or_env() {
        let s = server_status();
        assert_eq!(s.status, "healthy");
        assert!(!s.region.is_empty());
        assert!(s.timestamp.ends_with('Z'));
    }
}
