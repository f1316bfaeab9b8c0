//! The invocation benchmark's driver (`bench/run` runs it): one server and one authorizer
//! bootstrap behind the dev stack, exactly as `mcpctl dev` runs them, timed by the dev stack's
//! own `REPORT` lines (Lambda's Duration, Billed Duration, Max Memory Used, Init Duration).
//!
//! ```text
//! bench_invoke --server BIN --authorizer BIN [--launcher PROGRAM [--launcher-arg ARG]...]
//!              [--server-memory MB] [--authorizer-memory MB] [--accept both|x-api-key]
//!              [--cold N] [--warm N] [--verbose]
//! ```
//!
//! Cold: N times a fresh stack (both functions cold) and one `initialize`, timed end to end by
//! this client. Warm: on one stack, N rounds of `tools/list` and a `tools/call` of every shipped
//! tool, in turn. Prints one JSON object with every REPORT line parsed, per request; the
//! statistics are `bench/run`'s.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcpctl_devstack::function::Report;
use mcpctl_devstack::{DevOptions, DevStack, Launcher, LocalState, Log};
use mcpctl_stack::auth::KeyHeader;
use mcpctl_stack::Config;
use serde_json::{json, Value};

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"bench","version":"1.0"}}}"#;

/// What every warm round sends: `tools/list`, then each shipped tool once.
const WARM: [(&str, &str); 5] = [
    (
        "tools/list",
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
    ),
    (
        "calculate",
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"calculate","arguments":{"operation":"multiply","a":6,"b":7}}}"#,
    ),
    (
        "get_weather",
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_weather","arguments":{"city":"Kyiv"}}}"#,
    ),
    (
        "get_server_status",
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_server_status","arguments":{}}}"#,
    ),
    (
        "lookup_user",
        r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"lookup_user","arguments":{"user_id":"1"}}}"#,
    ),
];

struct Args {
    server: PathBuf,
    authorizer: PathBuf,
    launcher: Option<Launcher>,
    server_memory: u32,
    authorizer_memory: u32,
    accept: Vec<KeyHeader>,
    cold: usize,
    warm: usize,
    verbose: bool,
}

fn usage(why: &str) -> ! {
    eprintln!("bench_invoke: {why}\nusage: bench_invoke --server BIN --authorizer BIN [--launcher PROGRAM [--launcher-arg ARG]...] [--server-memory MB] [--authorizer-memory MB] [--accept both|x-api-key] [--cold N] [--warm N] [--verbose]");
    std::process::exit(2)
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut server = None;
    let mut authorizer = None;
    let mut program: Option<PathBuf> = None;
    let mut launcher_args = Vec::new();
    let mut a = Args {
        server: PathBuf::new(),
        authorizer: PathBuf::new(),
        launcher: None,
        server_memory: 128,
        authorizer_memory: 128,
        accept: KeyHeader::ALL.to_vec(),
        cold: 5,
        warm: 100,
        verbose: false,
    };
    let number = |v: Option<String>, what: &str| -> usize {
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| usage(&format!("{what} needs a number")))
    };
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--server" => server = it.next().map(PathBuf::from),
            "--authorizer" => authorizer = it.next().map(PathBuf::from),
            "--launcher" => program = it.next().map(PathBuf::from),
            "--launcher-arg" => launcher_args.extend(it.next().map(Into::into)),
            "--server-memory" => a.server_memory = number(it.next(), &flag) as u32,
            "--authorizer-memory" => a.authorizer_memory = number(it.next(), &flag) as u32,
            "--cold" => a.cold = number(it.next(), &flag),
            "--warm" => a.warm = number(it.next(), &flag),
            "--verbose" => a.verbose = true,
            "--accept" => {
                a.accept = match it.next().as_deref() {
                    Some("both") => KeyHeader::ALL.to_vec(),
                    Some("x-api-key") => vec![KeyHeader::XApiKey],
                    _ => usage("--accept is both or x-api-key"),
                }
            }
            other => usage(&format!("unknown argument {other}")),
        }
    }
    a.server = server.unwrap_or_else(|| usage("--server is required"));
    a.authorizer = authorizer.unwrap_or_else(|| usage("--authorizer is required"));
    a.launcher = program.map(|program| Launcher {
        program,
        args: launcher_args,
    });
    a
}

/// Every dev log line since the last [`Lines::take`].
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn log(&self, verbose: bool) -> Log {
        let lines = self.0.clone();
        Log::new(move |l| {
            if verbose {
                eprintln!("{l}");
            }
            lines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(l.to_string());
        })
    }

    /// The REPORT lines logged since the last call, by function (`server`, `authorizer`).
    fn take(&self) -> Vec<(String, Report)> {
        let lines = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        lines
            .iter()
            .filter_map(|l| {
                let label = l.strip_prefix('[')?.split(['#', ']']).next()?.to_string();
                Some((label, Report::parse(l)?))
            })
            .collect()
    }
}

fn report_json(r: &Report) -> Value {
    json!({
        "duration_ms": r.duration_ms,
        "billed_ms": r.billed_ms,
        "memory_size_mb": r.memory_size_mb,
        "max_memory_used_mb": r.max_memory_used_mb,
        "init_ms": r.init_ms,
    })
}

struct Stack {
    stack: DevStack,
    key: String,
    lines: Lines,
    _dir: ScratchDir,
}

struct ScratchDir(PathBuf);

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start(a: &Args, n: usize) -> Result<Stack, String> {
    let dir = ScratchDir(
        std::env::temp_dir().join(format!("mcpctl-bench-invoke-{}-{n}", std::process::id())),
    );
    let state = LocalState::new(dir.0.clone());
    let key = state.keys_or_create().map_err(|e| e.to_string())?.current;
    let mut config = Config::default();
    config.server.memory_mb = a.server_memory;
    config.authorizer.memory_mb = a.authorizer_memory;
    config.authorizer.accept = a.accept.clone();
    let lines = Lines::default();
    let stack = DevStack::start_with_launcher(
        DevOptions {
            config,
            server_bin: a.server.clone(),
            authorizer_bin: a.authorizer.clone(),
            state,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_instances: 1,
            integration_limit: mcpctl_devstack::INTEGRATION_LIMIT,
            log: lines.log(a.verbose),
        },
        a.launcher.clone(),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(Stack {
        stack,
        key,
        lines,
        _dir: dir,
    })
}

/// One request through the gateway; the end-to-end time and the checked JSON-RPC answer.
async fn request(
    client: &reqwest::Client,
    s: &Stack,
    body: &'static str,
) -> Result<(f64, Value), String> {
    let started = Instant::now();
    let response = client
        .post(s.stack.url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("x-api-key", &s.key)
        .body(body)
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("reading the response failed: {e}"))?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let text = String::from_utf8_lossy(&bytes);
    if status != 200 {
        return Err(format!("HTTP {status}: {text}"));
    }
    // A JSON body, or one SSE `data:` event.
    let json_text = text
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap_or(&text);
    let value: Value =
        serde_json::from_str(json_text).map_err(|e| format!("not JSON ({e}): {text}"))?;
    let result = value
        .get("result")
        .ok_or_else(|| format!("no result: {text}"))?;
    if result.get("isError") == Some(&Value::Bool(true)) {
        return Err(format!("tool error: {text}"));
    }
    Ok((elapsed, value))
}

async fn run(a: Args) -> Result<Value, String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .map_err(|e| e.to_string())?;

    let mut cold = Vec::new();
    for n in 0..a.cold {
        let s = start(&a, n).await?;
        let (e2e, _) = request(&client, &s, INITIALIZE).await?;
        let mut entry = json!({ "e2e_ms": e2e });
        for (label, r) in s.lines.take() {
            entry[label] = report_json(&r);
        }
        cold.push(entry);
        s.stack.shutdown().await;
        // A fresh client too: no connection reused from the stack before.
    }

    let s = start(&a, a.cold).await?;
    let client = reqwest::Client::new();
    // Warm-up: both functions started, the first answers of each kind behind us.
    for _ in 0..3 {
        for (_, body) in WARM {
            request(&client, &s, body).await?;
        }
    }
    let _ = s.lines.take();
    let mut warm = serde_json::Map::new();
    for (name, _) in WARM {
        warm.insert(
            name.to_string(),
            json!({ "e2e_ms": [], "server": [], "authorizer": [] }),
        );
    }
    let mut requests = 0u64;
    let mut authorizer_invocations = 0u64;
    for _ in 0..a.warm {
        for (name, body) in WARM {
            let (e2e, _) = request(&client, &s, body).await?;
            requests += 1;
            let slot = &mut warm[name];
            push(slot, "e2e_ms", json!(e2e));
            for (label, r) in s.lines.take() {
                if label == "authorizer" {
                    authorizer_invocations += 1;
                }
                push(slot, &label, report_json(&r));
            }
        }
    }
    let stats = s.stack.stats();
    s.stack.shutdown().await;
    Ok(json!({
        "cold": cold,
        "warm": warm,
        "warm_requests": requests,
        "warm_authorizer_invocations": authorizer_invocations,
        // Every request of the warm stack, warm-up included: the verdict cache's misses count.
        "server_invocations": stats.server.invocations,
        "authorizer_invocations": stats.authorizer.invocations,
        "server_cold_starts": stats.server.cold_starts,
        "authorizer_cold_starts": stats.authorizer.cold_starts,
        "emulated": a.launcher.is_some(),
    }))
}

fn push(slot: &mut Value, key: &str, v: Value) {
    if let Some(list) = slot.get_mut(key).and_then(Value::as_array_mut) {
        list.push(v);
    } else {
        slot[key] = json!([v]);
    }
}

#[tokio::main]
async fn main() {
    let a = args();
    match run(a).await {
        Ok(out) => println!("{out}"),
        Err(e) => {
            eprintln!("bench_invoke: {e}");
            std::process::exit(1);
        }
    }
}
