//! `architecture` in deploy.toml against moto_server: x86_64 still deploys, binaries of the other
//! architecture are refused before AWS is touched, a stage can run the other one, and switching
//! a deployed stack converges in one UpdateFunctionCode per function (code and architecture
//! together), after which a redeploy changes nothing. Plan and status show the architecture.

mod common;

use common::{assert_success, changed_steps, path_str, stderr, stdout, Project};
use mcpctl_stack::config::Architecture;
use serde_json::Value;

const X86: &str = "name = \"arch\"\narchitecture = \"x86_64\"\n";
const DEFAULT: &str = "name = \"arch\"\n";

/// What Lambda (moto) reports for `function`: its architectures, and the machine of the
/// bootstrap in the zip deploy uploaded (tied to the function by its CodeSha256).
async fn deployed(p: &Project, function: &str, uploaded: &std::path::Path) -> (Vec<String>, u16) {
    let lambda = aws_sdk_lambda::Client::new(&p.sdk().await);
    let c = lambda
        .get_function_configuration()
        .function_name(format!("arch-{function}"))
        .send()
        .await
        .unwrap();
    let zip = std::fs::read(uploaded.join(format!("{function}.zip"))).unwrap();
    assert_eq!(
        c.code_sha256(),
        Some(common::code_sha256(&zip).as_str()),
        "{function}: the kept zip is what Lambda has"
    );
    let archs = c
        .architectures()
        .iter()
        .map(|a| a.as_str().to_string())
        .collect();
    (archs, common::elf_machine(&common::bootstrap_of(&zip)))
}

fn deploy(p: &Project, uploaded: &std::path::Path) -> Value {
    let out = p.mcpctl_env(
        &[
            "deploy",
            "--prebuilt",
            path_str(&p.prebuilt()),
            "-o",
            "json",
        ],
        &[("MCPCTL_KEEP_PACKAGES", path_str(uploaded))],
    );
    assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn json(p: &Project, args: &[&str]) -> Value {
    let out = p.mcpctl(args);
    assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The plan's updates: (resource, fields).
fn updates(plan: &Value) -> Vec<(String, Value)> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "none" && c["action"] != "note")
        .map(|c| {
            (
                c["resource"].as_str().unwrap().to_string(),
                c["fields"].clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn x86_64_deploys_and_switching_to_arm64_and_back_converges() {
    let p = Project::new(X86);
    let uploaded = p.dir.join("uploaded");

    // x86_64, as before Graviton became the default.
    let first = deploy(&p, &uploaded);
    assert_eq!(first["architecture"], "x86_64");
    let build = first["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["step"] == "build")
        .and_then(|r| r["change"]["done"].as_str())
        .unwrap();
    assert!(
        build.starts_with("prebuilt for x86_64, needs GLIBC_2."),
        "{build}"
    );
    for f in ["server", "authorizer"] {
        assert_eq!(
            deployed(&p, f, &uploaded).await,
            (vec!["x86_64".into()], 62),
            "{f}"
        );
    }
    let status = json(&p, &["status", "-o", "json"]);
    assert_eq!(status["functions"]["server"]["architecture"], "x86_64");
    assert_eq!(status["functions"]["authorizer"]["architecture"], "x86_64");
    let text = stdout(&p.mcpctl(&["status"]));
    assert!(
        text.contains("Server       zip, x86_64, 256 MB / 29 s"),
        "{text}"
    );
    assert_eq!(deploy(&p, &uploaded)["mutating_calls"], 0);

    // deploy.toml now says nothing: arm64. The x86_64 binaries are refused before AWS is
    // touched, by deploy and by plan.
    p.write_config(DEFAULT);
    let refused = p.mcpctl(&["deploy", "--prebuilt", path_str(&p.prebuilt())]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert!(
        err.contains("cannot run on Lambda provided.al2023 (arm64)")
            && err.contains(
                "built for x86_64 (ELF machine 62), but architecture = \"arm64\" runs aarch64"
            ),
        "{err}"
    );
    assert!(!err.contains("✓ secret"), "{err}");
    let refused = p.mcpctl(&["plan", "--prebuilt", path_str(&p.prebuilt())]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("built for x86_64"),
        "{}",
        stderr(&refused)
    );

    // Without the code, plan already sees the architecture change, and says what it builds.
    let plan = json(&p, &["plan", "-o", "json"]);
    assert_eq!(plan["architecture"], "arm64");
    assert_eq!(
        updates(&plan),
        [
            (
                "function arch-server".to_string(),
                serde_json::json!(["architecture"])
            ),
            (
                "function arch-authorizer".to_string(),
                serde_json::json!(["architecture"])
            ),
        ],
        "{plan:#}"
    );
    let text = stdout(&p.mcpctl(&["plan"]));
    assert!(
        text.starts_with("Plan for stack arch in us-east-1, arm64"),
        "{text}"
    );
    assert!(text.contains("built for arm64 at deploy"), "{text}");
    assert!(
        text.contains("~ function arch-server") && text.contains("update (architecture)"),
        "{text}"
    );
    // Status calls it drift, and shows what runs now.
    let text = stdout(&p.mcpctl(&["status"]));
    assert!(text.contains("Server       zip, x86_64,"), "{text}");
    assert!(text.contains("update (architecture)"), "{text}");

    // With the arm64 build: code and architecture, nothing else.
    p.use_stand_ins(Architecture::Arm64);
    let plan = json(
        &p,
        &["plan", "-o", "json", "--prebuilt", path_str(&p.prebuilt())],
    );
    assert_eq!(
        updates(&plan),
        [
            (
                "function arch-server".to_string(),
                serde_json::json!(["code", "architecture"])
            ),
            (
                "function arch-authorizer".to_string(),
                serde_json::json!(["code", "architecture"])
            ),
        ],
        "{plan:#}"
    );
    let switched = deploy(&p, &uploaded);
    let changed = changed_steps(&switched);
    assert_eq!(
        changed,
        [
            (
                "function arch-server".to_string(),
                serde_json::json!({"updated": ["code", "architecture"]})
            ),
            (
                "function arch-authorizer".to_string(),
                serde_json::json!({"updated": ["code", "architecture"]})
            ),
        ],
        "{switched}"
    );
    // One UpdateFunctionCode each: the code and its architecture in the same call.
    assert_eq!(switched["mutating_calls"], 2, "{switched}");
    for f in ["server", "authorizer"] {
        assert_eq!(
            deployed(&p, f, &uploaded).await,
            (vec!["arm64".into()], 183),
            "{f}"
        );
    }
    let again = deploy(&p, &uploaded);
    assert_eq!(again["mutating_calls"], 0, "{again}");
    let status = json(&p, &["status", "-o", "json"]);
    assert_eq!(status["functions"]["server"]["architecture"], "arm64");
    assert_eq!(status["in_sync"], true, "{status:#}");

    // And back.
    p.write_config(X86);
    p.use_stand_ins(Architecture::X86_64);
    let back = deploy(&p, &uploaded);
    assert_eq!(back["mutating_calls"], 2, "{back}");
    for f in ["server", "authorizer"] {
        assert_eq!(
            deployed(&p, f, &uploaded).await,
            (vec!["x86_64".into()], 62),
            "{f}"
        );
    }
    assert_eq!(deploy(&p, &uploaded)["mutating_calls"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stage_runs_the_architecture_it_names() {
    let p = Project::new("name = \"arch\"\n[stages.intel]\narchitecture = \"x86_64\"\n");
    let uploaded = p.dir.join("uploaded");
    // The top level is arm64 (the project starts with its stand-ins), the stage x86_64.
    assert_success(&p.mcpctl(&["deploy", "--prebuilt", path_str(&p.prebuilt())]));
    let refused = p.mcpctl(&[
        "--stage",
        "intel",
        "deploy",
        "--prebuilt",
        path_str(&p.prebuilt()),
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused)
            .contains("built for aarch64 (ELF machine 183), but architecture = \"x86_64\""),
        "{}",
        stderr(&refused)
    );
    p.use_stand_ins(Architecture::X86_64);
    let out = p.mcpctl_env(
        &[
            "--stage",
            "intel",
            "deploy",
            "--prebuilt",
            path_str(&p.prebuilt()),
            "-o",
            "json",
        ],
        &[("MCPCTL_KEEP_PACKAGES", path_str(&uploaded))],
    );
    assert_success(&out);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["stack"], "arch-intel");
    assert_eq!(summary["architecture"], "x86_64");
    let lambda = aws_sdk_lambda::Client::new(&p.sdk().await);
    for (name, arch) in [
        ("arch-server", "arm64"),
        ("arch-authorizer", "arm64"),
        ("arch-intel-server", "x86_64"),
        ("arch-intel-authorizer", "x86_64"),
    ] {
        let c = lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .unwrap();
        assert_eq!(c.architectures()[0].as_str(), arch, "{name}");
    }
    let status = json(&p, &["--stage", "intel", "status", "-o", "json"]);
    assert_eq!(status["functions"]["server"]["architecture"], "x86_64");
    assert_eq!(status["in_sync"], true, "{status:#}");
}

/// `mcpctl dev --arch` runs only binaries of that architecture, and names Lambda's two.
#[test]
fn dev_arch_refuses_binaries_of_the_other_architecture() {
    let p = Project::new(DEFAULT);
    let (server, authorizer) = common::stand_ins(Architecture::Arm64);
    // x86_64 is this machine's: no emulator involved, the aarch64 stand-ins are refused.
    let out = p.mcpctl(&[
        "dev",
        "--arch",
        "x86_64",
        "--server-bin",
        path_str(&server),
        "--authorizer-bin",
        path_str(&authorizer),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.starts_with("error: --arch x86_64: ")
            && err.contains("built for aarch64 (ELF machine 183), but architecture = \"x86_64\""),
        "{err}"
    );
    let out = p.mcpctl(&["dev", "--arch", "amd64"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("invalid value 'amd64'") && err.contains("arm64") && err.contains("x86_64"),
        "{err}"
    );
}
