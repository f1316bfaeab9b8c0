//! No API key in anything mcpctl prints or logs unless the user asked for it. Every byte of
//! stdout and stderr is captured across deploy, plan, rotate-key, invoke, config, destroy, dev and
//! their error paths (plus the logs of the local server and of the dev stack's functions, at
//! RUST_LOG=trace), then searched for every key that existed during the run: the deployed keys
//! (read back from the secret through the SDK), the local dev key and a wrong key a user typed.
//!
//! Where a key is printed on purpose (`deploy --show-key`, `rotate-key`'s new key, `config`, the
//! stdout banner of `dev`), the test requires it to be there, which also proves the search works.

mod common;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{assert_success, Project};
use mcpctl_testkit::{build_binary, free_port, wait_for_port};

const CONFIG: &str = "name = \"sec\"\nregion = \"us-east-1\"\n";
const SECRET_ID: &str = "sec/api-key";
/// What a user might mistype: must not be echoed back in an error either.
const WRONG_KEY: &str = "wrong-key-0d4c2a9b7e1f3a5c";

/// Everything one command printed, and which keys it was allowed to print.
struct Captured {
    label: String,
    text: String,
    allowed: Vec<String>,
}

#[derive(Default)]
struct Transcript(Vec<Captured>);

impl Transcript {
    fn record(&mut self, label: &str, out: &Output, allowed: &[&str]) {
        self.record_text(
            label,
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
            allowed,
        );
    }

    fn record_text(&mut self, label: &str, text: String, allowed: &[&str]) {
        self.0.push(Captured {
            label: label.to_string(),
            text,
            allowed: allowed.iter().map(|k| k.to_string()).collect(),
        });
    }

    /// Every key appears only where allowed, and every allowed key does appear there.
    fn check(&self, keys: &[&str]) {
        let mut problems = Vec::new();
        for c in &self.0 {
            for key in keys {
                let shown = c.text.contains(key);
                let allowed = c.allowed.iter().any(|a| a == key);
                if shown && !allowed {
                    // The line it is on, with the key masked, says where it came from.
                    let line = c.text.lines().find(|l| l.contains(key)).unwrap_or_default();
                    let line: String = line.replace(key, "<KEY>").chars().take(300).collect();
                    problems.push(format!("{}: leaked {}… in: {line}", c.label, &key[..8]));
                }
                if allowed && !shown {
                    problems.push(format!("{}: did not show {}… as asked", c.label, &key[..8]));
                }
            }
        }
        let bytes: usize = self.0.iter().map(|c| c.text.len()).sum();
        assert!(
            problems.is_empty(),
            "{}\n(searched {} outputs, {bytes} bytes)",
            problems.join("\n"),
            self.0.len()
        );
        assert!(
            self.0.len() >= 25 && bytes > 2000,
            "too little was captured"
        );
        eprintln!(
            "searched {} outputs ({bytes} bytes) for {} keys: no key where not asked",
            self.0.len(),
            keys.len()
        );
    }
}

async fn secret_key(p: &Project, stage: &str) -> Option<String> {
    common::secret_value(p, SECRET_ID, stage).await
}

/// A process whose stdout and stderr are collected until it exits.
struct Collected {
    child: Child,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
}

fn spawn_collected(mut cmd: Command) -> Collected {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("process starts");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    Collected {
        child,
        stdout,
        stderr,
    }
}

impl Collected {
    /// SIGINT (what Ctrl-C sends), then what it printed; killed if it does not stop in time.
    fn interrupt(mut self) -> (String, String) {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        (self.stdout.join().unwrap(), self.stderr.join().unwrap())
    }
}

fn listening(port: u16) -> bool {
    wait_for_port(([127, 0, 0, 1], port).into(), Duration::from_secs(60))
}

fn no_credentials() -> Vec<(&'static str, &'static str)> {
    [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ]
    .map(|v| (v, ""))
    .to_vec()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn no_key_is_printed_or_logged_unless_asked() {
    let server_bin = build_binary("mcpctl-server", "mcpctl-server");
    let authorizer_bin = build_binary("mcpctl-authorizer", "mcpctl-authorizer");
    let p = Project::new(CONFIG);
    let prebuilt = p.prebuilt();
    let deploy = ["deploy", "--prebuilt", path(&prebuilt)];
    let trace = [("RUST_LOG", "trace")];
    let mut t = Transcript::default();

    // deploy: text, JSON, rerun, and only --show-key shows the key.
    t.record("deploy", &p.mcpctl_env(&deploy, &trace), &[]);
    let first = secret_key(&p, "AWSCURRENT")
        .await
        .expect("deploy made the key");
    let first = first.as_str();
    let json = p.mcpctl_env(&[&deploy[..], &["-o", "json"]].concat(), &trace);
    assert_success(&json);
    t.record("deploy -o json (rerun)", &json, &[]);
    let shown = p.mcpctl(&[&deploy[..], &["--show-key"]].concat());
    assert_success(&shown);
    t.record("deploy --show-key", &shown, &[first]);
    let shown_json = p.mcpctl(&[&deploy[..], &["--show-key", "-o", "json"]].concat());
    t.record("deploy --show-key -o json", &shown_json, &[first]);
    t.record(
        "plan",
        &p.mcpctl(&["plan", "--prebuilt", path(&prebuilt)]),
        &[],
    );
    t.record("status", &p.mcpctl_env(&["status"], &trace), &[]);
    t.record("status -o json", &p.mcpctl(&["status", "-o", "json"]), &[]);
    t.record("unlock", &p.mcpctl_env(&["unlock"], &trace), &[]);

    // The key works against a real server, given on the command line or in the environment.
    let port = free_port();
    let mut server_cmd = Command::new(&server_bin);
    server_cmd
        .env("PORT", port.to_string())
        .env("RUST_LOG", "trace");
    let server = spawn_collected(server_cmd);
    assert!(listening(port), "the local server did not start");
    let url = format!("http://127.0.0.1:{port}/mcp");
    for args in [
        vec!["invoke", "initialize"],
        vec!["invoke", "tools/list"],
        vec!["invoke", "tools/call", "get_weather", r#"{"city":"Paris"}"#],
        vec![
            "-o",
            "json",
            "invoke",
            "tools/call",
            "calculate",
            r#"{"operation":"divide","a":1,"b":0}"#,
        ],
        vec!["invoke", "tools/call", "no_such_tool"],
        vec!["invoke", "tools/call", "get_weather", "not json"],
    ] {
        let with_flag = [&args[..], &["--url", &url, "--api-key", first]].concat();
        t.record(
            &format!("{with_flag:?}"),
            &p.mcpctl_env(&with_flag, &trace),
            &[],
        );
        let with_env = [&args[..], &["--url", &url]].concat();
        let out = p.mcpctl_env(&with_env, &[("MCPCTL_API_KEY", first), trace[0]]);
        t.record(&format!("MCPCTL_API_KEY {with_env:?}"), &out, &[]);
    }
    // Error paths that hold the key: unreachable or malformed URLs, a key that is not a header
    // value, and the deployed stack (whose URL cannot be reached from here: no network).
    for (label, args) in [
        (
            "closed port",
            vec![
                "invoke",
                "tools/list",
                "--url",
                "http://127.0.0.1:1/mcp",
                "--api-key",
                first,
            ],
        ),
        (
            "not a URL",
            vec![
                "invoke",
                "tools/list",
                "--url",
                "not a url",
                "--api-key",
                first,
            ],
        ),
        (
            "wrong path",
            vec![
                "invoke",
                "tools/list",
                "--url",
                &format!("http://127.0.0.1:{port}/nope"),
                "--api-key",
                first,
            ],
        ),
    ] {
        t.record(label, &p.mcpctl_env(&args, &trace), &[]);
    }
    let bad_header = format!("{first}\n");
    let out = p.mcpctl(&[
        "invoke",
        "tools/list",
        "--url",
        &url,
        "--api-key",
        &bad_header,
    ]);
    assert!(!out.status.success());
    t.record("key with a newline", &out, &[]);
    let (server_out, server_err) = server.interrupt();
    t.record_text(
        "local server logs (RUST_LOG=trace)",
        server_out + &server_err,
        &[],
    );

    // rotate-key prints the new key once and never the old one; finalize prints neither.
    let rotated = p.mcpctl_env(&["rotate-key"], &trace);
    assert_success(&rotated);
    let second = secret_key(&p, "AWSCURRENT").await.expect("rotated key");
    let second = second.as_str();
    assert_ne!(first, second);
    t.record("rotate-key", &rotated, &[second]);
    t.record("deploy after rotate", &p.mcpctl_env(&deploy, &trace), &[]);
    t.record("config cursor", &p.mcpctl(&["config", "cursor"]), &[second]);
    t.record(
        "rotate-key --finalize",
        &p.mcpctl(&["rotate-key", "--finalize"]),
        &[],
    );

    // Error paths with a key in the secret.
    t.record(
        "deploy, no credentials",
        &p.mcpctl_env(&deploy, &no_credentials()),
        &[],
    );
    t.record(
        "invoke deployed, no credentials",
        &p.mcpctl_env(&["invoke", "tools/list"], &no_credentials()),
        &[],
    );
    t.record(
        "rotate-key, no credentials",
        &p.mcpctl_env(&["rotate-key"], &no_credentials()),
        &[],
    );
    p.write_config("name = \"sec\"\n[server]\ntimeout_s = 45\n");
    t.record("deploy, bad deploy.toml", &p.mcpctl(&deploy), &[]);
    t.record(
        "invoke, bad deploy.toml",
        &p.mcpctl(&["invoke", "tools/list"]),
        &[],
    );
    p.write_config(CONFIG);
    let destroyed = p.mcpctl_env(&["destroy", "--yes"], &trace);
    assert_success(&destroyed);
    t.record("destroy", &destroyed, &[]);
    t.record("rotate-key after destroy", &p.mcpctl(&["rotate-key"]), &[]);

    // mcpctl dev: its banner (stdout) shows the local key; the request logs on stderr, which
    // include the authorizer's and the server's own lines, never do.
    let dev_port = free_port();
    let mut dev_cmd = Command::new(env!("CARGO_BIN_EXE_mcpctl"));
    dev_cmd
        .current_dir(&p.dir)
        .args(["dev", "--port", &dev_port.to_string()])
        .arg("--server-bin")
        .arg(&server_bin)
        .arg("--authorizer-bin")
        .arg(&authorizer_bin)
        .env("RUST_LOG", "trace");
    let dev = spawn_collected(dev_cmd);
    assert!(listening(dev_port), "mcpctl dev did not start");
    let local = mcpctl_devstack::state::LocalState::beside(&p.dir.join("deploy.toml"))
        .keys()
        .unwrap()
        .expect("dev made a local key")
        .current;
    let local = local.as_str();
    let ok = p.mcpctl(&["invoke", "--local", "tools/list"]);
    assert_success(&ok);
    t.record("invoke --local", &ok, &[]);
    let denied = p.mcpctl(&["invoke", "--local", "tools/list", "--api-key", WRONG_KEY]);
    assert!(!denied.status.success(), "a wrong key was accepted");
    t.record("invoke --local with a wrong key", &denied, &[]);
    t.record(
        "config cursor --local",
        &p.mcpctl(&["config", "cursor", "--local"]),
        &[local],
    );
    let (dev_out, dev_err) = dev.interrupt();
    assert!(
        dev_err.contains("tools/list") || dev_err.contains("POST"),
        "no request log: {dev_err}"
    );
    t.record_text("mcpctl dev banner (stdout)", dev_out, &[local]);
    t.record_text(
        "mcpctl dev request logs (stderr, RUST_LOG=trace)",
        dev_err,
        &[],
    );
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let held = holder.local_addr().unwrap().port().to_string();
    let busy = p.mcpctl(&[
        "dev",
        "--port",
        &held,
        "--server-bin",
        path(&server_bin),
        "--authorizer-bin",
        path(&authorizer_bin),
    ]);
    assert!(!busy.status.success());
    t.record("mcpctl dev, port in use", &busy, &[]);

    t.check(&[first, second, local, WRONG_KEY]);
}
