//! Every bad deploy.toml value, through the `mcpctl` binary: one line on stderr that names the
//! file, the line, the key and what is allowed, and nothing done. No AWS is needed: the config is
//! refused before any call (the endpoint points at a closed port in case one slipped through).

use std::path::PathBuf;
use std::process::Command;

use mcpctl_testkit::free_port;

struct Case {
    toml: &'static str,
    /// The key the message must name.
    key: &'static str,
    /// The line of deploy.toml it must point at (a table's header for a bad entry of a table).
    line: usize,
    /// A word of what is allowed.
    allowed: &'static str,
}

const CASES: &[Case] = &[
    Case {
        toml: "name = \"has space\"",
        key: "name",
        line: 1,
        allowed: "letters, digits",
    },
    Case {
        toml: "name = \"1abc\"",
        key: "name",
        line: 1,
        allowed: "starting with a letter",
    },
    Case {
        toml: "name = \"\"",
        key: "name",
        line: 1,
        allowed: "1-40",
    },
    Case {
        toml: "name = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
        key: "name",
        line: 1,
        allowed: "1-40",
    },
    Case {
        toml: "name = \"a\"\nregion = \"mars\"",
        key: "region",
        line: 2,
        allowed: "us-east-1",
    },
    Case {
        toml: "package = \"docker\"",
        key: "package",
        line: 1,
        allowed: "zip",
    },
    Case {
        toml: "[server]\nmemory_mb = 64",
        key: "server.memory_mb",
        line: 2,
        allowed: "128 and 10240",
    },
    Case {
        toml: "[authorizer]\nmemory_mb = 20000",
        key: "authorizer.memory_mb",
        line: 2,
        allowed: "128 and 10240",
    },
    Case {
        toml: "[server]\ntimeout_s = 30",
        key: "server.timeout_s",
        line: 2,
        allowed: "30 s",
    },
    Case {
        toml: "[server]\ntimeout_s = 0",
        key: "server.timeout_s",
        line: 2,
        allowed: "between 1 and",
    },
    Case {
        toml: "[authorizer]\ntimeout_s = 60",
        key: "authorizer.timeout_s",
        line: 2,
        allowed: "between 1 and",
    },
    Case {
        toml: "[server]\nlog_retention_days = 2",
        key: "server.log_retention_days",
        line: 2,
        allowed: "retention periods",
    },
    Case {
        toml: "[authorizer]\nlog_retention_days = 0",
        key: "authorizer.log_retention_days",
        line: 2,
        allowed: "retention periods",
    },
    Case {
        toml: "[authorizer]\ncache_ttl_s = 9999",
        key: "authorizer.cache_ttl_s",
        line: 2,
        allowed: "between 0 and 3600",
    },
    Case {
        toml: "[authorizer]\nsecret_cache_ttl_s = 3601",
        key: "authorizer.secret_cache_ttl_s",
        line: 2,
        allowed: "between 0 and 3600",
    },
    Case {
        toml: "[server.env]\nAWS_REGION = \"x\"",
        key: "server.env",
        line: 1,
        allowed: "reserves",
    },
    Case {
        toml: "[server.env]\n\"1-bad\" = \"x\"",
        key: "server.env",
        line: 1,
        allowed: "letters, digits and '_'",
    },
    Case {
        toml: "[api]\nstage = \"a b\"",
        key: "api.stage",
        line: 2,
        allowed: "$default",
    },
    Case {
        toml: "[api]\nthrottling_rate = 0.0",
        key: "api.throttling_rate",
        line: 2,
        allowed: "positive",
    },
    Case {
        toml: "[api]\nthrottling_burst = 0",
        key: "api.throttling_burst",
        line: 2,
        allowed: "at least 1",
    },
    Case {
        toml: "[tags]\n\"aws:x\" = \"y\"",
        key: "tags",
        line: 1,
        allowed: "aws:",
    },
    // Unknown keys, wrong types and broken TOML name the line and the key too.
    Case {
        toml: "name = \"a\"\n\n[server]\nmemory = 512",
        key: "memory",
        line: 4,
        allowed: "memory_mb",
    },
    Case {
        toml: "[authorizer]\ncache_ttl_s = \"five\"",
        key: "authorizer.cache_ttl_s",
        line: 2,
        allowed: "u32",
    },
    Case {
        toml: "name = \"a\"\n[server\nmemory_mb = 256",
        key: "deploy.toml",
        line: 2,
        allowed: "",
    },
    // What AWS itself would refuse, refused first.
    Case {
        toml: "name = \"MyApp\"\npackage = \"image\"",
        key: "name",
        line: 1,
        allowed: "use a lower-case name or package = \"zip\"",
    },
    Case {
        toml: "[authorizer]\ntimeout_s = 11",
        key: "authorizer.timeout_s",
        line: 2,
        allowed: "between 1 and 10",
    },
    Case {
        toml: "[server.env]\nA = \"x\"",
        key: "server.env",
        line: 1,
        allowed: "at least 2 characters",
    },
    Case {
        toml: "[api]\nthrottling_burst = 3000000000",
        key: "api.throttling_burst",
        line: 2,
        allowed: "at most 2147483647",
    },
    Case {
        toml: "[api.cors]\nmax_age_s = 86401",
        key: "api.cors.max_age_s",
        line: 2,
        allowed: "between 0 and 86400",
    },
    Case {
        toml: "[tags]\n\"a#b\" = \"x\"",
        key: "tags",
        line: 1,
        allowed: "letters A-Z a-z, digits, spaces",
    },
    Case {
        toml: "[tags]\n\"mcpctl:stack\" = \"x\"",
        key: "tags",
        line: 1,
        allowed: "reserved for mcpctl",
    },
    Case {
        toml: "name = \"a\"\n[stages.prod]\nserver_memory_mb = 64",
        key: "stages.prod.server_memory_mb",
        line: 3,
        allowed: "128 and 10240",
    },
];

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpctl-config-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mcpctl(dir: &PathBuf, args: &[&str]) -> std::process::Output {
    let closed = format!("http://127.0.0.1:{}", free_port());
    Command::new(env!("CARGO_BIN_EXE_mcpctl"))
        .args(args)
        .current_dir(dir)
        .env_remove("AWS_PROFILE")
        .env_remove("MCPCTL_CONFIG")
        .env("AWS_ENDPOINT_URL", &closed)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("mcpctl runs")
}

#[test]
fn every_bad_value_is_one_line_naming_key_line_and_what_is_allowed() {
    let dir = scratch("deploy");
    std::fs::create_dir_all(dir.join("prebuilt")).unwrap();
    let mut failures = Vec::new();
    for case in CASES {
        std::fs::write(dir.join("deploy.toml"), case.toml).unwrap();
        let out = mcpctl(&dir, &["deploy", "--prebuilt", "prebuilt"]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let one_line = err.trim_end().lines().count() == 1;
        let ok = !out.status.success()
            && one_line
            && err.starts_with("error: ")
            && err.contains(&format!("deploy.toml:{}", case.line))
            && err.contains(case.key)
            && err.contains(case.allowed)
            && !err.contains("panicked");
        if !ok {
            failures.push(format!("{:?} -> exit {}: {err}", case.toml, out.status));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_command_that_reads_deploy_toml_refuses_it_the_same_way() {
    let dir = scratch("commands");
    std::fs::write(dir.join("deploy.toml"), "[server]\ntimeout_s = 30\n").unwrap();
    for args in [
        &["deploy"][..],
        &["destroy", "--yes"],
        &["rotate-key"],
        &["invoke", "tools/list"],
    ] {
        let out = mcpctl(&dir, args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{args:?} accepted a bad deploy.toml");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.contains("deploy.toml:2") && err.contains("server.timeout_s"),
            "{args:?}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// deploy.toml leaves room for exactly the tags the stack lock adds to its log group: every
/// `mcpctl:lock-…` tag of the lock module must be counted in `MCPCTL_LOCK_TAGS`, and no more.
#[test]
fn the_tag_budget_counts_every_tag_of_the_stack_lock() {
    let source = include_str!("../src/lock.rs");
    let mut in_lock: Vec<&str> = source
        .split('"')
        .filter(|s| s.starts_with("mcpctl:lock-") && !s.contains(char::is_whitespace))
        .collect();
    in_lock.sort_unstable();
    in_lock.dedup();
    let mut counted: Vec<&str> = mcpctl_stack::config::MCPCTL_LOCK_TAGS
        .iter()
        .copied()
        .filter(|t| *t != mcpctl_stack::names::STACK_TAG)
        .collect();
    counted.sort_unstable();
    assert_eq!(in_lock, counted);
}
