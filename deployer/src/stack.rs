//! The stack, declared once: every AWS resource of a deployment in dependency order, with its
//! label, how destroy removes it, how it is looked up by exact name or id afterwards, and the
//! IAM actions mcpctl needs for it. `deploy` applies [`STACK`] in order, `plan` previews it in
//! the same order, `destroy` walks it backwards and checks with [`Part::left`] that nothing is
//! left, and `policy` collects [`Part::actions`]. Adding a resource: its module under
//! `resources/`, one [`Part`] here, and the arms the compiler then asks for.

use anyhow::Result;
use mcpctl_stack::config::{AuthMode, Package};
use mcpctl_stack::names::STACK_TAG;
use mcpctl_stack::Config;

use crate::aws;
use crate::resources::{api, function, iam, integration, logs, repository, secret, Ctx};
use crate::steps::Change;

/// One resource of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Secret,
    ServerRole,
    AuthorizerRole,
    ServerLogGroup,
    AuthorizerLogGroup,
    Repository,
    Image,
    ServerFunction,
    AuthorizerFunction,
    HttpApi,
    Integration,
    Authorizer,
    Routes,
    Stage,
    ServerPermission,
    AuthorizerPermission,
    // `[auth] mode = "oauth"` only (docs/oauth.md).
    /// The token signing key's secret.
    OAuthSecret,
    OAuthRole,
    OAuthLogGroup,
    /// The authorization server.
    OAuthFunction,
    /// Its AWS_PROXY integration; the OAuth routes of [`Part::Routes`] go to it.
    OAuthIntegration,
    OAuthPermission,
}

/// Every part in the order deploy creates them (each needs only parts before it).
pub const STACK: [Part; 22] = [
    Part::Secret,
    Part::OAuthSecret,
    Part::ServerRole,
    Part::AuthorizerRole,
    Part::OAuthRole,
    Part::ServerLogGroup,
    Part::AuthorizerLogGroup,
    Part::OAuthLogGroup,
    Part::Repository,
    Part::Image,
    Part::ServerFunction,
    Part::AuthorizerFunction,
    Part::OAuthFunction,
    Part::HttpApi,
    Part::Integration,
    Part::OAuthIntegration,
    Part::Authorizer,
    Part::Routes,
    Part::Stage,
    Part::ServerPermission,
    Part::AuthorizerPermission,
    Part::OAuthPermission,
];

/// Which IAM policy statement of `mcpctl policy` a part's actions go to (each statement has its
/// own resource ARNs, see `commands/policy.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    Secret,
    Roles,
    Functions,
    LogGroups,
    HttpApi,
    Repository,
}

impl Part {
    /// The AWS name of the resource (for parts that live inside another, the name of what they
    /// belong to): what it is looked up by.
    pub fn name(self, ctx: &Ctx<'_>) -> String {
        let names = &ctx.names;
        match self {
            Part::Secret => names.secret(),
            Part::ServerRole => names.server_role(),
            Part::AuthorizerRole => names.authorizer_role(),
            Part::ServerLogGroup => names.log_group(&names.server_function()),
            Part::AuthorizerLogGroup => names.log_group(&names.authorizer_function()),
            Part::Repository | Part::Image => names.ecr_repository(),
            Part::ServerFunction | Part::ServerPermission => names.server_function(),
            Part::AuthorizerFunction | Part::AuthorizerPermission => names.authorizer_function(),
            Part::HttpApi | Part::Integration | Part::Routes => names.api(),
            Part::Authorizer => names.authorizer(),
            Part::Stage => ctx.config.api.stage.clone(),
            Part::OAuthSecret => mcpctl_stack::oauth::signing_secret_name(ctx.config),
            Part::OAuthRole => oauth_role_name(ctx.config),
            Part::OAuthLogGroup => names.log_group(&mcpctl_stack::oauth::function_name(ctx.config)),
            Part::OAuthFunction | Part::OAuthPermission => {
                mcpctl_stack::oauth::function_name(ctx.config)
            }
            Part::OAuthIntegration => names.api(),
        }
    }

    /// The step label every command shows for it: what it is, and its name.
    pub fn label(self, ctx: &Ctx<'_>) -> String {
        let kind = match self {
            Part::Secret | Part::OAuthSecret => "secret",
            Part::ServerRole | Part::AuthorizerRole | Part::OAuthRole => "role",
            Part::ServerLogGroup | Part::AuthorizerLogGroup | Part::OAuthLogGroup => "log group",
            Part::Repository => "repository",
            Part::Image => "image",
            Part::ServerFunction | Part::AuthorizerFunction | Part::OAuthFunction => "function",
            Part::HttpApi => "http api",
            Part::Integration => return "integration (AWS_PROXY, payload 2.0)".to_string(),
            Part::OAuthIntegration => {
                return format!(
                    "integration {} (AWS_PROXY, payload 2.0)",
                    mcpctl_stack::oauth::function_name(ctx.config)
                )
            }
            Part::Authorizer => "authorizer",
            Part::Routes => return "routes".to_string(),
            Part::Stage => "stage",
            Part::ServerPermission | Part::AuthorizerPermission | Part::OAuthPermission => {
                "permission"
            }
        };
        format!("{kind} {}", self.name(ctx))
    }

    /// Whether deploy (and plan) make this part for `config` (its `package` and `[auth] mode`).
    pub fn deployed_with(self, config: &Config) -> bool {
        match self {
            Part::Repository | Part::Image => config.package == Package::Image,
            p if p.is_oauth() => config.auth.mode == AuthMode::OAuth,
            _ => true,
        }
    }

    /// A part of the authorization server, made only with `[auth] mode = "oauth"`.
    pub fn is_oauth(self) -> bool {
        matches!(
            self,
            Part::OAuthSecret
                | Part::OAuthRole
                | Part::OAuthLogGroup
                | Part::OAuthFunction
                | Part::OAuthIntegration
                | Part::OAuthPermission
        )
    }

    /// Why deploy removes a part `config` does not use (see [`Part::deployed_with`]).
    pub fn unused_because(self, config: &Config) -> String {
        if self.is_oauth() {
            "not used with [auth] mode = \"api-key\"".to_string()
        } else {
            let package = match config.package {
                Package::Zip => "zip",
                Package::Image => "image",
            };
            format!("not used with package = \"{package}\"")
        }
    }

    /// Whether deploy removes this part itself when `config` does not use it: parts with a
    /// [`Part::removed_with`] go with their parent, except the oauth integration, which lives
    /// in the API the stack keeps.
    pub fn retired_alone(self) -> bool {
        self.removed_with().is_none() || self == Part::OAuthIntegration
    }

    /// The part whose deletion takes this one with it: AWS deletes an API's integration,
    /// authorizer, routes and stage with the API, a function's permissions with the function,
    /// a repository's images with the repository.
    pub fn removed_with(self) -> Option<Part> {
        match self {
            Part::Integration | Part::Authorizer | Part::Routes | Part::Stage => {
                Some(Part::HttpApi)
            }
            Part::ServerPermission => Some(Part::ServerFunction),
            Part::AuthorizerPermission => Some(Part::AuthorizerFunction),
            Part::OAuthIntegration => Some(Part::HttpApi),
            Part::OAuthPermission => Some(Part::OAuthFunction),
            Part::Image => Some(Part::Repository),
            _ => None,
        }
    }

    /// Deletes the part, tolerating that it is already gone (destroy). Only parts that
    /// [`Part::removed_with`] nothing are removed on their own.
    pub async fn remove(self, ctx: &Ctx<'_>, force: bool) -> Result<Change> {
        let name = self.name(ctx);
        match self {
            Part::Secret | Part::OAuthSecret => secret::remove(ctx, &name, force).await,
            Part::ServerRole | Part::AuthorizerRole | Part::OAuthRole => {
                iam::remove(ctx, &name).await
            }
            Part::ServerLogGroup | Part::AuthorizerLogGroup | Part::OAuthLogGroup => {
                logs::remove(ctx, &name).await
            }
            Part::Repository => repository::remove(ctx).await,
            Part::ServerFunction | Part::AuthorizerFunction | Part::OAuthFunction => {
                function::remove(ctx, &name).await
            }
            Part::HttpApi => api::remove(ctx).await,
            // Only when the stack goes back to api-key mode (destroy takes it with the API).
            Part::OAuthIntegration => integration::remove_oauth(ctx).await,
            Part::Image
            | Part::Integration
            | Part::Authorizer
            | Part::Routes
            | Part::Stage
            | Part::ServerPermission
            | Part::AuthorizerPermission
            | Part::OAuthPermission => Ok(Change::Absent),
        }
    }

    /// What is left of this part, looked up by its exact name or id (never by a listing, which
    /// lags behind deletes): labels such as `function s-server`; empty when it is gone.
    /// `api_ids` are the HTTP APIs the stack had when destroy started.
    pub async fn left(self, ctx: &Ctx<'_>, api_ids: &[String]) -> Result<Vec<String>> {
        let stack = ctx.config.name.as_str();
        let ours = |tags: &std::collections::HashMap<String, String>| {
            tags.get(STACK_TAG).map(String::as_str) == Some(stack)
        };
        let name = self.name(ctx);
        let found = |there: bool| {
            if there {
                vec![self.label(ctx)]
            } else {
                vec![]
            }
        };
        Ok(match self {
            // Scheduled for deletion counts as gone.
            Part::Secret | Part::OAuthSecret => found(
                secret::describe_named(ctx, &name)
                    .await?
                    .is_some_and(|s| !s.scheduled_for_deletion && ours(&s.tags)),
            ),
            Part::ServerRole | Part::AuthorizerRole | Part::OAuthRole => found(
                iam::read_role(ctx, &name)
                    .await?
                    .is_some_and(|r| ours(&r.tags)),
            ),
            Part::ServerLogGroup | Part::AuthorizerLogGroup | Part::OAuthLogGroup => {
                found(logs::exists(ctx, &name).await?)
            }
            Part::Repository => found(
                repository::read_repository(ctx, &name)
                    .await?
                    .is_some_and(|r| ours(&r.tags)),
            ),
            Part::ServerFunction | Part::AuthorizerFunction | Part::OAuthFunction => found(
                function::read_function(ctx, &name)
                    .await?
                    .is_some_and(|f| ours(&f.tags)),
            ),
            Part::HttpApi => {
                let mut ids: Vec<String> =
                    api::find(ctx).await?.into_iter().map(|a| a.id).collect();
                for id in api_ids {
                    if !ids.contains(id) && api::get(ctx, id).await?.is_some() {
                        ids.push(id.clone());
                    }
                }
                ids.iter().map(|id| format!("http api {id}")).collect()
            }
            // Looked up in the stack's API, for deploy back in api-key mode; destroy's check
            // does not ask (it goes with the API).
            Part::OAuthIntegration => found(integration::find_oauth(ctx).await?.is_some()),
            Part::Image
            | Part::Integration
            | Part::Authorizer
            | Part::Routes
            | Part::Stage
            | Part::ServerPermission
            | Part::AuthorizerPermission
            | Part::OAuthPermission => vec![],
        })
    }

    /// The statement of `mcpctl policy` this part's actions belong to.
    pub fn scope(self) -> Scope {
        match self {
            Part::Secret | Part::OAuthSecret => Scope::Secret,
            Part::ServerRole | Part::AuthorizerRole | Part::OAuthRole => Scope::Roles,
            Part::ServerLogGroup | Part::AuthorizerLogGroup | Part::OAuthLogGroup => {
                Scope::LogGroups
            }
            Part::Repository | Part::Image => Scope::Repository,
            Part::ServerFunction
            | Part::AuthorizerFunction
            | Part::OAuthFunction
            | Part::ServerPermission
            | Part::AuthorizerPermission
            | Part::OAuthPermission => Scope::Functions,
            Part::HttpApi
            | Part::Integration
            | Part::OAuthIntegration
            | Part::Authorizer
            | Part::Routes
            | Part::Stage => Scope::HttpApi,
        }
    }

    /// Every IAM action deploy, plan, status, destroy, rotate-key and invoke call on this part.
    /// (`iam:AttachRolePolicy` and `iam:PassRole` are granted apart, with conditions.)
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Part::Secret | Part::OAuthSecret => &[
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
            Part::ServerRole | Part::AuthorizerRole | Part::OAuthRole => &[
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
            Part::ServerLogGroup | Part::AuthorizerLogGroup | Part::OAuthLogGroup => &[
                "logs:CreateLogGroup",
                "logs:DeleteLogGroup",
                "logs:DescribeLogStreams",
                "logs:PutRetentionPolicy",
                "logs:FilterLogEvents",
                "logs:ListTagsForResource",
                "logs:TagResource",
            ],
            Part::Repository => &[
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
            ],
            Part::Image => &[
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
            Part::ServerFunction | Part::AuthorizerFunction | Part::OAuthFunction => &[
                "lambda:CreateFunction",
                "lambda:GetFunction",
                "lambda:GetFunctionConfiguration",
                "lambda:UpdateFunctionCode",
                "lambda:UpdateFunctionConfiguration",
                "lambda:DeleteFunction",
                "lambda:TagResource",
                "lambda:ListTags",
            ],
            Part::ServerPermission | Part::AuthorizerPermission | Part::OAuthPermission => &[
                "lambda:AddPermission",
                "lambda:RemovePermission",
                "lambda:GetPolicy",
            ],
            // API Gateway authorizes by HTTP method on the resource path.
            Part::HttpApi
            | Part::Integration
            | Part::OAuthIntegration
            | Part::Authorizer
            | Part::Routes
            | Part::Stage => &[
                "apigateway:GET",
                "apigateway:POST",
                "apigateway:PATCH",
                "apigateway:PUT",
                "apigateway:DELETE",
            ],
        }
    }
}

/// What deploy cannot make of `config` yet, as one error saying what to do: with
/// `[auth] mode = "oauth"` the issuer is the API's origin (docs/oauth.md), which a named stage
/// (`https://HOST/STAGE/mcp`) would not match.
pub fn check_supported(config: &Config) -> Result<()> {
    if config.auth.mode == AuthMode::OAuth && config.api.stage != "$default" {
        anyhow::bail!(
            "[auth] mode = \"oauth\" needs [api] stage = \"$default\" (the OAuth issuer is the API's origin, so the MCP endpoint must be ORIGIN/mcp); remove `stage = {:?}` from [api]",
            config.api.stage
        );
    }
    Ok(())
}

/// The oauth function's role.
pub fn oauth_role_name(config: &Config) -> String {
    format!("{}-role", mcpctl_stack::oauth::function_name(config))
}

/// Everything of the stack still there, by exact lookups. Deleted resources stay visible for a
/// while (IAM, Lambda and API Gateway reads are eventually consistent), so what is still found
/// is looked up again with backoff for up to [`aws::DELETION_VISIBLE`] before it is reported.
pub async fn leftovers(ctx: &Ctx<'_>, api_ids: &[String]) -> Result<Vec<String>> {
    let start = std::time::Instant::now();
    let mut delay = std::time::Duration::from_millis(500);
    let mut said = false;
    loop {
        let mut left = Vec::new();
        for part in STACK.iter().filter(|p| p.removed_with().is_none()) {
            left.extend(part.left(ctx, api_ids).await?);
        }
        if left.is_empty() || start.elapsed() + delay > aws::DELETION_VISIBLE {
            return Ok(left);
        }
        if !said {
            aws::note(&format!(
                "waiting for AWS to stop showing deleted resources: {}",
                left.join(", ")
            ));
            said = true;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(std::time::Duration::from_secs(8));
    }
}

/// Functions and roles named like the stack's (`<stack>-…`) and tagged with it, that are not
/// the stack's own: someone else made them, so destroy leaves them alone and says so. Listed
/// (paginated), so one deleted a moment ago may still show; only foreign names are reported.
pub async fn foreign(ctx: &Ctx<'_>) -> Result<Vec<String>> {
    let aws = ctx.aws;
    let names = &ctx.names;
    let stack = ctx.config.name.as_str();
    let prefix = format!("{stack}-");
    let own_functions = [
        names.server_function(),
        names.authorizer_function(),
        mcpctl_stack::oauth::function_name(ctx.config),
    ];
    let own_roles = [
        names.server_role(),
        names.authorizer_role(),
        oauth_role_name(ctx.config),
    ];
    let mut found = Vec::new();

    let functions = aws
        .lambda
        .list_functions()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws::err("ListFunctions"))?;
    for f in functions {
        let (Some(name), Some(arn)) = (f.function_name(), f.function_arn()) else {
            continue;
        };
        if !name.starts_with(&prefix) || own_functions.iter().any(|n| n == name) {
            continue;
        }
        match aws.lambda.list_tags().resource(arn).send().await {
            Ok(t) if t.tags().and_then(|t| t.get(STACK_TAG)).map(String::as_str) == Some(stack) => {
                found.push(format!("function {name}"))
            }
            Ok(_) => {}
            Err(e) if aws::is_not_found(&e) => {}
            Err(e) => return Err(aws::describe("ListTags", &e)),
        }
    }

    let roles = aws
        .iam
        .list_roles()
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(aws::err("ListRoles"))?;
    for role in roles {
        let name = role.role_name();
        if !name.starts_with(&prefix) || own_roles.iter().any(|n| n == name) {
            continue;
        }
        match aws.iam.list_role_tags().role_name(name).send().await {
            Ok(t)
                if t.tags()
                    .iter()
                    .any(|t| t.key() == STACK_TAG && t.value() == stack) =>
            {
                found.push(format!("role {name}"))
            }
            Ok(_) => {}
            Err(e) if aws::is_not_found(&e) => {}
            Err(e) => return Err(aws::describe("ListRoleTags", &e)),
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_comes_after_what_it_goes_with() {
        for (i, part) in STACK.iter().enumerate() {
            if let Some(parent) = part.removed_with() {
                let at = STACK.iter().position(|p| *p == parent).unwrap();
                assert!(at < i, "{part:?} is declared before {parent:?}");
                assert!(parent.removed_with().is_none());
            }
        }
    }

    #[test]
    fn labels_are_unique() {
        let aws = crate::aws::Aws::offline();
        let config = mcpctl_stack::Config::default();
        let ctx = Ctx::new(&aws, &config);
        let mut labels: Vec<String> = STACK.iter().map(|p| p.label(&ctx)).collect();
        labels.sort();
        labels.dedup();
        assert_eq!(labels.len(), STACK.len());
    }
}
