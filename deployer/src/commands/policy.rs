//! `mcpctl policy`: the IAM policy the principal running mcpctl needs for this stack, and no
//! more: every action on resources named after the stack, listing calls where AWS allows no
//! narrower resource. Attach it to a CI role instead of an administrator's keys.
//!
//! The account is a wildcard: the policy is attached in the account it acts on. API Gateway's
//! HTTP APIs get random ids, so their actions are scoped to the region's `/apis` paths.

use anyhow::Result;
use serde_json::{json, Value};

use crate::resources::partition;
use crate::stack::{Scope, STACK};
use crate::Cli;

#[derive(clap::Args, Debug)]
pub struct Args {}

/// What each statement lets mcpctl do, and why it needs it.
pub fn document(config: &mcpctl_stack::Config) -> Value {
    let names = mcpctl_stack::StackNames::new(config.name.clone());
    let p = partition(&config.region);
    let r = &config.region;
    let statement = |sid: &str, actions: &[&str], resources: Vec<String>| json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources});
    let oauth = config.auth.mode == mcpctl_stack::config::AuthMode::OAuth;
    let oauth_function = mcpctl_stack::oauth::function_name(config);
    let mut function_arns = vec![
        format!("arn:{p}:lambda:{r}:*:function:{}", names.server_function()),
        format!(
            "arn:{p}:lambda:{r}:*:function:{}",
            names.authorizer_function()
        ),
    ];
    let mut role_arns = vec![
        format!("arn:{p}:iam::*:role/{}", names.server_role()),
        format!("arn:{p}:iam::*:role/{}", names.authorizer_role()),
    ];
    // Secrets Manager appends `-` and six random characters to the name.
    let mut secret_arns = vec![format!(
        "arn:{p}:secretsmanager:{r}:*:secret:{}-??????",
        names.secret()
    )];
    let mut groups = vec![
        names.log_group(&names.server_function()),
        names.log_group(&names.authorizer_function()),
        names.lock(),
    ];
    // `[auth] mode = "oauth"`: the authorization server's parts (docs/oauth.md).
    if oauth {
        function_arns.push(format!("arn:{p}:lambda:{r}:*:function:{oauth_function}"));
        role_arns.push(format!(
            "arn:{p}:iam::*:role/{}",
            crate::stack::oauth_role_name(config)
        ));
        secret_arns.push(format!(
            "arn:{p}:secretsmanager:{r}:*:secret:{}-??????",
            mcpctl_stack::oauth::signing_secret_name(config)
        ));
        groups.push(names.log_group(&oauth_function));
    }
    let mut log_groups = Vec::new();
    for group in groups {
        log_groups.push(format!("arn:{p}:logs:{r}:*:log-group:{group}"));
        log_groups.push(format!("arn:{p}:logs:{r}:*:log-group:{group}:*"));
    }
    // Each statement grants the actions the stack declaration lists for its parts.
    let actions = |scope: Scope| -> Vec<&'static str> {
        let mut all: Vec<&'static str> = STACK
            .iter()
            .filter(|part| part.scope() == scope)
            .flat_map(|part| part.actions().iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [
            statement(
                "ApiKeySecret",
                &actions(Scope::Secret),
                secret_arns,
            ),
            statement("FunctionRoles", &actions(Scope::Roles), role_arns.clone()),
            json!({
                // The one managed policy deploy attaches; detaching others (drift repair) only
                // ever takes permissions away.
                "Sid": "AttachOnlyLambdaBasicExecution",
                "Effect": "Allow",
                "Action": ["iam:AttachRolePolicy"],
                "Resource": role_arns.clone(),
                "Condition": {"ArnEquals": {"iam:PolicyARN": format!(
                    "arn:{p}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
                )}},
            }),
            json!({
                "Sid": "PassRolesToLambdaOnly",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": role_arns,
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            }),
            statement("Functions", &actions(Scope::Functions), function_arns),
            // The stack lock is a log group too (create, tag, read, delete).
            statement("LogGroupsAndStackLock", &actions(Scope::LogGroups), log_groups),
            statement(
                "HttpApi",
                &actions(Scope::HttpApi),
                vec![
                    format!("arn:{p}:apigateway:{r}::/apis"),
                    format!("arn:{p}:apigateway:{r}::/apis/*"),
                    format!("arn:{p}:apigateway:{r}::/tags/*"),
                ],
            ),
            statement(
                "ServerImageRepository",
                &actions(Scope::Repository),
                vec![format!(
                    "arn:{p}:ecr:{r}:*:repository/{}",
                    names.ecr_repository()
                )],
            ),
            statement(
                // These take no narrower resource in IAM and change nothing: DescribeLogGroups
                // finds the log groups and the lock by exact name prefix; destroy lists
                // functions and roles to name those tagged with the stack that it did not make.
                "FindStackResources",
                &[
                    "logs:DescribeLogGroups",
                    "lambda:ListFunctions",
                    "iam:ListRoles",
                ],
                vec!["*".to_string()],
            ),
        ],
    })
}

pub async fn run(cli: &Cli, _args: &Args) -> Result<()> {
    let config = super::load_config(cli)?;
    // Text or JSON, the policy is JSON: it is pasted as is.
    super::print_json(&document(&config))
}
