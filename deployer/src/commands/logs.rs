//! `mcpctl logs [server|authorizer]`: the function's CloudWatch log events (FilterLogEvents on
//! `/aws/lambda/<function>`) since a moment, and with `--follow` new ones as they arrive, polling
//! at a bounded interval until Ctrl-C.
//!
//! CloudWatch Logs is eventually consistent: an event can become visible after newer ones (from
//! another log stream, or ingested late), with an older timestamp than the newest one printed.
//! So each poll starts [`OVERLAP`] before the newest event seen and skips the event ids already
//! printed; ids older than the overlap are forgotten, so memory stays bounded.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Result};
use serde_json::json;

use crate::aws::{self, Aws};
use crate::resources::Ctx;
use crate::{human, signals, Cli, Output};

/// How far before the newest event seen each `--follow` poll starts again. Events that become
/// visible later than this after a newer one are not printed.
pub const OVERLAP: Duration = Duration::from_secs(10);

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
    /// Events per FilterLogEvents page (AWS's default and maximum is 10000); for tests.
    #[arg(long, hide = true, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    pub page_size: Option<i32>,
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

#[derive(Debug, Clone, PartialEq)]
struct Event {
    id: String,
    timestamp_ms: i64,
    stream: String,
    message: String,
}

impl Event {
    /// What tells two events apart: the event id (AWS always sends one), else everything else.
    fn key(&self) -> String {
        if self.id.is_empty() {
            format!("{}\n{}\n{}", self.stream, self.timestamp_ms, self.message)
        } else {
            self.id.clone()
        }
    }
}

/// What has been printed: the newest timestamp and the keys of the events at most [`OVERLAP`]
/// older than it, the only ones a later poll can return again.
struct Seen {
    /// `now - --since`: no poll starts earlier.
    floor_ms: i64,
    overlap_ms: i64,
    newest_ms: Option<i64>,
    /// Event key → timestamp.
    keys: HashMap<String, i64>,
}

impl Seen {
    fn new(floor_ms: i64, overlap: Duration) -> Self {
        Self {
            floor_ms,
            overlap_ms: i64::try_from(overlap.as_millis()).unwrap_or(i64::MAX),
            newest_ms: None,
            keys: HashMap::new(),
        }
    }

    /// Where the next poll starts: the overlap before the newest event seen.
    fn start_ms(&self) -> i64 {
        match self.newest_ms {
            Some(newest) => newest.saturating_sub(self.overlap_ms).max(self.floor_ms),
            None => self.floor_ms,
        }
    }

    /// The events not printed before, in the order given; remembers them, and forgets the ones
    /// before the next start.
    fn take_new(&mut self, events: Vec<Event>) -> Vec<Event> {
        let fresh: Vec<Event> = events
            .into_iter()
            .filter(|e| self.keys.insert(e.key(), e.timestamp_ms).is_none())
            .collect();
        if let Some(newest) = fresh.iter().map(|e| e.timestamp_ms).max() {
            self.newest_ms = Some(self.newest_ms.map_or(newest, |n| n.max(newest)));
        }
        let start = self.start_ms();
        self.keys.retain(|_, t| *t >= start);
        fresh
    }
}

/// Every event of `group` from `start_ms` on, following the pagination, oldest first.
async fn fetch(
    ctx: &Ctx<'_>,
    group: &str,
    start_ms: i64,
    filter: Option<&str>,
    page_size: Option<i32>,
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
            .set_limit(page_size)
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
    let mut seen = Seen::new(now_ms().saturating_sub(since_ms), OVERLAP);
    let stop = signals::wait_for_stop();
    tokio::pin!(stop);
    loop {
        let events = fetch(
            &ctx,
            &group,
            seen.start_ms(),
            args.filter.as_deref(),
            args.page_size,
        )
        .await?;
        let fresh = seen.take_new(events);
        for e in &fresh {
            print_event(cli.output, e);
        }
        if !args.follow {
            if fresh.is_empty() && cli.output == Output::Text {
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
    human::age(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
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

    fn ev(id: &str, timestamp_ms: i64) -> Event {
        Event {
            id: id.into(),
            timestamp_ms,
            stream: "s".into(),
            message: format!("m{id}"),
        }
    }

    fn ids(events: &[Event]) -> Vec<&str> {
        events.iter().map(|e| e.id.as_str()).collect()
    }

    #[test]
    fn polls_overlap_and_late_events_print_once() {
        let mut seen = Seen::new(1_000, Duration::from_secs(5));
        assert_eq!(seen.start_ms(), 1_000);
        let first = seen.take_new(vec![ev("a", 2_000), ev("b", 20_000)]);
        assert_eq!(ids(&first), ["a", "b"]);
        // The next poll starts 5 s before the newest event, not at it.
        assert_eq!(seen.start_ms(), 15_000);
        // What that poll returns: b again, c ingested late with an older timestamp, d new.
        let second = seen.take_new(vec![ev("c", 17_000), ev("b", 20_000), ev("d", 21_000)]);
        assert_eq!(ids(&second), ["c", "d"]);
        assert_eq!(seen.start_ms(), 16_000);
        // The same again: nothing to print.
        let again = seen.take_new(vec![ev("c", 17_000), ev("b", 20_000), ev("d", 21_000)]);
        assert!(again.is_empty());
        // Ids older than the overlap are forgotten: a never returns, since polls start later.
        assert!(!seen.keys.contains_key("a"));
        assert_eq!(seen.keys.len(), 3);
        let later = seen.take_new(vec![ev("e", 60_000)]);
        assert_eq!(ids(&later), ["e"]);
        assert_eq!(seen.keys.keys().collect::<Vec<_>>(), ["e"]);
    }

    #[test]
    fn no_poll_starts_before_since_and_duplicates_in_one_page_print_once() {
        let mut seen = Seen::new(10_000, Duration::from_secs(5));
        let fresh = seen.take_new(vec![ev("a", 11_000), ev("a", 11_000), ev("", 12_000)]);
        assert_eq!(ids(&fresh), ["a", ""]);
        assert_eq!(seen.start_ms(), 10_000);
        // Without ids, the stream, time and message tell events apart.
        let fresh = seen.take_new(vec![ev("", 12_000), ev("", 12_001)]);
        assert_eq!(fresh.len(), 1);
        assert_eq!(fresh[0].timestamp_ms, 12_001);
    }
}
