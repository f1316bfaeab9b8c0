//! Interrupted and concurrent runs end where a clean run ends (against moto_server):
//! destroy cut after every one of its steps and rerun leaves exactly what a clean destroy
//! leaves, and two `mcpctl deploy` processes racing on one stack leave one stack, not two
//! (the stack lock; its other cases are in lock.rs).
//! (deploy cut after every step is in lifecycle.rs.)

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{snapshot, stderr, Project};
use serde_json::Value;

const CONFIG: &str = "name = \"conv\"\nregion = \"us-east-1\"\n";

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_destroy_converges_on_rerun_after_every_step() {
    common::destroy_cut_after_every_step(&Project::like_aws(CONFIG)).await;
}

/// How many of each resource moto holds: a duplicate shows as a count above one.
fn counts(s: &Value) -> Vec<(String, usize)> {
    ["secrets", "functions", "roles", "log_groups", "apis"]
        .iter()
        .map(|k| {
            let n = match &s[*k] {
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                _ => 0,
            };
            (k.to_string(), n)
        })
        .collect()
}

// Two deploys of one stack would interleave their steps (both creating the HTTP API, the
// routes, the permissions). The stack lock (src/lock.rs) lets one run and stops the other at
// once with one line, before it changes anything; a rerun converges to a clean deploy.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_deploys_of_one_stack_leave_one_stack() {
    let p = Project::like_aws(CONFIG);
    let prebuilt = p.prebuilt();
    let deploy = ["deploy", "--prebuilt", prebuilt.to_str().unwrap()];
    p.deploy_json();
    let expected = snapshot(&p).await;

    const ROUNDS: usize = 16;
    let mut clean = 0;
    let mut duplicates = Vec::new();
    for round in 1..=ROUNDS {
        p.moto.reset();
        // The second starts a little later each round, so the two meet at different steps.
        let stagger = Duration::from_millis(150 * (round as u64 - 1));
        let racers: Vec<_> = [Duration::ZERO, stagger]
            .iter()
            .map(|delay| {
                std::thread::sleep(*delay);
                p.command(&deploy)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("mcpctl starts")
            })
            .collect();
        let outs: Vec<_> = racers
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        // Either both succeed (one after the other), or the loser says in one line that the
        // stack is locked, and changed nothing.
        for out in &outs {
            if !out.status.success() {
                // The build runs before the lock is taken: its step lines come first.
                let all = stderr(out);
                let err = common::without_build_lines(&all);
                assert_eq!(err.trim_end().lines().count(), 1, "round {round}: {all}");
                assert!(
                    err.starts_with("error: stack conv is locked by `mcpctl deploy`"),
                    "round {round}: {err}"
                );
                assert!(err.contains("rerun when it ends"), "round {round}: {err}");
            }
        }
        assert!(
            outs.iter().any(|o| o.status.success()),
            "round {round}: neither deploy succeeded:\n{}\n{}",
            stderr(&outs[0]),
            stderr(&outs[1])
        );
        let failed: Vec<String> = outs
            .iter()
            .filter(|o| !o.status.success())
            .map(|o| {
                stderr(o)
                    .trim_end()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .to_string()
            })
            .collect();
        eprintln!(
            "round {round}: {} of 2 succeeded {failed:?}",
            2 - failed.len()
        );
        let after = snapshot(&p).await;
        if counts(&after) != counts(&expected) {
            duplicates.push(format!("round {round} ({failed:?}): {:?}", counts(&after)));
            continue;
        }
        // A rerun converges to exactly the clean deploy.
        let rerun = p.deploy_json();
        assert_eq!(snapshot(&p).await, expected, "round {round}: {rerun}");
        clean += 1;
    }
    eprintln!("concurrent deploys: {clean}/{ROUNDS} rounds left exactly one stack");
    assert!(
        duplicates.is_empty(),
        "{clean}/{ROUNDS} rounds left one stack; duplicates in:\n{}",
        duplicates.join("\n")
    );
}
