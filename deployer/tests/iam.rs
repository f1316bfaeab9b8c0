//! The permissions deploy grants, asserted exactly (against moto_server, which loads AWS's
//! managed policies): each role can be assumed by Lambda only; the server role can only write
//! its logs; the authorizer role can also read its one secret and nothing else; each function
//! can be invoked only by API Gateway on behalf of this stack's API.

mod common;

use std::collections::BTreeSet;

use common::{policy, Project};
use serde_json::{json, Value};

const CONFIG: &str = "name = \"iam\"\nregion = \"us-east-1\"\n";
const ACCOUNT: &str = "123456789012";
const BASIC_EXECUTION: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

/// A statement with `Sid` dropped and single values written as one-element lists, so two
/// spellings of the same permission compare equal.
fn normalise(statement: &Value) -> Value {
    let mut s = statement.as_object().cloned().unwrap_or_default();
    s.remove("Sid");
    for key in ["Action", "Resource"] {
        if let Some(Value::String(one)) = s.get(key).cloned() {
            s.insert(key.into(), json!([one]));
        }
    }
    Value::Object(s)
}

fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Array(a) => a.iter().map(normalise).collect(),
        one => vec![normalise(one)],
    }
}

/// Every statement of every policy a role has: trust aside, what it may do.
async fn permissions(iam: &aws_sdk_iam::Client, role: &str) -> Vec<Value> {
    let mut all = Vec::new();
    for arn in common::attached_policy_arns(iam, role).await {
        let arn = arn.as_str();
        let meta = iam.get_policy().policy_arn(arn).send().await.unwrap();
        let version = meta.policy().unwrap().default_version_id().unwrap();
        let doc = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .unwrap();
        let text = doc.policy_version().unwrap().document().unwrap();
        all.extend(statements(&policy(text)));
    }
    let inline = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    for name in inline.policy_names() {
        let doc = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .unwrap();
        all.extend(statements(&policy(doc.policy_document())));
    }
    all
}

fn logs_only() -> Value {
    json!({
        "Effect": "Allow",
        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": ["*"],
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn deploy_grants_exactly_the_least_privileges() {
    let p = Project::new(CONFIG);
    p.deploy_json();
    let sdk = p.sdk().await;
    let iam = aws_sdk_iam::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let apigw = aws_sdk_apigatewayv2::Client::new(&sdk);

    let secret_arn = secrets
        .describe_secret()
        .secret_id("iam/api-key")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let apis = apigw.get_apis().send().await.unwrap();
    assert_eq!(apis.items().len(), 1);
    let api_id = apis.items()[0].api_id().unwrap().to_string();
    // moto has no GetAuthorizers: the routes name the authorizer.
    let routes = apigw.get_routes().api_id(&api_id).send().await.unwrap();
    let authorizer_ids: BTreeSet<_> = routes
        .items()
        .iter()
        .map(|r| r.authorizer_id().expect("every route is authorized"))
        .collect();
    assert_eq!(authorizer_ids.len(), 1);
    let authorizer_id = authorizer_ids.into_iter().next().unwrap().to_string();

    let lambda_trust = vec![normalise(&json!({
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }))];
    for role in ["iam-server-role", "iam-authorizer-role"] {
        let r = iam.get_role().role_name(role).send().await.unwrap();
        let r = r.role().unwrap();
        let trust = policy(r.assume_role_policy_document().unwrap());
        assert_eq!(statements(&trust), lambda_trust, "{role} trust: {trust}");
        assert!(r.permissions_boundary().is_none(), "{role}");
        let arns = common::attached_policy_arns(&iam, role).await;
        assert_eq!(arns, [BASIC_EXECUTION], "{role}");
    }

    // The server writes its logs and can do nothing else.
    assert_eq!(
        permissions(&iam, "iam-server-role").await,
        vec![logs_only()]
    );
    // The authorizer also reads its one secret: no other secret, no other secrets action.
    assert_eq!(
        permissions(&iam, "iam-authorizer-role").await,
        vec![
            logs_only(),
            json!({
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [secret_arn],
            }),
        ]
    );

    // Each function may be invoked by API Gateway for this API only: the server on any of its
    // routes, the authorizer only as this API's authorizer.
    let execute_api = format!("arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}");
    for (function, source) in [
        ("iam-server", format!("{execute_api}/*")),
        (
            "iam-authorizer",
            format!("{execute_api}/authorizers/{authorizer_id}"),
        ),
    ] {
        let arn = lambda
            .get_function()
            .function_name(function)
            .send()
            .await
            .unwrap()
            .configuration()
            .unwrap()
            .function_arn()
            .unwrap()
            .to_string();
        let doc = policy(
            lambda
                .get_policy()
                .function_name(function)
                .send()
                .await
                .unwrap()
                .policy()
                .unwrap(),
        );
        assert_eq!(
            statements(&doc),
            vec![normalise(&json!({
                "Effect": "Allow",
                "Principal": {"Service": "apigateway.amazonaws.com"},
                "Action": "lambda:InvokeFunction",
                "Resource": arn,
                "Condition": {"ArnLike": {"AWS:SourceArn": source}},
            }))],
            "{function}: {doc}"
        );
    }

    // No other role or customer policy carries the stack's name.
    let roles: BTreeSet<_> = iam
        .list_roles()
        .send()
        .await
        .unwrap()
        .roles()
        .iter()
        .map(|r| r.role_name().to_string())
        .filter(|n| n.starts_with("iam-"))
        .collect();
    assert_eq!(
        roles,
        BTreeSet::from(["iam-authorizer-role".into(), "iam-server-role".into()])
    );
    let local = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .send()
        .await
        .unwrap();
    assert!(local.policies().is_empty(), "{:?}", local.policies());
}
