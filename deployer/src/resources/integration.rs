//! The AWS_PROXY integration (payload 2.0) that sends every route to the server function.

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
        let out = ctx
            .aws
            .apigw
            .get_integrations()
            .api_id(&self.api_id)
            .send()
            .await
            .map_err(aws::err("GetIntegrations"))?;
        let all: Vec<IntegrationState> = out
            .items()
            .iter()
            .map(|i| IntegrationState {
                id: i.integration_id().unwrap_or_default().to_string(),
                kind: i.integration_type().map(|t| t.as_str().to_string()),
                uri: i.integration_uri().map(str::to_string),
                payload_version: i.payload_format_version().map(str::to_string),
                timeout_ms: i.timeout_in_millis(),
            })
            .collect();
        // Prefer the one already pointing at our function; otherwise reuse whatever is there.
        let ours = all
            .iter()
            .position(|i| i.uri.as_deref() == Some(self.function_arn.as_str()))
            .unwrap_or(0);
        Ok(all.into_iter().nth(ours))
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
