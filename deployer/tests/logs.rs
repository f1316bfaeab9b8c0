//! `mcpctl logs` against moto: events put with the SDK (CreateLogStream + PutLogEvents) come
//! back through `mcpctl logs`, filtered by time, function and pattern; --follow prints new ones
//! and stops cleanly on Ctrl-C.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_cloudwatchlogs::Client as Logs;
use common::{assert_success, stderr, stdout, Project};
use serde_json::Value;

const CONFIG: &str = "name = \"logdemo\"\nregion = \"us-east-1\"\n";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

async fn put(logs: &Logs, group: &str, stream: &str, events: &[(i64, &str)]) {
    let _ = logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await;
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(
            events
                .iter()
                .map(|(t, m)| {
                    InputLogEvent::builder()
                        .timestamp(*t)
                        .message(*m)
                        .build()
                        .unwrap()
                })
                .collect(),
        ))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_reads_back_events_by_time_function_and_pattern() {
    let p = Project::new(CONFIG);

    // Not deployed: the log group is missing, one clear line.
    let out = p.mcpctl(&["logs"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("/aws/lambda/logdemo-server") && err.contains("mcpctl deploy"),
        "{err}"
    );

    p.deploy_json();
    let logs = Logs::new(&p.sdk().await);
    let now = now_ms();
    put(
        &logs,
        "/aws/lambda/logdemo-server",
        "2026/11/29/[$LATEST]abc",
        &[
            (now - 2 * 3600 * 1000, "old event from two hours ago\n"),
            (now - 60_000, "INFO handled tools/list"),
            (now - 30_000, "ERROR tool failed: boom"),
        ],
    )
    .await;
    put(
        &logs,
        "/aws/lambda/logdemo-authorizer",
        "2026/11/29/[$LATEST]def",
        &[(now - 10_000, "allowed key_stage=AWSCURRENT")],
    )
    .await;

    let out = p.mcpctl(&["logs", "server"]);
    assert_success(&out);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].ends_with(" INFO handled tools/list"), "{text}");
    assert!(lines[1].ends_with(" ERROR tool failed: boom"), "{text}");
    assert!(
        lines[0].starts_with("20") && lines[0].contains('T'),
        "{text}"
    );

    let text = stdout(&p.mcpctl(&["logs", "server", "--since", "3h"]));
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with("old event from two hours ago"),
        "{text}"
    );

    let text = stdout(&p.mcpctl(&["logs", "authorizer"]));
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("allowed key_stage=AWSCURRENT"), "{text}");

    let text = stdout(&p.mcpctl(&["logs", "--filter", "ERROR"]));
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("boom"), "{text}");

    let out = p.mcpctl(&["logs", "-o", "json"]);
    assert_success(&out);
    let events: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["message"], "ERROR tool failed: boom");
    assert_eq!(events[1]["stream"], "2026/11/29/[$LATEST]abc");

    let out = p.mcpctl(&["logs", "--since", "ten minutes"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("30s, 10m"), "{}", stderr(&out));

    let out = p.mcpctl(&["logs", "--since", "1s"]);
    assert_success(&out);
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("no events"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_prints_new_events_once_and_stops_on_ctrl_c() {
    let p = Project::new(CONFIG);
    p.deploy_json();
    let logs = Logs::new(&p.sdk().await);
    let group = "/aws/lambda/logdemo-server";
    let stream = "2026/11/29/[$LATEST]follow";
    put(&logs, group, stream, &[(now_ms() - 5_000, "before follow")]).await;

    let mut child = p
        .command(&["logs", "--follow", "--interval", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = |what: &str| {
        rx.recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no line for {what} within 20 s"))
    };
    assert!(next_line("the existing event").ends_with("before follow"));

    put(&logs, group, stream, &[(now_ms(), "while following 1")]).await;
    assert!(next_line("a new event").ends_with("while following 1"));
    put(&logs, group, stream, &[(now_ms(), "while following 2")]).await;
    assert!(next_line("a second new event").ends_with("while following 2"));
    // A few more polls: nothing is printed twice.
    assert!(rx.recv_timeout(Duration::from_millis(2500)).is_err());

    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("logs --follow did not stop on SIGINT");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "exit {exit}");
}

/// CloudWatch Logs is eventually consistent: an event can show up after newer ones, with an
/// older timestamp than the newest one printed (another log stream, a late ingestion). --follow
/// still prints it, once; and a poll that spans several pages prints each event once.
#[tokio::test(flavor = "multi_thread")]
async fn follow_prints_late_events_with_older_timestamps_exactly_once() {
    let p = Project::new(CONFIG);
    p.deploy_json();
    let logs = Logs::new(&p.sdk().await);
    let group = "/aws/lambda/logdemo-server";
    let start = now_ms();
    put(
        &logs,
        group,
        "2026/11/29/[$LATEST]a",
        &[(start - 1_000, "first")],
    )
    .await;

    // Two events a page, so most polls take several FilterLogEvents calls.
    let mut child = p
        .command(&["logs", "--follow", "--interval", "1", "--page-size", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel::<String>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next_line = |what: &str| {
        rx.recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no line for {what} within 20 s"))
    };
    assert!(next_line("the existing event").ends_with(" first"));

    let newest = now_ms();
    put(&logs, group, "2026/11/29/[$LATEST]a", &[(newest, "newest")]).await;
    assert!(next_line("the newest event").ends_with(" newest"));
    // Let a poll or two pass with `newest` as the newest event printed.
    std::thread::sleep(Duration::from_millis(2_500));

    // Late: older than `newest` (within the overlap), from another stream, and several at once.
    put(
        &logs,
        group,
        "2026/11/29/[$LATEST]b",
        &[
            (newest - 3_000, "late 1"),
            (newest - 2_000, "late 2"),
            (newest - 1_000, "late 3"),
        ],
    )
    .await;
    put(
        &logs,
        group,
        "2026/11/29/[$LATEST]a",
        &[(newest, "same ms")],
    )
    .await;
    let mut got: Vec<String> = (0..4)
        .map(|_| next_line("the late events"))
        .map(|l| l.split_once(' ').unwrap().1.to_string())
        .collect();
    got.sort();
    assert_eq!(got, ["late 1", "late 2", "late 3", "same ms"]);

    // Polls keep seeing all of them (and the older ones) within the overlap: none comes twice.
    if let Ok(extra) = rx.recv_timeout(Duration::from_millis(3_500)) {
        panic!("printed again: {extra}");
    }

    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("logs --follow did not stop on SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(exit.success(), "exit {exit}");
}
