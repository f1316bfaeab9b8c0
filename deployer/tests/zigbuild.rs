//! The real build: `mcpctl deploy` without --prebuilt runs cargo zigbuild for glibc 2.34,
//! checks the ELF files, and uploads them to moto. Slow (a release build with LTO, minutes when
//! cold); every other test uses --prebuilt stand-ins.

mod common;

use common::{assert_success, Project};
use mcpctl_testkit::target_dir;

const TARGET_DIR: &str = "x86_64-unknown-linux-gnu/release";

#[test]
fn deploy_builds_lambda_binaries_for_glibc_2_34_deterministically() {
    let p = Project::new("");
    // deploy.toml inside the workspace, so cargo finds the server and authorizer crates.
    let project = target_dir().join(format!("mcpctl-zigbuild-test-{}", std::process::id()));
    std::fs::create_dir_all(&project).unwrap();
    let config = project.join("deploy.toml");
    std::fs::write(&config, "name = \"built\"\n").unwrap();
    let config = config.to_str().unwrap();

    let out = p.mcpctl(&["-c", config, "deploy", "-o", "json"]);
    assert_success(&out);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let build = summary["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["step"] == "build")
        .unwrap();
    let built = build["change"]["done"].as_str().unwrap();
    assert!(built.starts_with("built, needs GLIBC_2."), "{built}");

    // binutils agrees: nothing newer than GLIBC_2.34 in either binary.
    for bin in ["mcpctl-server", "mcpctl-authorizer"] {
        let path = target_dir().join(TARGET_DIR).join(bin);
        let dump = std::process::Command::new("objdump")
            .arg("-T")
            .arg(&path)
            .output()
            .unwrap();
        assert!(dump.status.success());
        let text = String::from_utf8_lossy(&dump.stdout);
        for version in text
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("(GLIBC_").or(w.strip_prefix("GLIBC_")))
        {
            let version = version.trim_end_matches(')');
            let minor: u32 = version
                .split('.')
                .nth(1)
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            assert!(minor <= 34, "{bin} needs GLIBC_{version}");
        }
    }

    // The same binaries zip to the same bytes, so nothing is uploaded again. (Taken as prebuilt:
    // a second build would pick up whatever the other crates' authors changed meanwhile.)
    let built = target_dir().join(TARGET_DIR);
    let again = p.mcpctl(&[
        "-c",
        config,
        "deploy",
        "-o",
        "json",
        "--prebuilt",
        built.to_str().unwrap(),
    ]);
    assert_success(&again);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["mutating_calls"], 0, "{again}");
    let _ = std::fs::remove_dir_all(&project);
}
