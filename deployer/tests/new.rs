//! `mcpctl new demo` as a newcomer uses it, in a temporary directory: `cargo test` passes in the
//! project, `mcpctl dev` serves its example tool to the rmcp client with the key, a tool added
//! to its source is in tools/list after a restart, and `mcpctl deploy` (on moto) uploads that
//! project's server binary. The project takes mcpctl's crates from this checkout (path
//! dependencies) and builds into this workspace's target directory with this workspace's
//! Cargo.lock, so the dependencies compiled for the workspace are reused.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use mcpctl_testkit::{first_stdout_line, free_port, mcp, target_dir, workspace_root, MotoServer};

const ADDED_TOOL: &str = r#"
    #[tool(description = "Add two integers (added by the test).")]
    pub async fn add_numbers(&self, Parameters(AddArgs { a, b }): Parameters<AddArgs>) -> String {
        (a + b).to_string()
    }

    // Add a tool: one more `#[tool]` function here, then restart `mcpctl dev`.
"#;

const ADDED_ARGS: &str = r#"
#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct AddArgs {
    pub a: i64,
    pub b: i64,
}
"#;

const MARKER: &str =
    "    // Add a tool: one more `#[tool]` function here, then restart `mcpctl dev`.\n";

fn mcpctl(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mcpctl"));
    cmd.current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("MCPCTL_CONFIG")
        .env_remove("MCPCTL_PREBUILT_DIR")
        .env_remove("MCPCTL_DEV_API_KEY")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null());
    cmd
}

fn cargo(dir: &Path) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .stdin(Stdio::null());
    cmd
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Dev(Child);

impl Drop for Dev {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Dev {
    /// `mcpctl -o json dev` in `dir` (building the project first), up once its banner is out.
    fn start(dir: &Path, port: u16, key: &str) -> (Self, serde_json::Value) {
        let mut child = mcpctl(dir)
            .args(["-o", "json", "dev", "--port", &port.to_string()])
            .args(["--api-key", key])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("mcpctl dev starts");
        // The first run compiles the project's server and the authorizer.
        let line = first_stdout_line(&mut child, Duration::from_secs(3600));
        let dev = Dev(child);
        let line = line.expect("mcpctl dev printed its banner");
        let banner = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the banner is JSON ({e}): {line:?}"));
        (dev, banner)
    }

    fn stop(mut self) {
        let pid = self.0.id().to_string();
        assert!(Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.0.wait().unwrap();
        assert!(status.success(), "mcpctl dev ended with {status}");
    }
}

async fn tool_names(url: &str, key: &str) -> Vec<String> {
    let client = mcp::connect(url, Some(key)).await;
    let tools = client.list_all_tools().await.expect("tools/list answers");
    let names = tools.iter().map(|t| t.name.to_string()).collect();
    let _ = client.cancel().await;
    names
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpctl-new-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn new_project_builds_tests_serves_and_deploys_its_own_server() {
    let tmp = scratch("project");
    let repo = workspace_root();

    // Refusals first: one line each.
    for (name, says) in [
        ("1demo", "must start with a letter"),
        ("my demo", "must be ASCII letters, digits, '-' and '_' only"),
    ] {
        let out = mcpctl(&tmp).args(["new", name]).output().unwrap();
        assert!(!out.status.success(), "{name} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: invalid project name"), "{err}");
        assert!(err.contains(says) && err.lines().count() == 1, "{err}");
    }

    let out = mcpctl(&tmp)
        .args(["new", "demo", "--mcpctl-path"])
        .arg(&repo)
        .output()
        .unwrap();
    ok(&out, "mcpctl new demo");
    let demo = tmp.join("demo");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("mcpctl dev"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let again = mcpctl(&tmp).args(["new", "demo"]).output().unwrap();
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(
        err.trim_end(),
        "error: demo already exists and is not empty: choose another NAME or --path DIR"
    );
    let gitignore = std::fs::read_to_string(demo.join(".gitignore")).unwrap();
    for entry in ["/target/", "/.mcpctl/", "*.key"] {
        assert!(gitignore.lines().any(|l| l == entry), "{gitignore}");
    }
    let readme = std::fs::read_to_string(demo.join("README.md")).unwrap();
    assert!(readme.contains("mcpctl dev") && readme.contains("mcpctl deploy"));
    assert!(readme.contains("rev = \"COMMIT\""), "{readme}");

    // The workspace's versions, so the dependencies already built here are reused.
    std::fs::copy(repo.join("Cargo.lock"), demo.join("Cargo.lock")).unwrap();

    // cargo test, unchanged.
    let out = cargo(&demo).arg("test").output().unwrap();
    ok(&out, "cargo test in the new project");
    let tests = String::from_utf8_lossy(&out.stdout);
    assert!(
        tests.contains("greet_says_hello ... ok") && tests.contains("2 passed"),
        "{tests}"
    );

    // mcpctl dev, unchanged: the example tool, for the key only.
    let key = "new-project-test-key-0123456789";
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/mcp");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (dev, banner) = Dev::start(&demo, port, key);
    assert_eq!(banner["url"], url.as_str());
    assert_eq!(banner["api_key"], key);
    assert_eq!(
        runtime.block_on(tool_names(&url, key)),
        ["greet"],
        "the example project has one tool"
    );
    let greeting = runtime.block_on(async {
        let client = mcp::connect(&url, Some(key)).await;
        let result = mcp::call(&client, "greet", serde_json::json!({"name": "Ada"})).await;
        let _ = client.cancel().await;
        result
    });
    assert_eq!(
        greeting.structured_content,
        Some(serde_json::json!({"message": "Hello, Ada!"})),
        "{greeting:?}"
    );
    assert!(
        runtime
            .block_on(mcp::try_connect(&url, Some("not-the-key-0123456789")))
            .is_err(),
        "a wrong key was accepted"
    );
    dev.stop();

    // One more tool function in the source: there after a restart.
    let main_rs = demo.join("server/src/main.rs");
    let source = std::fs::read_to_string(&main_rs).unwrap();
    assert!(source.contains(MARKER), "{source}");
    let source = source.replacen(MARKER, ADDED_TOOL, 1) + ADDED_ARGS;
    std::fs::write(&main_rs, source).unwrap();
    let (dev, _) = Dev::start(&demo, port, key);
    let mut names = runtime.block_on(tool_names(&url, key));
    names.sort();
    assert_eq!(names, ["add_numbers", "greet"]);
    let sum = runtime.block_on(async {
        let client = mcp::connect(&url, Some(key)).await;
        let result = mcp::call(&client, "add_numbers", serde_json::json!({"a": 2, "b": 40})).await;
        let _ = client.cancel().await;
        result
    });
    assert!(format!("{sum:?}").contains("42"), "{sum:?}");
    dev.stop();

    // The binaries dev built (local profile) are what deploy takes; the zip's bootstrap is the
    // project's own binary, with its added tool in it.
    let local = target_dir().join("local");
    let server = std::fs::read(local.join("demo")).expect("dev built the demo binary");
    assert!(
        contains(&server, b"Add two integers (added by the test)."),
        "the binary dev ran is not the project's"
    );
    let prebuilt = tmp.join("prebuilt");
    std::fs::create_dir_all(&prebuilt).unwrap();
    std::fs::copy(local.join("demo"), prebuilt.join("demo")).unwrap();
    std::fs::copy(
        local.join("mcpctl-authorizer"),
        prebuilt.join("mcpctl-authorizer"),
    )
    .unwrap();
    // This machine's binaries are x86_64 (the arm64 Lambda build has tests of its own).
    let config = demo.join("deploy.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("package = \"demo\""), "{text}");
    std::fs::write(
        &config,
        text.replace("architecture = \"arm64\"", "architecture = \"x86_64\""),
    )
    .unwrap();

    let moto = MotoServer::start();
    let kept = tmp.join("kept");
    let plan = mcpctl(&demo)
        .envs(moto.env())
        .args(["plan"])
        .output()
        .unwrap();
    ok(&plan, "mcpctl plan");
    let plan = String::from_utf8_lossy(&plan.stdout);
    assert!(
        plan.starts_with("Plan for stack demo in us-east-1, x86_64, server package demo")
            && plan.contains("demo built for x86_64 at deploy"),
        "{plan}"
    );
    let out = mcpctl(&demo)
        .envs(moto.env())
        .env("MCPCTL_KEEP_PACKAGES", &kept)
        .args(["deploy", "-o", "json", "--prebuilt"])
        .arg(&prebuilt)
        .output()
        .unwrap();
    ok(&out, "mcpctl deploy");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["server_package"], "demo");
    let build = summary["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["step"] == "build")
        .and_then(|r| r["change"]["done"].as_str())
        .unwrap()
        .to_string();
    assert!(
        build.starts_with("prebuilt for x86_64") && build.ends_with(": demo and mcpctl-authorizer"),
        "{build}"
    );
    let zip = std::fs::read(kept.join("server.zip")).unwrap();
    assert_eq!(
        bootstrap_of(&zip),
        server,
        "the server function's code is the project's binary"
    );
    let deployed_sha = runtime.block_on(async {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(mcpctl_testkit::REGION))
            .endpoint_url(moto.raw_endpoint())
            .credentials_provider(aws_credential_types::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load()
            .await;
        aws_sdk_lambda::Client::new(&sdk)
            .get_function()
            .function_name("demo-server")
            .send()
            .await
            .unwrap()
            .configuration()
            .and_then(|c| c.code_sha256().map(str::to_string))
            .unwrap()
    });
    assert_eq!(deployed_sha, code_sha256(&zip), "moto holds the kept zip");

    let status = mcpctl(&demo)
        .envs(moto.env())
        .arg("status")
        .output()
        .unwrap();
    ok(&status, "mcpctl status");
    assert!(String::from_utf8_lossy(&status.stdout)
        .starts_with("Stack demo in us-east-1, server package demo"));

    let _ = std::fs::remove_dir_all(&tmp);
}

/// Without deploy.toml: one line saying where mcpctl looked and what to do.
#[test]
fn no_deploy_toml_says_where_mcpctl_looked_and_what_to_do() {
    let tmp = scratch("empty");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = mcpctl(&tmp).arg("deploy").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err,
        format!(
            "error: no deploy.toml at {}: run `mcpctl new NAME` to start a project (then cd NAME), or pass -c FILE\n",
            tmp.canonicalize().unwrap().join("deploy.toml").display()
        )
    );
    let _ = std::fs::remove_dir_all(&tmp);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn bootstrap_of(zip: &[u8]) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
    let mut entry = archive.by_name("bootstrap").unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
    bytes
}

fn code_sha256(bytes: &[u8]) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(bytes))
}
