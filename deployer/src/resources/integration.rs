//! The AWS_PROXY integrations (payload 2.0): the server function's, which every MCP route goes
//! to, and with `[auth] mode = "oauth"` the oauth function's, for the OAuth routes.

use anyhow::Result;
use aws_sdk_apigatewayv2::types::IntegrationType;

use super::{Ctx, FieldDiff, Resource, WholeOrFields};
use crate::aws;
use crate::steps::Change;

const PAYLOAD_VERSION: &str = "2.0";
/// HTTP APIs cut every integration at 30 s.
const TIMEOUT_MS: i32 = 30_000;

pub struct Integration {
    pub api_id: String,
    pub function_arn: String,
    /// The server's integration may take over one pointing elsewhere (an older function ARN);
    /// the oauth function's is only ever its own.
    pub reuse_other: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IntegrationState {
    pub id: String,
    pub kind: Option<String>,
    pub uri: Option<String>,
    pub payload_version: Option<String>,
    pub timeout_ms: Option<i32>,
}

impl Resource for Integration {
    type Current = Option<IntegrationState>;
    type Plan = WholeOrFields;
    type Output = String;

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        let all = list(ctx, &self.api_id).await?;
        // Prefer the one already pointing at our function; otherwise (the server's) reuse
        // whatever is there, except the oauth function's.
        if let Some(ours) = all
            .iter()
            .position(|i| i.uri.as_deref() == Some(self.function_arn.as_str()))
        {
            return Ok(all.into_iter().nth(ours));
        }
        if !self.reuse_other {
            return Ok(None);
        }
        let oauth = oauth_suffix(ctx);
        Ok(all
            .into_iter()
            .find(|i| !i.uri.as_deref().is_some_and(|u| u.ends_with(&oauth))))
    }

    fn plan(&self, _ctx: &Ctx<'_>, current: &Self::Current) -> WholeOrFields {
        let Some(cur) = current else {
            return WholeOrFields::create();
        };
        let mut update = Vec::new();
        update.field(
            "type",
            &cur.kind.as_deref(),
            &Some(IntegrationType::AwsProxy.as_str()),
        );
        update.field(
            "uri",
            &cur.uri.as_deref(),
            &Some(self.function_arn.as_str()),
        );
        update.field(
            "payload version",
            &cur.payload_version.as_deref(),
            &Some(PAYLOAD_VERSION),
        );
        update.field("timeout", &cur.timeout_ms, &Some(TIMEOUT_MS));
        WholeOrFields::update(update)
    }

    fn change(plan: &WholeOrFields) -> Change {
        plan.change()
    }

    async fn apply(
        &self,
        ctx: &Ctx<'_>,
        current: Self::Current,
        plan: WholeOrFields,
    ) -> Result<String> {
        let apigw = &ctx.aws.apigw;
        if plan.create {
            let out = apigw
                .create_integration()
                .api_id(&self.api_id)
                .integration_type(IntegrationType::AwsProxy)
                .integration_uri(&self.function_arn)
                .integration_method("POST")
                .payload_format_version(PAYLOAD_VERSION)
                .timeout_in_millis(TIMEOUT_MS)
                .send()
                .await
                .map_err(aws::err("CreateIntegration"))?;
            return Ok(out.integration_id().unwrap_or_default().to_string());
        }
        let id = current.map(|c| c.id).unwrap_or_default();
        if !plan.update.is_empty() {
            apigw
                .update_integration()
                .api_id(&self.api_id)
                .integration_id(&id)
                .integration_type(IntegrationType::AwsProxy)
                .integration_uri(&self.function_arn)
                .integration_method("POST")
                .payload_format_version(PAYLOAD_VERSION)
                .timeout_in_millis(TIMEOUT_MS)
                .send()
                .await
                .map_err(aws::err("UpdateIntegration"))?;
        }
        Ok(id)
    }
}

/// Every integration of the API.
async fn list(ctx: &Ctx<'_>, api_id: &str) -> Result<Vec<IntegrationState>> {
    let out = ctx
        .aws
        .apigw
        .get_integrations()
        .api_id(api_id)
        .send()
        .await
        .map_err(aws::err("GetIntegrations"))?;
    Ok(out
        .items()
        .iter()
        .map(|i| IntegrationState {
            id: i.integration_id().unwrap_or_default().to_string(),
            kind: i.integration_type().map(|t| t.as_str().to_string()),
            uri: i.integration_uri().map(str::to_string),
            payload_version: i.payload_format_version().map(str::to_string),
            timeout_ms: i.timeout_in_millis(),
        })
        .collect())
}

/// How the URI of an integration to the oauth function ends (whatever the account).
fn oauth_suffix(ctx: &Ctx<'_>) -> String {
    format!(
        ":function:{}",
        mcpctl_stack::oauth::function_name(ctx.config)
    )
}

/// The oauth function's integrations in the stack's APIs: (API id, integration id).
pub async fn find_oauth(ctx: &Ctx<'_>) -> Result<Option<(String, String)>> {
    let suffix = oauth_suffix(ctx);
    for api in super::api::find(ctx).await? {
        if let Some(i) = list(ctx, &api.id)
            .await?
            .into_iter()
            .find(|i| i.uri.as_deref().is_some_and(|u| u.ends_with(&suffix)))
        {
            return Ok(Some((api.id, i.id)));
        }
    }
    Ok(None)
}

/// Deletes the oauth function's integrations (a stack back in api-key mode; its routes are
/// gone already, [`super::routes::Routes`] keeps only the MCP ones).
pub async fn remove_oauth(ctx: &Ctx<'_>) -> Result<Change> {
    let mut removed = false;
    // Bounded: one per API of the stack at most, normally one.
    for _ in 0..8 {
        let Some((api_id, id)) = find_oauth(ctx).await? else {
            break;
        };
        match ctx
            .aws
            .apigw
            .delete_integration()
            .api_id(&api_id)
            .integration_id(&id)
            .send()
            .await
        {
            Ok(_) => removed = true,
            Err(e) if aws::is_not_found(&e) => break,
            Err(e) => return Err(aws::describe("DeleteIntegration", &e)),
        }
    }
    Ok(if removed {
        Change::Done("deleted".into())
    } else {
        Change::Absent
    })
}
