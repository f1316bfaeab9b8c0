//! The REQUEST authorizer: payload 2.0, simple responses (`{"isAuthorized": bool}`). Its
//! identity sources and verdict cache follow `[authorizer] accept` (`mcpctl_stack::auth`): one
//! accepted header is the identity source and the cache key (`authorizer.cache_ttl_s`); with
//! both `x-api-key` and `Authorization: Bearer` there is no identity source (API Gateway would
//! refuse a request missing any listed one) and so no cache.

use anyhow::Result;
use aws_sdk_apigatewayv2::types::{Authorizer, AuthorizerType};

use super::{Ctx, FieldDiff, Resource, WholeOrFields};
use crate::aws;
use crate::steps::Change;

const PAYLOAD_VERSION: &str = "2.0";

pub struct ApiAuthorizer {
    pub api_id: String,
    pub name: String,
    /// The Lambda invocation URI API Gateway calls.
    pub uri: String,
    pub identity_sources: Vec<String>,
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
            identity_sources: mcpctl_stack::auth::identity_sources(ctx.config),
            ttl_s: i32::try_from(mcpctl_stack::auth::effective_cache_ttl_s(ctx.config))
                .unwrap_or(i32::MAX),
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

impl Resource for ApiAuthorizer {
    type Current = Option<AuthorizerState>;
    type Plan = WholeOrFields;
    type Output = String;

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        // Paginated: an API holds few authorizers, but nextToken is honoured all the same.
        let mut all: Vec<Authorizer> = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = ctx
                .aws
                .apigw
                .get_authorizers()
                .api_id(&self.api_id)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(aws::err("GetAuthorizers"))?;
            all.extend(page.items().iter().cloned());
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
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
            self.identity_sources.as_slice(),
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
                .set_identity_source(
                    (!self.identity_sources.is_empty()).then(|| self.identity_sources.clone()),
                )
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
                // The whole list, empty included, in the same call as the TTL: a cache needs an
                // identity source, so clearing one and turning the other off go together.
                .set_identity_source(Some(self.identity_sources.clone()))
                .authorizer_result_ttl_in_seconds(self.ttl_s)
                .send()
                .await
                .map_err(aws::err("UpdateAuthorizer"))?;
        }
        Ok(id)
    }
}
