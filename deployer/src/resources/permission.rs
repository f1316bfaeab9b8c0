//! lambda:AddPermission for API Gateway, scoped to this API (the server) or to this API's
//! authorizer (the authorizer), so no other API in the account can invoke the functions.

use anyhow::Result;
use serde_json::Value;

use super::{Ctx, Resource};
use crate::aws;
use crate::steps::Change;

const PRINCIPAL: &str = "apigateway.amazonaws.com";
const STATEMENT_ID: &str = "mcpctl-apigateway-invoke";

pub struct Permission {
    pub function_name: String,
    pub source_arn: String,
}

impl Permission {
    /// Any route of the API may invoke the server.
    pub fn server(ctx: &Ctx<'_>, function_arn: &str, api_id: &str) -> Self {
        Self {
            function_name: ctx.names.server_function(),
            source_arn: format!("{}/*", execute_api_arn(ctx, function_arn, api_id)),
        }
    }

    /// Any route of the API may invoke the oauth function (only the OAuth routes go to it).
    pub fn oauth(ctx: &Ctx<'_>, function_arn: &str, api_id: &str) -> Self {
        Self {
            function_name: mcpctl_stack::oauth::function_name(ctx.config),
            source_arn: format!("{}/*", execute_api_arn(ctx, function_arn, api_id)),
        }
    }

    /// Only this API's authorizer may invoke the authorizer.
    pub fn authorizer(
        ctx: &Ctx<'_>,
        function_arn: &str,
        api_id: &str,
        authorizer_id: &str,
    ) -> Self {
        Self {
            function_name: ctx.names.authorizer_function(),
            source_arn: format!(
                "{}/authorizers/{authorizer_id}",
                execute_api_arn(ctx, function_arn, api_id)
            ),
        }
    }
}

/// `arn:aws:execute-api:<region>:<account>:<api-id>`; the account comes from the function's ARN
/// (`arn:aws:lambda:<region>:<account>:function:<name>`), which saves an STS call.
fn execute_api_arn(ctx: &Ctx<'_>, function_arn: &str, api_id: &str) -> String {
    let account = function_arn.split(':').nth(4).unwrap_or_default();
    format!(
        "arn:{}:execute-api:{}:{account}:{api_id}",
        ctx.partition(),
        ctx.aws.region
    )
}

/// Our statement's SourceArn, if the function's policy has the statement.
#[derive(Debug, Clone, PartialEq)]
pub struct PermissionState {
    pub source_arn: Option<String>,
}

#[derive(Debug, Default, PartialEq)]
pub struct PermissionPlan {
    pub remove: bool,
    pub add: bool,
}

fn statement_source_arn(policy: &str) -> Option<PermissionState> {
    let doc: Value = serde_json::from_str(policy).ok()?;
    let statements = match &doc["Statement"] {
        Value::Array(items) => items.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    statements
        .iter()
        .find(|s| s["Sid"] == STATEMENT_ID)
        .map(|s| PermissionState {
            source_arn: s["Condition"]["ArnLike"]["AWS:SourceArn"]
                .as_str()
                .map(str::to_string),
        })
}

impl Resource for Permission {
    type Current = Option<PermissionState>;
    type Plan = PermissionPlan;
    type Output = ();

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        match ctx
            .aws
            .lambda
            .get_policy()
            .function_name(&self.function_name)
            .send()
            .await
        {
            Ok(out) => Ok(out.policy().and_then(statement_source_arn)),
            Err(e) if aws::is_not_found(&e) => Ok(None),
            Err(e) => Err(aws::describe("GetPolicy", &e)),
        }
    }

    fn plan(&self, _ctx: &Ctx<'_>, current: &Self::Current) -> PermissionPlan {
        match current {
            None => PermissionPlan {
                remove: false,
                add: true,
            },
            Some(s) if s.source_arn.as_deref() == Some(self.source_arn.as_str()) => {
                PermissionPlan::default()
            }
            Some(_) => PermissionPlan {
                remove: true,
                add: true,
            },
        }
    }

    fn change(plan: &PermissionPlan) -> Change {
        match (plan.remove, plan.add) {
            (false, true) => Change::Created,
            (true, _) => Change::Updated(vec!["source arn".into()]),
            _ => Change::Unchanged,
        }
    }

    async fn apply(
        &self,
        ctx: &Ctx<'_>,
        _current: Self::Current,
        plan: PermissionPlan,
    ) -> Result<()> {
        let lambda = &ctx.aws.lambda;
        if plan.remove {
            match lambda
                .remove_permission()
                .function_name(&self.function_name)
                .statement_id(STATEMENT_ID)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if aws::is_not_found(&e) => {}
                Err(e) => return Err(aws::describe("RemovePermission", &e)),
            }
        }
        if plan.add {
            lambda
                .add_permission()
                .function_name(&self.function_name)
                .statement_id(STATEMENT_ID)
                .action("lambda:InvokeFunction")
                .principal(PRINCIPAL)
                .source_arn(&self.source_arn)
                .send()
                .await
                .map_err(aws::err("AddPermission"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_our_statement_and_its_source_arn() {
        let policy = r#"{"Version":"2012-10-17","Statement":[
            {"Sid":"other","Condition":{"ArnLike":{"AWS:SourceArn":"x"}}},
            {"Sid":"mcpctl-apigateway-invoke","Principal":{"Service":"apigateway.amazonaws.com"},
             "Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:1:abc/*"}}}]}"#;
        assert_eq!(
            statement_source_arn(policy),
            Some(PermissionState {
                source_arn: Some("arn:aws:execute-api:us-east-1:1:abc/*".into())
            })
        );
        assert_eq!(statement_source_arn(r#"{"Statement":[]}"#), None);
    }
}
