//! `mcpctl policy`: the IAM policy the principal running mcpctl needs for this stack, and no
//! more: every action on resources named after the stack, listing calls where AWS allows no
//! narrower resource. Attach it to a CI role instead of an administrator's keys.
//!
//! The account is a wildcard: the policy is attached in the account it acts on. API Gateway's
//! HTTP APIs get random ids, so their actions are scoped to the region's `/apis` paths.

use anyhow::Result;
use serde_json::{json, Value};

use crate::resources::partition;
use crate::Cli;

#[derive(clap::Args, Debug)]
pub struct Args {}

/// What each statement lets mcpctl do, and why it needs it.
pub fn document(config: &mcpctl_stack::Config) -> Value {
    let names = mcpctl_stack::StackNames::new(config.name.clone());
    let p = partition(&config.region);
    let r = &config.region;
    let stack = &config.name;
    let statement = |sid: &str, actions: &[&str], resources: Vec<String>| json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources});
    let function_arns = vec![format!("arn:{p}:lambda:{r}:*:function:{stack}-*")];
    // `<stack>-*`, not the two role names: destroy's final check reads the tags of every role
    // named like the stack's.
    let role_arns = vec![format!("arn:{p}:iam::*:role/{stack}-*")];
    let mut log_groups = Vec::new();
    for group in [
        names.log_group(&names.server_function()),
        names.log_group(&names.authorizer_function()),
        names.lock(),
    ] {
        log_groups.push(format!("arn:{p}:logs:{r}:*:log-group:{group}"));
        log_groups.push(format!("arn:{p}:logs:{r}:*:log-group:{group}:*"));
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [
            statement(
                "ApiKeySecret",
                &[
                    "secretsmanager:CreateSecret",
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:PutSecretValue",
                    "secretsmanager:UpdateSecretVersionStage",
                    "secretsmanager:ListSecretVersionIds",
                    "secretsmanager:DeleteSecret",
                    "secretsmanager:RestoreSecret",
                    "secretsmanager:TagResource",
                ],
                // Secrets Manager appends a random suffix to the name.
                vec![format!("arn:{p}:secretsmanager:{r}:*:secret:{}-*", names.secret())],
            ),
            statement(
                "FunctionRoles",
                &[
                    "iam:CreateRole",
                    "iam:GetRole",
                    "iam:DeleteRole",
                    "iam:TagRole",
                    "iam:ListRoleTags",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:DetachRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:PutRolePolicy",
                    "iam:GetRolePolicy",
                    "iam:DeleteRolePolicy",
                    "iam:ListRolePolicies",
                ],
                role_arns.clone(),
            ),
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
            statement(
                "Functions",
                &[
                    "lambda:CreateFunction",
                    "lambda:GetFunction",
                    "lambda:GetFunctionConfiguration",
                    "lambda:UpdateFunctionCode",
                    "lambda:UpdateFunctionConfiguration",
                    "lambda:DeleteFunction",
                    "lambda:AddPermission",
                    "lambda:RemovePermission",
                    "lambda:GetPolicy",
                    "lambda:TagResource",
                    "lambda:ListTags",
                ],
                function_arns,
            ),
            statement(
                "LogGroupsAndStackLock",
                &[
                    "logs:CreateLogGroup",
                    "logs:DeleteLogGroup",
                    "logs:PutRetentionPolicy",
                    "logs:FilterLogEvents",
                    "logs:ListTagsForResource",
                    "logs:TagResource",
                ],
                log_groups,
            ),
            statement(
                "HttpApi",
                &[
                    "apigateway:GET",
                    "apigateway:POST",
                    "apigateway:PATCH",
                    "apigateway:PUT",
                    "apigateway:DELETE",
                ],
                vec![
                    format!("arn:{p}:apigateway:{r}::/apis"),
                    format!("arn:{p}:apigateway:{r}::/apis/*"),
                    format!("arn:{p}:apigateway:{r}::/tags/*"),
                ],
            ),
            statement(
                "ServerImageRepository",
                &[
                    "ecr:CreateRepository",
                    "ecr:DescribeRepositories",
                    "ecr:DeleteRepository",
                    "ecr:GetLifecyclePolicy",
                    "ecr:PutLifecyclePolicy",
                    "ecr:GetRepositoryPolicy",
                    "ecr:SetRepositoryPolicy",
                    "ecr:PutImageTagMutability",
                    "ecr:PutImageScanningConfiguration",
                    "ecr:ListTagsForResource",
                    "ecr:TagResource",
                    "ecr:DescribeImages",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:InitiateLayerUpload",
                    "ecr:UploadLayerPart",
                    "ecr:CompleteLayerUpload",
                    "ecr:PutImage",
                    // CreateFunction from an image checks that the caller may pull it.
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                vec![format!(
                    "arn:{p}:ecr:{r}:*:repository/{}",
                    names.ecr_repository()
                )],
            ),
            statement(
                // These list or describe calls take no narrower resource in IAM; they find the
                // stack's resources by name and tag and change nothing.
                "FindStackResources",
                &[
                    "lambda:ListFunctions",
                    "iam:ListRoles",
                    "secretsmanager:ListSecrets",
                    "logs:DescribeLogGroups",
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
