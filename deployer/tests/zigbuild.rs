//! The real build: `mcpctl deploy` without --prebuilt runs cargo zigbuild for glibc 2.34 and
//! deploy.toml's architecture (arm64 by default, then x86_64: the same stack switched), checks
//! the ELF files, and uploads them to moto; `mcpctl dev --arch arm64` runs exactly that arm64
//! build under qemu-aarch64 (Graviton2's CPU model). Slow (release builds with LTO, minutes each
//! when cold); every other test uses --prebuilt stand-ins.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_success, changed_steps, Project};
use mcpctl_testkit::{first_stdout_line, free_port, http_request, target_dir};

const BINS: [&str; 2] = ["mcpctl-server", "mcpctl-authorizer"];

/// A deploy.toml inside the workspace, so cargo finds the server and authorizer crates.
fn project_config(tag: &str, text: &str) -> PathBuf {
    let project = target_dir().join(format!("mcpctl-zigbuild-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&project).unwrap();
    let config = project.join("deploy.toml");
    std::fs::write(&config, text).unwrap();
    config
}

/// `readelf` (binutils reads every architecture, where this machine's objdump may not): the
/// machine line and every GLIBC version the binary needs.
fn readelf(path: &Path) -> (String, Vec<(u32, u32)>) {
    let run = |flag: &str| {
        let out = Command::new("readelf")
            .args([flag, "-W"])
            .arg(path)
            .output()
            .unwrap();
        assert!(out.status.success(), "readelf {flag} {}", path.display());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let machine = run("-h")
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Machine:")
                .map(|m| m.trim().to_string())
        })
        .unwrap();
    let versions = run("-V")
        .split_whitespace()
        .filter_map(|w| w.strip_prefix("GLIBC_"))
        .filter_map(|v| {
            let mut parts = v.split('.');
            Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
        })
        .collect();
    (machine, versions)
}

fn build_step(summary: &serde_json::Value) -> String {
    summary["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["step"] == "build")
        .and_then(|r| r["change"]["done"].as_str())
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_builds_lambda_binaries_for_each_architecture_and_glibc_2_34() {
    let p = Project::new("");
    let config = project_config("deploy", "name = \"built\"\n");
    let config = config.to_str().unwrap();
    let lambda = aws_sdk_lambda::Client::new(&p.sdk().await);
    let architecture = |name: &'static str| {
        let lambda = lambda.clone();
        async move {
            let c = lambda
                .get_function_configuration()
                .function_name(name)
                .send()
                .await
                .unwrap();
            c.architectures()[0].as_str().to_string()
        }
    };

    for (arch, triple, machine, text) in [
        (
            "arm64",
            "aarch64-unknown-linux-gnu",
            "AArch64",
            "name = \"built\"\n",
        ),
        (
            "x86_64",
            "x86_64-unknown-linux-gnu",
            "Advanced Micro Devices X86-64",
            "name = \"built\"\narchitecture = \"x86_64\"\n",
        ),
    ] {
        std::fs::write(config, text).unwrap();
        let started = Instant::now();
        let out = p.mcpctl(&["-c", config, "deploy", "-o", "json"]);
        assert_success(&out);
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let built = build_step(&summary);
        eprintln!(
            "{arch}: {built} (deploy with the build: {:.0?})",
            started.elapsed()
        );
        assert!(
            built.starts_with(&format!("built for {arch}, needs GLIBC_2.")),
            "{built}"
        );
        // binutils agrees: the right machine, nothing newer than GLIBC_2.34.
        let dir = target_dir().join(triple).join("release");
        for bin in BINS {
            let (found, versions) = readelf(&dir.join(bin));
            assert_eq!(found, machine, "{bin} for {arch}");
            assert!(!versions.is_empty(), "{bin} links glibc");
            for v in versions {
                assert!(v <= (2, 34), "{bin} ({arch}) needs GLIBC_{}.{}", v.0, v.1);
            }
        }
        assert_eq!(architecture("built-server").await, arch);
        assert_eq!(architecture("built-authorizer").await, arch);
        if arch == "x86_64" {
            // The switch from arm64: new code with its architecture, nothing else of the
            // functions.
            let functions: Vec<_> = changed_steps(&summary)
                .into_iter()
                .filter(|(s, _)| s.starts_with("function "))
                .collect();
            assert_eq!(
                functions,
                [
                    (
                        "function built-server".to_string(),
                        serde_json::json!({"updated": ["code", "architecture"]})
                    ),
                    (
                        "function built-authorizer".to_string(),
                        serde_json::json!({"updated": ["code", "architecture"]})
                    ),
                ],
                "{summary}"
            );
        }

        // The same binaries zip to the same bytes, so nothing is uploaded again. (Taken as
        // prebuilt: a second build would pick up whatever the other crates' authors changed
        // meanwhile.)
        let again = p.mcpctl(&[
            "-c",
            config,
            "deploy",
            "-o",
            "json",
            "--prebuilt",
            dir.to_str().unwrap(),
        ]);
        assert_success(&again);
        let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
        assert_eq!(again["mutating_calls"], 0, "{arch}: {again}");
    }
    let _ = std::fs::remove_dir_all(Path::new(config).parent().unwrap());
}

fn qemu_ready() -> bool {
    let on_path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join("qemu-aarch64").is_file());
    on_path && Path::new("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1").is_file()
}

/// Direct children of `pid`, with the program each runs.
fn children_of(pid: u32) -> Vec<(u32, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(p) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
            continue;
        };
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|f| f.parse::<u32>().ok());
        if ppid == Some(pid) {
            if let Ok(exe) = std::fs::read_link(format!("/proc/{p}/exe")) {
                out.push((p, exe));
            }
        }
    }
    out
}

/// `mcpctl dev --arch arm64` on this x86_64 machine: builds the arm64 Lambda binaries (the
/// ones deploy uploads) and runs them under qemu-aarch64, through the local API Gateway and
/// Lambda Runtime API, on 127.0.0.1, each wait bounded.
#[test]
fn dev_runs_the_arm64_lambda_build_under_qemu() {
    if std::env::consts::ARCH == "aarch64" {
        eprintln!("this machine is arm64: --arch arm64 runs natively, nothing to emulate");
        return;
    }
    if !qemu_ready() {
        eprintln!(
            "skipped: qemu-aarch64 or /usr/aarch64-linux-gnu missing (apt-get install qemu-user libc6-arm64-cross)"
        );
        return;
    }
    let config = project_config("dev", "name = \"devarm\"\n");
    let state = config.parent().unwrap().join("state");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcpctl"))
        .arg("-c")
        .arg(&config)
        .args([
            "-o",
            "json",
            "dev",
            "--arch",
            "arm64",
            "--port",
            &port.to_string(),
        ])
        .arg("--state-dir")
        .arg(&state)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("mcpctl starts");
    // The build comes first: a cold arm64 release build with LTO takes minutes here.
    let line = first_stdout_line(&mut child, Duration::from_secs(40 * 60));
    let Some(line) = line else {
        let _ = child.kill();
        panic!("mcpctl dev --arch arm64 printed no banner within 40 minutes");
    };
    let banner: serde_json::Value = serde_json::from_str(&line).expect("the banner is JSON");
    assert_eq!(banner["architecture"], "arm64");
    let binaries = banner["binaries"].as_str().unwrap();
    assert!(
        binaries.contains("under ")
            && binaries.contains("qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu neoverse-n1"),
        "{binaries}"
    );
    let key = banner["api_key"].as_str().unwrap().to_string();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let call = |key: &str| {
        http_request(
            addr,
            "POST",
            "/mcp",
            &[
                ("content-type", "application/json"),
                ("accept", "application/json, text/event-stream"),
                ("x-api-key", key),
            ],
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        )
        .expect("the dev stack answers")
    };
    let (status, _, body) = call(&key);
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, 200, "{body}");
    for tool in [
        "get_weather",
        "calculate",
        "get_server_status",
        "lookup_user",
    ] {
        assert!(body.contains(tool), "{tool} missing from {body}");
    }
    assert_eq!(call("not-the-key-0123456789").0, 403);

    // Both instances are qemu running the arm64 build.
    let instances = children_of(child.id());
    assert_eq!(instances.len(), 2, "{instances:?}");
    for (_, exe) in &instances {
        assert!(exe.ends_with("qemu-aarch64"), "{instances:?}");
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exited = loop {
        if let Ok(Some(s)) = child.try_wait() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exited.is_some_and(|s| s.success()), "{exited:?}");
    for (pid, _) in instances {
        assert!(
            !Path::new(&format!("/proc/{pid}/exe")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s
                    .rsplit(')')
                    .next()
                    .is_some_and(|r| r.trim_start().starts_with('Z'))),
            "instance {pid} survived Ctrl-C"
        );
    }
    let _ = std::fs::remove_dir_all(config.parent().unwrap());
}
