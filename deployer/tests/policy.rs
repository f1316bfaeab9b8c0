//! `mcpctl policy` against everything mcpctl really calls: a whole lifecycle (deploy, updates,
//! drift repair, image packaging and back, day-two commands, destroy, restore, forced destroy)
//! runs with `MCPCTL_CALL_LOG`, and every operation it sent must be an action the printed policy
//! grants; nothing that changes anything is granted on `*`; moto's IAM accepts the document.

mod common;

use std::collections::BTreeSet;

use common::{assert_success, Project};
use serde_json::Value;

const CONFIG: &str = "name = \"pol\"\nregion = \"us-east-1\"\n";

/// The IAM action an SDK operation is authorized as.
fn iam_action(operation: &str) -> String {
    let (service, name) = operation.split_once('.').expect("Service.Operation");
    let prefix = match service {
        // HTTP APIs are authorized by HTTP verb on the resource path.
        "ApiGatewayV2" => {
            let verb = match name {
                n if n.starts_with("Get") => "GET",
                n if n.starts_with("Create") || n == "TagResource" => "POST",
                n if n.starts_with("Update") => "PATCH",
                n if n.starts_with("Delete") || n == "UntagResource" => "DELETE",
                _ => "PUT",
            };
            return format!("apigateway:{verb}");
        }
        "CloudWatch Logs" => "logs",
        "Secrets Manager" => "secretsmanager",
        "IAM" => "iam",
        "Lambda" => "lambda",
        "ECR" => "ecr",
        other => panic!("mcpctl called {other}, which the test does not know"),
    };
    format!("{prefix}:{name}")
}

fn granted(policy: &Value) -> BTreeSet<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter())
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_policy_grants_every_call_of_a_whole_lifecycle_and_no_more() {
    let p = Project::new(CONFIG);
    let log = p.dir.join("calls.txt");
    let log_str = log.to_str().unwrap().to_string();
    let prebuilt = p.prebuilt();
    let prebuilt = prebuilt.to_str().unwrap();
    let run = |args: &[&str]| p.mcpctl_env(args, &[("MCPCTL_CALL_LOG", log_str.as_str())]);
    let ok = |args: &[&str]| assert_success(&run(args));
    let deploy = ["deploy", "--prebuilt", prebuilt];

    ok(&deploy);
    // Updates: configuration (not tags: moto routes TagResource only for API ARNs, not for
    // stage ARNs), then drift made behind mcpctl's back.
    p.write_config(&format!("{CONFIG}[server]\nmemory_mb = 512\n"));
    ok(&deploy);
    let sdk = p.sdk().await;
    aws_sdk_iam::Client::new(&sdk)
        .detach_role_policy()
        .role_name("pol-server-role")
        .policy_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
        .send()
        .await
        .unwrap();
    aws_sdk_lambda::Client::new(&sdk)
        .update_function_configuration()
        .function_name("pol-authorizer")
        .timeout(9)
        .send()
        .await
        .unwrap();
    ok(&deploy);
    // Day-two commands.
    ok(&["plan", "--prebuilt", prebuilt]);
    ok(&["status"]);
    ok(&["logs", "--since", "1h"]);
    ok(&["rotate-key"]);
    ok(&["rotate-key", "--finalize"]);
    ok(&["config", "cursor"]);
    ok(&["unlock"]);
    // invoke reaches no API from here, but makes its AWS calls first.
    let _ = run(&["invoke", "tools/list"]);
    // The image, then back to a zip (the function is replaced).
    p.write_config(&format!("{CONFIG}package = \"image\"\n"));
    ok(&deploy);
    ok(&deploy);
    p.write_config(CONFIG);
    ok(&deploy);
    // Destroy, restore the scheduled secret, destroy for good.
    ok(&["destroy", "--yes"]);
    ok(&deploy);
    ok(&["destroy", "--yes", "--force"]);

    let calls: BTreeSet<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(calls.len() > 50, "too few distinct calls logged: {calls:?}");
    eprintln!("{} distinct AWS operations in the lifecycle", calls.len());
    for expected in [
        "Lambda.UpdateFunctionConfiguration",
        "IAM.AttachRolePolicy",
        "ECR.UploadLayerPart",
        "Secrets Manager.RestoreSecret",
    ] {
        assert!(
            calls.contains(expected),
            "{expected} not exercised: {calls:?}"
        );
    }

    let out = run(&["policy"]);
    assert_success(&out);
    let policy: Value = serde_json::from_slice(&out.stdout).unwrap();
    let granted = granted(&policy);
    let missing: Vec<String> = calls
        .iter()
        .map(|c| iam_action(c))
        .filter(|a| !granted.contains(a))
        .collect();
    assert!(missing.is_empty(), "called but not granted: {missing:?}");
    // CreateFunction also needs to pass the roles, to Lambda only.
    let pass = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == serde_json::json!(["iam:PassRole"]))
        .expect("a PassRole statement");
    assert_eq!(
        pass["Condition"]["StringEquals"]["iam:PassedToService"],
        "lambda.amazonaws.com"
    );

    // Roles get AWSLambdaBasicExecutionRole and no other managed policy.
    let attach = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Action"] == serde_json::json!(["iam:AttachRolePolicy"]))
        .expect("an AttachRolePolicy statement");
    assert_eq!(
        attach["Condition"]["ArnEquals"]["iam:PolicyARN"],
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    );

    // Least privilege: `*` only for calls that find things, never for one that changes them;
    // every other resource names the stack.
    for statement in policy["Statement"].as_array().unwrap() {
        let resources: Vec<&str> = statement["Resource"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        let actions = statement["Action"].as_array().unwrap();
        if resources == ["*"] {
            for a in actions {
                let op = a.as_str().unwrap().split(':').nth(1).unwrap();
                assert!(
                    op.starts_with("List") || op.starts_with("Describe"),
                    "{op} granted on *"
                );
            }
        } else {
            for r in resources {
                assert!(
                    r.contains("pol") || r.contains(":apigateway:us-east-1::/"),
                    "{r} does not name the stack"
                );
            }
        }
    }

    // IAM accepts the document as a policy.
    aws_sdk_iam::Client::new(&sdk)
        .create_policy()
        .policy_name("mcpctl-pol")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("moto's IAM accepts the policy document");
}
