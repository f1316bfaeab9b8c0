//! `mcpctl dev` as a user runs it: a real process serving the real function binaries, stopped
//! with Ctrl-C (SIGINT) or killed outright, leaving no function instance behind.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mcpctl_testkit::{build_binary, first_stdout_line, free_port, http_request};

struct Dev {
    child: Child,
    dir: PathBuf,
    port: u16,
    banner: serde_json::Value,
}

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpctl-dev-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("deploy.toml"), "name = \"devtest\"\n").unwrap();
    dir
}

/// Starts `mcpctl -o json dev` and waits for its one-line JSON banner (printed once serving).
fn start(tag: &str, extra: &[&str]) -> Dev {
    let server = build_binary("mcpctl-server", "mcpctl-server");
    let authorizer = build_binary("mcpctl-authorizer", "mcpctl-authorizer");
    let dir = scratch(tag);
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcpctl"))
        .arg("-c")
        .arg(dir.join("deploy.toml"))
        .args(["-o", "json", "dev", "--port", &port.to_string()])
        .arg("--server-bin")
        .arg(&server)
        .arg("--authorizer-bin")
        .arg(&authorizer)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("mcpctl starts");
    let line = first_stdout_line(&mut child, Duration::from_secs(60))
        .expect("mcpctl dev printed its banner");
    let banner: serde_json::Value = serde_json::from_str(&line).expect("the banner is JSON");
    Dev {
        child,
        dir,
        port,
        banner,
    }
}

fn tools_list(port: u16, key: &str) -> (u16, String) {
    let (status, _, body) = http_request(
        SocketAddr::from(([127, 0, 0, 1], port)),
        "POST",
        "/mcp",
        &[
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("x-api-key", key),
        ],
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    )
    .expect("the dev stack answers");
    (status, String::from_utf8_lossy(&body).to_string())
}

fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) {
            let fields: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            if fields.get(1).and_then(|f| f.parse::<u32>().ok()) == Some(pid) {
                out.push(p);
            }
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
    })
}

fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn state_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(".mcpctl").join("dev").join(name)
}

#[test]
fn ctrl_c_stops_dev_and_leaves_no_instance() {
    let mut dev = start("sigint", &[]);
    let url = format!("http://127.0.0.1:{}/mcp", dev.port);
    assert_eq!(dev.banner["url"], url.as_str());
    let key = dev.banner["api_key"].as_str().unwrap().to_string();
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state_file(&dev.dir, "api-key.json")).unwrap())
            .unwrap();
    assert_eq!(stored["AWSCURRENT"], key.as_str());
    assert_eq!(
        std::fs::read_to_string(state_file(&dev.dir, "endpoint"))
            .unwrap()
            .trim(),
        url
    );
    assert_eq!(
        dev.banner["clients"]["vscode"]["servers"]["devtest"]["type"],
        "http"
    );
    assert_eq!(
        dev.banner["clients"]["cursor"]["mcpServers"]["devtest"]["headers"]["x-api-key"],
        key.as_str()
    );
    assert_eq!(
        dev.banner["clients"]["windsurf"]["mcpServers"]["devtest"]["serverUrl"],
        url.as_str()
    );

    let (status, body) = tools_list(dev.port, &key);
    assert_eq!(status, 200, "{body}");
    for tool in [
        "get_weather",
        "calculate",
        "get_server_status",
        "lookup_user",
    ] {
        assert!(body.contains(tool), "{tool} missing from {body}");
    }
    assert_eq!(tools_list(dev.port, "not-the-key").0, 403);

    let pid = dev.child.id();
    let instances = children_of(pid);
    assert_eq!(
        instances.len(),
        2,
        "one server and one authorizer instance: {instances:?}"
    );

    signal(pid, "-INT");
    let exited = wait_until(Duration::from_secs(20), || {
        matches!(dev.child.try_wait(), Ok(Some(_)))
    });
    assert!(exited, "mcpctl dev did not stop on SIGINT");
    let status = dev.child.wait().unwrap();
    assert!(status.success(), "{status}");
    for p in instances {
        assert!(!alive(p), "instance {p} survived Ctrl-C");
    }
    assert!(
        !state_file(&dev.dir, "endpoint").exists(),
        "the endpoint file must go with the stack"
    );
}

#[test]
fn sigkill_of_dev_takes_its_instances_along() {
    let key = "dev-test-key-0123456789abcdef";
    let mut dev = start("sigkill", &["--api-key", key]);
    assert_eq!(dev.banner["api_key"], key);
    assert_eq!(tools_list(dev.port, key).0, 200);
    let instances = children_of(dev.child.id());
    assert_eq!(instances.len(), 2, "{instances:?}");

    dev.child.kill().unwrap();
    dev.child.wait().unwrap();
    let gone = wait_until(Duration::from_secs(10), || {
        instances.iter().all(|p| !alive(*p))
    });
    assert!(
        gone,
        "instances outlived a SIGKILLed mcpctl dev: {instances:?}"
    );
}

#[test]
fn sigterm_stops_dev_too() {
    let mut dev = start("sigterm", &[]);
    let key = dev.banner["api_key"].as_str().unwrap().to_string();
    assert_eq!(tools_list(dev.port, &key).0, 200);
    let instances = children_of(dev.child.id());
    signal(dev.child.id(), "-TERM");
    assert!(wait_until(Duration::from_secs(20), || matches!(
        dev.child.try_wait(),
        Ok(Some(_))
    )));
    for p in instances {
        assert!(!alive(p), "instance {p} survived SIGTERM");
    }
}

/// `mcpctl invoke --local` through the dev stack with the key as `x-api-key` and, with
/// `--bearer`, as `Authorization: Bearer`; a wrong key is refused either way.
#[test]
fn invoke_reaches_the_dev_stack_with_either_key_header() {
    let dev = start("invoke-headers", &[]);
    let key = dev.banner["api_key"].as_str().unwrap().to_string();
    let invoke = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mcpctl"))
            .arg("-c")
            .arg(dev.dir.join("deploy.toml"))
            .args(["invoke", "--local"])
            .args(extra)
            .arg("tools/list")
            .env_remove("MCPCTL_API_KEY")
            .output()
            .unwrap()
    };
    for extra in [&[][..], &["--bearer"][..]] {
        let out = invoke(extra);
        assert!(
            out.status.success(),
            "{extra:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("calculate"));
        let mut wrong = extra.to_vec();
        wrong.extend(["--api-key", "0000"]);
        let out = invoke(&wrong);
        assert!(!out.status.success(), "{wrong:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("HTTP 403"), "{wrong:?}: {err}");
        assert!(!err.contains(&key), "the key leaked: {err}");
    }
}
