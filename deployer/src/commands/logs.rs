//! `mcpctl logs [server|authorizer]`: the function's CloudWatch log events (FilterLogEvents on
//! `/aws/lambda/<function>`) since a moment, and with `--follow` new ones as they arrive, polling
//! at a bounded interval until Ctrl-C.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Result};
use serde_json::json;

use crate::aws::{self, Aws};
use crate::resources::Ctx;
use crate::{Cli, Output};

#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    Server,
    Authorizer,
}

/// With `-o json`: one JSON object per event and line (timestamp, stream, message).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Whose log: the MCP server or the API key authorizer.
    #[arg(value_enum, default_value_t = Which::Server)]
    pub function: Which,
    /// Keep printing new events until Ctrl-C.
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// How far back to start: 30s, 10m, 2h, 1d.
    #[arg(long, default_value = "10m", value_parser = parse_since)]
    pub since: Duration,
    /// Only events matching this CloudWatch Logs filter pattern, e.g. `ERROR` or `"tools/call"`.
    #[arg(long)]
    pub filter: Option<String>,
    /// Seconds between polls with --follow.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub interval: u64,
}

/// `10m` → 600 s. A bare number is seconds.
pub fn parse_since(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration: use e.g. 30s, 10m, 2h or 1d"))?;
    let unit_s = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("unknown unit {unit:?} in {s:?}: use s, m, h or d")),
    };
    n.checked_mul(unit_s)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{s:?} is too long"))
}

struct Event {
    id: String,
    timestamp_ms: i64,
    stream: String,
    message: String,
}

/// Every event of `group` from `start_ms` on, following the pagination.
async fn fetch(
    ctx: &Ctx<'_>,
    group: &str,
    start_ms: i64,
    filter: Option<&str>,
) -> Result<Vec<Event>> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = match ctx
            .aws
            .logs
            .filter_log_events()
            .log_group_name(group)
            .start_time(start_ms)
            .set_filter_pattern(filter.map(str::to_string))
            .set_next_token(token.take())
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if aws::is_not_found(&e) => bail!(
                "log group {group} does not exist: deploy the stack with `mcpctl deploy` first"
            ),
            Err(e) => return Err(aws::describe("FilterLogEvents", &e)),
        };
        events.extend(out.events().iter().map(|e| Event {
            id: e.event_id().unwrap_or_default().to_string(),
            timestamp_ms: e.timestamp().unwrap_or(0),
            stream: e.log_stream_name().unwrap_or_default().to_string(),
            message: e.message().unwrap_or_default().trim_end().to_string(),
        }));
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    events.sort_by_key(|e| e.timestamp_ms);
    Ok(events)
}

fn print_event(output: Output, e: &Event) {
    let time = mcpctl_stack::time::rfc3339_millis(e.timestamp_ms);
    match output {
        Output::Json => println!(
            "{}",
            json!({"timestamp": time, "stream": e.stream, "message": e.message})
        ),
        Output::Text => println!("{time} {}", e.message),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub async fn run(cli: &Cli, args: &Args) -> Result<()> {
    let config = super::load_config(cli)?;
    let aws = Aws::connect(&config).await?;
    let ctx = Ctx::new(&aws, &config);
    let function = match args.function {
        Which::Server => ctx.names.server_function(),
        Which::Authorizer => ctx.names.authorizer_function(),
    };
    let group = ctx.names.log_group(&function);
    let since_ms =
        i64::try_from(args.since.as_millis()).map_err(|_| anyhow!("--since is too long"))?;
    let mut start_ms = now_ms().saturating_sub(since_ms);
    // Events at the newest timestamp already printed: the next poll starts at that millisecond
    // again (later events may share it), so these are skipped instead of printed twice.
    let mut seen_at_start: HashSet<String> = HashSet::new();
    let stop = super::dev::wait_for_stop_signal();
    tokio::pin!(stop);
    loop {
        let events = fetch(&ctx, &group, start_ms, args.filter.as_deref()).await?;
        for e in events.iter().filter(|e| !seen_at_start.contains(&e.id)) {
            print_event(cli.output, e);
        }
        if let Some(newest) = events.iter().map(|e| e.timestamp_ms).max() {
            if newest > start_ms {
                seen_at_start.clear();
                start_ms = newest;
            }
            seen_at_start.extend(
                events
                    .iter()
                    .filter(|e| e.timestamp_ms == newest)
                    .map(|e| e.id.clone()),
            );
        }
        if !args.follow {
            if events.is_empty() && cli.output == Output::Text {
                eprintln!(
                    "no events in {group} in the last {} (try --since 1h, or --follow)",
                    humanize(args.since)
                );
            }
            return Ok(());
        }
        tokio::select! {
            _ = &mut stop => return Ok(()),
            _ = tokio::time::sleep(Duration::from_secs(args.interval)) => {}
        }
    }
}

fn humanize(d: Duration) -> String {
    super::status::age(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_units_and_refuses_nonsense() {
        assert_eq!(parse_since("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_since("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_since("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_since("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_since("45"), Ok(Duration::from_secs(45)));
        assert!(parse_since("10x").is_err());
        assert!(parse_since("m").is_err());
        assert!(parse_since("99999999999999999999d").is_err());
    }
}
