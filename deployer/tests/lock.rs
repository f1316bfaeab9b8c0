//! The stack lock against moto_server: a live holder elsewhere stops deploy and destroy with one
//! line and `mcpctl unlock` frees it; a deploy killed outright leaves a lock the next deploy on
//! this host takes over; Ctrl-C/SIGTERM release it; a finished deploy or destroy leaves no lock.
//! (Two racing deploys are in convergence.rs.)

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{assert_success, snapshot, stderr, stdout, Project};
use serde_json::Value;

const CONFIG: &str = "name = \"locked\"\nregion = \"us-east-1\"\n";
const LOCK: &str = "/mcpctl/locked/lock";

async fn logs(p: &Project) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&p.sdk().await)
}

async fn lock_exists(p: &Project) -> bool {
    logs(p)
        .await
        .describe_log_groups()
        .log_group_name_prefix(LOCK)
        .send()
        .await
        .unwrap()
        .log_groups()
        .iter()
        .any(|g| g.log_group_name() == Some(LOCK))
}

/// A lock as another machine's deploy would leave it, still within its lease.
async fn hold_from_elsewhere(p: &Project) {
    logs(p)
        .await
        .create_log_group()
        .log_group_name(LOCK)
        .tags("mcpctl:lock-holder", "deploy")
        .tags("mcpctl:lock-host", "build-agent-7")
        .tags("mcpctl:lock-pid", "4242")
        .send()
        .await
        .unwrap();
}

fn deploy_args(p: &Project) -> Vec<String> {
    vec![
        "deploy".into(),
        "--prebuilt".into(),
        p.prebuilt().to_str().unwrap().into(),
    ]
}

fn one_line_error(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "succeeded: {}", stdout(out));
    // The build runs before the lock is taken: its progress lines come first.
    let err = common::without_build_lines(&stderr(out));
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_holder_stops_deploy_and_destroy_until_unlocked() {
    let p = Project::like_aws(CONFIG);
    hold_from_elsewhere(&p).await;
    let before = snapshot(&p).await;
    let args = deploy_args(&p);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let err = one_line_error(&p.mcpctl(&args));
    assert!(
        err.starts_with(
            "error: stack locked is locked by `mcpctl deploy` (pid 4242 on build-agent-7) since "
        ),
        "{err}"
    );
    assert!(err.contains("or run `mcpctl unlock` if it died"), "{err}");
    let err = one_line_error(&p.mcpctl(&["destroy", "--yes"]));
    assert!(err.contains("is locked by `mcpctl deploy`"), "{err}");
    assert_eq!(
        snapshot(&p).await,
        before,
        "a refused run changed something"
    );

    // status says who holds it.
    let status = p.mcpctl(&["status", "-o", "json"]);
    assert_success(&status);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["locked_by"]["host"], "build-agent-7", "{status}");
    let text = stdout(&p.mcpctl(&["status"]));
    assert!(
        text.contains("Lock         held by `mcpctl deploy` (pid 4242 on build-agent-7)"),
        "{text}"
    );

    let unlock = p.mcpctl(&["unlock", "-o", "json"]);
    assert_success(&unlock);
    let unlock: Value = serde_json::from_slice(&unlock.stdout).unwrap();
    assert_eq!(unlock["was_locked"], true, "{unlock}");
    assert_eq!(unlock["holder"]["host"], "build-agent-7", "{unlock}");
    assert_eq!(unlock["holder"]["pid"], 4242, "{unlock}");
    assert!(!lock_exists(&p).await);
    let again = p.mcpctl(&["unlock"]);
    assert_success(&again);
    assert_eq!(stdout(&again).trim(), "locked was not locked.");

    let deployed = p.deploy_json();
    assert_eq!(deployed["lock_calls"].as_u64().map(|n| n >= 2), Some(true));
    assert!(!lock_exists(&p).await, "deploy left its lock behind");
    let status = p.mcpctl(&["status", "-o", "json"]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["locked_by"], Value::Null, "{status}");
    // The lock's own calls do not count as changes: an unchanged redeploy still changes nothing.
    assert_eq!(p.deploy_json()["mutating_calls"], 0);
    let destroyed = p.mcpctl(&["destroy", "--yes", "-o", "json"]);
    assert_success(&destroyed);
    assert!(!lock_exists(&p).await, "destroy left its lock behind");
}

/// Starts `mcpctl deploy` and returns once it has finished its first step, lock held, with the
/// rest of its stderr as it comes.
fn deploy_until_first_step(
    p: &Project,
) -> (std::process::Child, std::thread::JoinHandle<Vec<String>>) {
    let args = deploy_args(p);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = p
        .command(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| !common::is_build_line(l))
        .expect("deploy printed a step");
    assert!(first.starts_with("✓ secret locked/api-key"), "{first}");
    // Keep draining so the deploy never blocks on a full pipe.
    let rest = std::thread::spawn(move || lines.map_while(Result::ok).collect());
    (child, rest)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_deploy_leaves_a_lock_the_next_deploy_takes_over() {
    let p = Project::like_aws(CONFIG);
    let clean = p.deploy_json();
    let expected = snapshot(&p).await;
    p.moto.reset();

    let (mut killed, _) = deploy_until_first_step(&p);
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert!(lock_exists(&p).await, "SIGKILL gives no chance to release");

    let args = deploy_args(&p);
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["-o", "json"]);
    let rerun = p.mcpctl(&args);
    assert_success(&rerun);
    let note = stderr(&rerun);
    assert!(
        note.contains("note: taking over the stack lock held by `mcpctl deploy` (pid ")
            && note.contains("its process has ended"),
        "{note}"
    );
    assert!(!lock_exists(&p).await);
    assert_eq!(snapshot(&p).await, expected, "{clean}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_releases_the_lock_and_says_how_to_finish() {
    let p = Project::like_aws(CONFIG);
    let expected = {
        p.deploy_json();
        let s = snapshot(&p).await;
        p.moto.reset();
        s
    };
    let (mut deploy, rest) = deploy_until_first_step(&p);
    let pid = deploy.id().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    assert!(!deploy.wait().unwrap().success());
    let rest = rest.join().unwrap();
    let error = rest.last().cloned().unwrap_or_default();
    assert_eq!(
        error,
        "error: interrupted by SIGTERM: the stack lock is released; rerun `mcpctl deploy` to \
         finish (every step is safe to repeat)",
        "{rest:?}"
    );
    assert!(
        !lock_exists(&p).await,
        "the interrupted deploy kept its lock"
    );
    // The rerun needs no takeover, and ends where a clean deploy ends.
    let rerun = p.mcpctl(
        &deploy_args(&p)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_success(&rerun);
    assert!(
        !stderr(&rerun).contains("taking over"),
        "{}",
        stderr(&rerun)
    );
    assert_eq!(snapshot(&p).await, expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_lock_timeout_deploy_waits_for_the_holder_to_finish() {
    let p = Project::like_aws(CONFIG);
    hold_from_elsewhere(&p).await;
    let mut args = deploy_args(&p);
    args.extend(["--lock-timeout".into(), "60".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut waiting = p
        .command(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(waiting.stderr.take().unwrap()).lines();
    let first = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| !common::is_build_line(l))
        .expect("deploy says it waits");
    assert!(
        first.starts_with(
            "waiting up to 60 s for the stack lock held by `mcpctl deploy` (pid 4242 on build-agent-7)"
        ),
        "{first}"
    );
    // Still waiting, nothing changed: the holder has not finished.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "stopped waiting early"
    );
    assert!(snapshot(&p).await["functions"]
        .as_object()
        .is_none_or(|f| f.is_empty()));
    // The holder finishes: the waiting deploy goes on and completes.
    assert_success(&p.mcpctl(&["unlock"]));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(waiting.wait().unwrap().success(), "{rest:?}");
    assert!(
        rest.iter()
            .any(|l| l.starts_with("✓ function locked-server: created")),
        "{rest:?}"
    );
    assert!(!lock_exists(&p).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_timeout_that_runs_out_says_so_in_one_line() {
    let p = Project::like_aws(CONFIG);
    hold_from_elsewhere(&p).await;
    let mut args = deploy_args(&p);
    args.extend(["--lock-timeout".into(), "3".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = p.mcpctl(&args);
    assert!(!out.status.success());
    let err = common::without_build_lines(&stderr(&out));
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(lines[0].starts_with("waiting up to 3 s"), "{err}");
    assert!(
        lines[1].starts_with("error: stack locked is locked by"),
        "{err}"
    );
}

/// A holder whose lock was taken over (here: replaced by another holder's, as an expired lease
/// or `mcpctl unlock` + a new deploy would) notices at its next heartbeat, stops, and never
/// deletes its successor's lock. The deploy runs through the realism layer, so it lasts long
/// enough (IAM propagation, Lambda's Pending state) for the swap to happen mid-way.
#[tokio::test(flavor = "multi_thread")]
async fn a_holder_whose_lock_was_taken_over_stops_and_leaves_the_successors_lock() {
    let p = Project::realistic(CONFIG, 3, 1.0);
    let args = deploy_args(&p);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = p
        .command(&args)
        .env("MCPCTL_LOCK_HEARTBEAT_MS", "300")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    // The lock is taken once the first stack step is done.
    let first = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.starts_with("✓ secret"))
        .expect("deploy printed its first step");
    assert!(first.contains("locked/api-key"), "{first}");
    let client = logs(&p).await;
    client
        .delete_log_group()
        .log_group_name(LOCK)
        .send()
        .await
        .unwrap();
    client
        .create_log_group()
        .log_group_name(LOCK)
        .tags("mcpctl:lock-holder", "deploy")
        .tags("mcpctl:lock-host", "build-agent-9")
        .tags("mcpctl:lock-pid", "99")
        .tags("mcpctl:lock-token", "the-successors-token")
        .send()
        .await
        .unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    assert!(!status.success(), "deploy went on: {rest:?}");
    let err = rest.join("\n");
    assert!(
        err.contains("the stack lock was taken over by `mcpctl deploy` (pid 99 on build-agent-9)"),
        "{err}"
    );
    assert!(lock_exists(&p).await, "the successor's lock was deleted");
    let arn = client
        .describe_log_groups()
        .log_group_name_prefix(LOCK)
        .send()
        .await
        .unwrap()
        .log_groups()[0]
        .log_group_arn()
        .unwrap()
        .to_string();
    let tags = client
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()
            .unwrap()
            .get("mcpctl:lock-token")
            .map(String::as_str),
        Some("the-successors-token")
    );
}
