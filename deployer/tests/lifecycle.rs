//! destroy, rotate-key, fault injection and user errors against moto_server.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{assert_success, stderr, stdout, Project};
use mcpctl_testkit::REGION;
use serde_json::{json, Value};

const CONFIG: &str = "name = \"life\"\nregion = \"us-east-1\"\n";

#[tokio::test(flavor = "multi_thread")]
async fn destroy_removes_everything_and_running_it_twice_is_fine() {
    let p = Project::like_aws(CONFIG);
    p.deploy_json();
    let out = p.mcpctl(&["destroy", "--yes"]);
    assert_success(&out);
    let sdk = p.sdk().await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let apigw = aws_sdk_apigatewayv2::Client::new(&sdk);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk);

    assert!(lambda
        .list_functions()
        .send()
        .await
        .unwrap()
        .functions()
        .is_empty());
    assert!(apigw.get_apis().send().await.unwrap().items().is_empty());
    assert!(logs
        .describe_log_groups()
        .send()
        .await
        .unwrap()
        .log_groups()
        .is_empty());
    let roles = iam.list_roles().send().await.unwrap();
    assert!(
        !roles
            .roles()
            .iter()
            .any(|r| r.role_name().starts_with("life-")),
        "{:?}",
        roles.roles()
    );
    // Without --force the secret waits out AWS's recovery window.
    let secret = secrets
        .describe_secret()
        .secret_id("life/api-key")
        .send()
        .await
        .unwrap();
    assert!(
        secret.deleted_date().is_some(),
        "the secret is not scheduled for deletion"
    );
    assert!(secrets
        .list_secrets()
        .send()
        .await
        .unwrap()
        .secret_list()
        .is_empty());

    let again = p.mcpctl(&["destroy", "--yes", "-o", "json"]);
    assert_success(&again);
    let summary: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(summary["mutating_calls"], 0, "{summary}");
    assert_eq!(summary["left_behind"], json!([]));

    // Deploying again restores the scheduled secret (same key), then --force purges it.
    p.deploy_json();
    let out = p.mcpctl(&["destroy", "--yes", "--force"]);
    assert_success(&out);
    let gone = secrets
        .describe_secret()
        .secret_id("life/api-key")
        .send()
        .await;
    assert!(
        gone.is_err(),
        "the secret still exists after destroy --force"
    );
    assert!(lambda
        .list_functions()
        .send()
        .await
        .unwrap()
        .functions()
        .is_empty());

    // --force also purges a secret an earlier destroy only scheduled.
    p.deploy_json();
    assert_success(&p.mcpctl(&["destroy", "--yes"]));
    assert_success(&p.mcpctl(&["destroy", "--yes", "--force"]));
    let gone = secrets
        .describe_secret()
        .secret_id("life/api-key")
        .send()
        .await;
    assert!(
        gone.is_err(),
        "the scheduled secret survived destroy --force"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rotate_key_keeps_the_old_key_as_previous_until_finalize() {
    let p = Project::like_aws(CONFIG);
    p.deploy_json();
    let key = |stage: &'static str| common::secret_value(&p, "life/api-key", stage);
    let old = key("AWSCURRENT").await.unwrap();

    let out = p.mcpctl(&["rotate-key"]);
    assert_success(&out);
    let new = key("AWSCURRENT").await.unwrap();
    assert_ne!(new, old);
    assert_eq!(new.len(), 64);
    assert_eq!(key("AWSPREVIOUS").await.as_deref(), Some(old.as_str()));
    // The new key is printed once; the old one never.
    assert_eq!(stdout(&out).matches(&new).count(), 1);
    assert!(!stdout(&out).contains(&old) && !stderr(&out).contains(&old));

    // A second rotation would stop the previous key, which still works: refused, unchanged.
    let refused = p.mcpctl(&["rotate-key"]);
    assert!(!refused.status.success());
    let err = stderr(&refused);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("--finalize") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(key("AWSCURRENT").await.as_deref(), Some(new.as_str()));
    assert_eq!(key("AWSPREVIOUS").await.as_deref(), Some(old.as_str()));

    // Deploy never overwrites a rotated key.
    assert_eq!(p.deploy_json()["mutating_calls"], 0);
    assert_eq!(key("AWSCURRENT").await.as_deref(), Some(new.as_str()));

    let out = p.mcpctl(&["rotate-key", "--finalize"]);
    assert_success(&out);
    assert_eq!(key("AWSCURRENT").await.as_deref(), Some(new.as_str()));
    assert_eq!(key("AWSPREVIOUS").await, None);
    assert!(!stdout(&out).contains(&new));
    // The default deploy.toml accepts both key headers, so API Gateway caches no verdict: only
    // the authorizer's 60 s secret cache remains.
    assert!(stdout(&out).contains("up to 60 s"), "{}", stdout(&out));
    let again = p.mcpctl(&["rotate-key", "--finalize"]);
    assert_success(&again);
    assert!(stdout(&again).contains("nothing to finalize"));
}

#[test]
fn rotate_key_before_deploy_says_what_to_do() {
    let p = Project::like_aws(CONFIG);
    let out = p.mcpctl(&["rotate-key"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("mcpctl deploy"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_deploy_converges_on_rerun_after_every_step() {
    common::deploy_cut_after_every_step(&Project::like_aws(CONFIG)).await;
}

fn one_line_error(p: &Project, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = p.mcpctl_env(args, env);
    assert!(!out.status.success(), "mcpctl {args:?} succeeded");
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn user_errors_are_one_clear_line() {
    let p = Project::like_aws(CONFIG);
    let prebuilt = p.prebuilt();
    let deploy = ["deploy", "--prebuilt", prebuilt.to_str().unwrap()];

    p.write_config("name = \"x\"\n[server]\ntimeout_s = 45\n");
    let e = one_line_error(&p, &deploy, &[]);
    assert!(
        e.contains("deploy.toml:3") && e.contains("server.timeout_s"),
        "{e}"
    );

    p.write_config("name = \"x\"\nregion = \"mars-north-1\"\n");
    let e = one_line_error(&p, &deploy, &[]);
    assert!(e.contains("mars-north-1"), "{e}");

    p.write_config(CONFIG);
    let no_creds = [
        ("AWS_ACCESS_KEY_ID", ""),
        ("AWS_SECRET_ACCESS_KEY", ""),
        ("AWS_SESSION_TOKEN", ""),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", ""),
        ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", ""),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", ""),
    ];
    let e = one_line_error(&p, &deploy, &no_creds);
    assert!(
        e.contains("aws configure") && e.contains("AWS_PROFILE"),
        "{e}"
    );

    p.write_config("name = \"life\"\nprofile = \"nope\"\n");
    let e = one_line_error(&p, &deploy, &[]);
    assert!(e.contains("nope"), "{e}");

    p.write_config(CONFIG);
    let e = one_line_error(&p, &["deploy", "--prebuilt", "/nonexistent"], &[]);
    assert!(e.contains("mcpctl-server"), "{e}");
    let e = one_line_error(
        &p,
        &[
            "deploy",
            "--stage",
            "prod",
            "--prebuilt",
            prebuilt.to_str().unwrap(),
        ],
        &[],
    );
    assert!(e.contains("stages.prod"), "{e}");
    let e = one_line_error(&p, &["deploy"], &[("MCPCTL_FAIL_AFTER_STEP", "x")]);
    assert!(e.contains("MCPCTL_FAIL_AFTER_STEP"), "{e}");

    // Nothing was created by any of these.
    assert_eq!(REGION, "us-east-1");
    let out = p.mcpctl(&["destroy", "--yes", "-o", "json"]);
    assert_success(&out);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["mutating_calls"], 0, "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_names_what_is_tagged_with_the_stack_but_not_its_own() {
    let p = Project::like_aws(CONFIG);
    p.deploy_json();
    // A function deploy did not make, but tagged with the stack: destroy must not pretend.
    let sdk = p.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let role = aws_sdk_iam::Client::new(&sdk)
        .get_role()
        .role_name("life-server-role")
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn;
    lambda
        .create_function()
        .function_name("life-extra")
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .handler("bootstrap")
        .role(role)
        .code(
            aws_sdk_lambda::types::FunctionCode::builder()
                .zip_file(aws_sdk_lambda::primitives::Blob::new(
                    std::fs::read("/bin/true").unwrap(),
                ))
                .build(),
        )
        .tags("mcpctl:stack", "life")
        .send()
        .await
        .unwrap();
    // Destroy removes what it made, looked up by exact name, and names the stranger it left.
    let out = p.mcpctl(&["destroy", "--yes"]);
    assert_success(&out);
    let err = stderr(&out);
    assert!(
        err.contains("note: left alone, tagged mcpctl:stack=life but not made by mcpctl: function life-extra"),
        "{err}"
    );
    let out = p.mcpctl(&["destroy", "--yes", "-o", "json"]);
    assert_success(&out);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        summary["foreign"],
        json!(["function life-extra"]),
        "{summary}"
    );
    assert_eq!(summary["left_behind"], json!([]), "{summary}");
}

/// On a terminal, destroy asks for the stack name; a wrong answer deletes nothing. util-linux's
/// `script` provides the terminal.
#[test]
fn destroy_on_a_terminal_asks_for_the_stack_name() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: `script` (util-linux) is not installed");
        return;
    }
    let p = Project::like_aws(CONFIG);
    p.deploy_json();
    let destroy = |answer: &str| {
        let cmd = format!("{} destroy", env!("CARGO_BIN_EXE_mcpctl"));
        let mut child = Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .current_dir(&p.dir)
            .envs(p.moto.env())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{answer}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let refused = destroy("nope");
    assert!(!refused.status.success());
    assert!(
        stdout(&refused).contains("not confirmed: nothing was deleted"),
        "{}",
        stdout(&refused)
    );
    assert_eq!(
        p.deploy_json()["mutating_calls"],
        0,
        "a refused destroy deleted something"
    );

    let confirmed = destroy("life");
    assert!(confirmed.status.success(), "{}", stdout(&confirmed));
    assert!(
        stdout(&confirmed).contains("Destroyed life"),
        "{}",
        stdout(&confirmed)
    );
}

/// `profile = "NAME"` naming an assume-role profile (`role_arn` + `source_profile`) works like
/// `AWS_PROFILE` does: moto's STS answers AssumeRole, and what mcpctl creates lands in the
/// role's account, so the assumed credentials were the ones used.
#[tokio::test(flavor = "multi_thread")]
async fn an_assume_role_profile_in_deploy_toml_is_used_for_plan_and_deploy() {
    let p = Project::like_aws("name = \"prof\"\nregion = \"us-east-1\"\nprofile = \"deployer\"\n");
    let aws_config = p.dir.join("aws-config");
    std::fs::write(
        &aws_config,
        "[profile base]\naws_access_key_id = AKIABASEPROFILE00000\n\
         aws_secret_access_key = base-secret\n\n\
         [profile deployer]\nrole_arn = arn:aws:iam::111122223333:role/deployer\n\
         source_profile = base\nregion = us-east-1\n",
    )
    .unwrap();
    let config_file = aws_config.to_str().unwrap();
    // No credentials in the environment: only the profile can provide them.
    let env = [
        ("AWS_CONFIG_FILE", config_file),
        ("AWS_ACCESS_KEY_ID", ""),
        ("AWS_SECRET_ACCESS_KEY", ""),
        ("AWS_SESSION_TOKEN", ""),
    ];
    let plan = p.mcpctl_env(&["plan", "-o", "json"], &env);
    assert_success(&plan);
    let prebuilt = p.prebuilt();
    let deploy = p.mcpctl_env(
        &[
            "deploy",
            "--prebuilt",
            prebuilt.to_str().unwrap(),
            "-o",
            "json",
        ],
        &env,
    );
    assert_success(&deploy);
    let sdk = p.sdk().await;
    // moto keeps each account apart: the default account has nothing.
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    assert!(lambda
        .list_functions()
        .send()
        .await
        .unwrap()
        .functions()
        .is_empty());
    let summary: Value = serde_json::from_slice(&deploy.stdout).unwrap();
    assert!(summary["mutating_calls"].as_u64().unwrap() > 0, "{summary}");

    // A `credential_process` profile: the process runs and its credentials are used.
    let marker = p.dir.join("credential-process-ran");
    let script = p.dir.join("credentials.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntouch {}\necho '{{\"Version\": 1, \"AccessKeyId\": \"AKIAPROCESS000000000\", \"SecretAccessKey\": \"s\"}}'\n",
            marker.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        &aws_config,
        format!(
            "[profile deployer]\ncredential_process = {}\nregion = us-east-1\n",
            script.display()
        ),
    )
    .unwrap();
    let plan = p.mcpctl_env(&["plan", "-o", "json"], &env);
    assert_success(&plan);
    assert!(marker.exists(), "the credential process did not run");
}
