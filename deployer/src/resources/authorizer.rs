//! The REQUEST authorizer: payload 2.0, simple responses (`{"isAuthorized": bool}`), keyed on
//! the `x-api-key` header, its verdict cached for `authorizer.cache_ttl_s`.

use anyhow::Result;
use aws_sdk_apigatewayv2::types::{Authorizer, AuthorizerType};
use aws_smithy_runtime_api::client::result::SdkError;

use super::{Ctx, FieldDiff, Resource, WholeOrFields};
use crate::aws;
use crate::steps::Change;

pub const IDENTITY_SOURCE: &str = "$request.header.x-api-key";
const PAYLOAD_VERSION: &str = "2.0";

pub struct ApiAuthorizer {
    pub api_id: String,
    pub name: String,
    /// The Lambda invocation URI API Gateway calls.
    pub uri: String,
    pub ttl_s: i32,
}

impl ApiAuthorizer {
    pub fn new(ctx: &Ctx<'_>, api_id: &str, function_arn: &str) -> Self {
        Self {
            api_id: api_id.to_string(),
            name: ctx.names.authorizer(),
            uri: format!(
                "arn:{}:apigateway:{}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
                ctx.partition(),
                ctx.aws.region
            ),
            ttl_s: i32::try_from(ctx.config.authorizer.cache_ttl_s).unwrap_or(i32::MAX),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuthorizerState {
    pub id: String,
    pub kind: Option<String>,
    pub uri: Option<String>,
    pub payload_version: Option<String>,
    pub simple_responses: Option<bool>,
    pub identity_source: Vec<String>,
    pub ttl_s: Option<i32>,
}

fn is_transport<E, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_))
}

impl ApiAuthorizer {
    async fn read_through_routes(&self, ctx: &Ctx<'_>) -> Result<Vec<Authorizer>> {
        let apigw = &ctx.aws.apigw;
        let routes = apigw
            .get_routes()
            .api_id(&self.api_id)
            .send()
            .await
            .map_err(aws::err("GetRoutes"))?;
        let mut ids: Vec<&str> = routes
            .items()
            .iter()
            .filter_map(|r| r.authorizer_id())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut found = Vec::new();
        for id in ids {
            match apigw
                .get_authorizer()
                .api_id(&self.api_id)
                .authorizer_id(id)
                .send()
                .await
            {
                Ok(a) => found.push(
                    Authorizer::builder()
                        .set_authorizer_id(a.authorizer_id)
                        .set_name(a.name)
                        .set_authorizer_type(a.authorizer_type)
                        .set_authorizer_uri(a.authorizer_uri)
                        .set_authorizer_payload_format_version(a.authorizer_payload_format_version)
                        .set_enable_simple_responses(a.enable_simple_responses)
                        .set_identity_source(a.identity_source)
                        .set_authorizer_result_ttl_in_seconds(a.authorizer_result_ttl_in_seconds)
                        .build(),
                ),
                Err(e) if aws::is_not_found(&e) => {}
                Err(e) => return Err(aws::describe("GetAuthorizer", &e)),
            }
        }
        Ok(found)
    }
}

impl Resource for ApiAuthorizer {
    type Current = Option<AuthorizerState>;
    type Plan = WholeOrFields;
    type Output = String;

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        let apigw = &ctx.aws.apigw;
        // No retries: moto answers this with an unmodelled error that would be retried thrice.
        let no_retry = aws_sdk_apigatewayv2::config::Builder::default()
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled());
        let listed = apigw
            .get_authorizers()
            .api_id(&self.api_id)
            .customize()
            .config_override(no_retry)
            .send()
            .await;
        let all: Vec<Authorizer> = match listed {
            Ok(out) => out.items().to_vec(),
            // moto does not implement GetAuthorizers (an unmodelled error without a code): find
            // ours through the routes that use it instead.
            Err(e) if aws::error_code(&e).is_none() && !is_transport(&e) => {
                self.read_through_routes(ctx).await?
            }
            Err(e) => return Err(aws::describe("GetAuthorizers", &e)),
        };
        Ok(all
            .iter()
            .find(|a| a.name() == Some(self.name.as_str()))
            .map(|a| AuthorizerState {
                id: a.authorizer_id().unwrap_or_default().to_string(),
                kind: a.authorizer_type().map(|t| t.as_str().to_string()),
                uri: a.authorizer_uri().map(str::to_string),
                payload_version: a.authorizer_payload_format_version().map(str::to_string),
                simple_responses: a.enable_simple_responses(),
                identity_source: a.identity_source().to_vec(),
                ttl_s: a.authorizer_result_ttl_in_seconds(),
            }))
    }

    fn plan(&self, _ctx: &Ctx<'_>, current: &Self::Current) -> WholeOrFields {
        let Some(cur) = current else {
            return WholeOrFields::create();
        };
        let mut update = Vec::new();
        update.field(
            "type",
            &cur.kind.as_deref(),
            &Some(AuthorizerType::Request.as_str()),
        );
        update.field("uri", &cur.uri.as_deref(), &Some(self.uri.as_str()));
        update.field(
            "payload version",
            &cur.payload_version.as_deref(),
            &Some(PAYLOAD_VERSION),
        );
        update.field("simple responses", &cur.simple_responses, &Some(true));
        update.field(
            "identity source",
            cur.identity_source.as_slice(),
            &[IDENTITY_SOURCE.to_string()][..],
        );
        update.field("cache ttl", &cur.ttl_s.unwrap_or(0), &self.ttl_s);
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
                .create_authorizer()
                .api_id(&self.api_id)
                .name(&self.name)
                .authorizer_type(AuthorizerType::Request)
                .authorizer_uri(&self.uri)
                .authorizer_payload_format_version(PAYLOAD_VERSION)
                .enable_simple_responses(true)
                .identity_source(IDENTITY_SOURCE)
                .authorizer_result_ttl_in_seconds(self.ttl_s)
                .send()
                .await
                .map_err(aws::err("CreateAuthorizer"))?;
            return Ok(out.authorizer_id().unwrap_or_default().to_string());
        }
        let id = current.map(|c| c.id).unwrap_or_default();
        if !plan.update.is_empty() {
            apigw
                .update_authorizer()
                .api_id(&self.api_id)
                .authorizer_id(&id)
                .authorizer_type(AuthorizerType::Request)
                .authorizer_uri(&self.uri)
                .authorizer_payload_format_version(PAYLOAD_VERSION)
                .enable_simple_responses(true)
                .identity_source(IDENTITY_SOURCE)
                .authorizer_result_ttl_in_seconds(self.ttl_s)
                .send()
                .await
                .map_err(aws::err("UpdateAuthorizer"))?;
        }
        Ok(id)
    }
}
