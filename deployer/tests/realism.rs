//! Every command against AWS as it really behaves: moto behind the realism layer
//! (`testkit/moto_realism.py`: throttling, lists lagging behind creates and deletes, a deleted
//! secret's name staying busy, IAM propagation, Lambda's Pending and InProgress states, CloudWatch
//! Logs' OperationAbortedException), with several seeds. Each command must exit 0 every time,
//! and the state read from moto directly must be the state a clean run (no realism) leaves.

mod common;

use common::{assert_success, snapshot, stderr, Project};
use mcpctl_testkit::realism_seeds;
use serde_json::Value;

const CONFIG: &str = "name = \"real\"\nregion = \"us-east-1\"\n";

/// The lifecycle of the issue: deploy, unchanged redeploy, rotate-key, rotate-key --finalize,
/// destroy, deploy again (restores the secret), destroy --force, deploy right after it, destroy.
/// Returns the snapshots after each deploy and at the end, and how many commands ran.
async fn lifecycle(p: &Project) -> (Vec<Value>, usize) {
    let mut snapshots = Vec::new();
    let mut commands = 0;
    let mut run = |args: &[&str]| {
        commands += 1;
        let out = p.mcpctl(args);
        assert_success(&out);
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
        out
    };
    let prebuilt = p.prebuilt();
    let deploy = [
        "deploy",
        "--prebuilt",
        prebuilt.to_str().unwrap(),
        "-o",
        "json",
    ];

    run(&deploy);
    snapshots.push(snapshot(p).await);
    let again: Value = serde_json::from_slice(&run(&deploy).stdout).unwrap();
    assert_eq!(again["mutating_calls"], 0, "unchanged redeploy: {again}");
    run(&["rotate-key"]);
    run(&["rotate-key", "--finalize"]);
    let destroyed: Value =
        serde_json::from_slice(&run(&["destroy", "--yes", "-o", "json"]).stdout).unwrap();
    assert_eq!(
        destroyed["left_behind"],
        serde_json::json!([]),
        "{destroyed}"
    );
    run(&deploy);
    snapshots.push(snapshot(p).await);
    run(&["destroy", "--yes", "--force"]);
    // Right after a forced delete the secret's name is still busy for a while.
    run(&deploy);
    snapshots.push(snapshot(p).await);
    run(&["destroy", "--yes"]);
    snapshots.push(snapshot(p).await);
    (snapshots, commands)
}

async fn realistic_lifecycle(seed: u64, expected: &[Value]) {
    let p = Project::realistic(CONFIG, seed, 1.0);
    let (got, commands) = lifecycle(&p).await;
    assert_eq!(got.len(), expected.len());
    for (i, (got, expected)) in got.iter().zip(expected).enumerate() {
        assert_eq!(
            got, expected,
            "seed {seed}: state {i} differs from a clean run's"
        );
    }
    let stats = p.moto.realism_stats().expect("the realism layer answers");
    let injected = &stats["injected"];
    let total: u64 = injected
        .as_object()
        .map(|o| o.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    assert!(total > 0, "seed {seed}: nothing was injected: {stats}");
    // One line per seed, for the README's reliability figures.
    println!("realism seed {seed}: {commands} commands, 0 failures, injected {injected}");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_converges_through_the_realism_layer() {
    let (expected, _) = lifecycle(&Project::new(CONFIG)).await;
    for seed in realism_seeds() {
        realistic_lifecycle(seed, &expected).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_deploy_converges_through_the_realism_layer() {
    let seed = realism_seeds()[0];
    common::deploy_cut_after_every_step(&Project::realistic(CONFIG, seed, 0.2)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_destroy_converges_through_the_realism_layer() {
    let seed = realism_seeds()[0];
    // destroy_cut_after_every_step reads the secret of a stack named `conv`.
    let config = "name = \"conv\"\nregion = \"us-east-1\"\n";
    common::destroy_cut_after_every_step(&Project::realistic(config, seed, 0.2)).await;
}
