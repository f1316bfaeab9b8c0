//! The HTTP API itself, found again by name *and* stack tag (API names are not unique).

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use aws_sdk_apigatewayv2::types::{Cors, ProtocolType};
use mcpctl_stack::names::STACK_TAG;
use mcpctl_stack::ROUTES;

use super::{missing_tags, Ctx, Resource};
use crate::aws;
use crate::steps::Change;

pub struct HttpApi {
    pub name: String,
    pub cors: Option<CorsRules>,
}

/// What deploy.toml's `[api.cors]` asks for, in the form API Gateway reports it back.
#[derive(Debug, Clone, PartialEq)]
pub struct CorsRules {
    pub allow_origins: Vec<String>,
    pub allow_headers: Vec<String>,
    pub allow_methods: Vec<String>,
    pub max_age_s: i32,
}

impl HttpApi {
    pub fn new(ctx: &Ctx<'_>) -> Self {
        let cors = ctx.config.api.cors.as_ref().map(|c| {
            let mut methods: Vec<String> = ROUTES.iter().map(|r| r.method.to_string()).collect();
            methods.push("OPTIONS".into());
            CorsRules {
                allow_origins: c.allow_origins.clone(),
                allow_headers: c.allow_headers.clone(),
                allow_methods: methods,
                max_age_s: i32::try_from(c.max_age_s).unwrap_or(i32::MAX),
            }
        });
        Self {
            name: ctx.names.api(),
            cors,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiState {
    pub id: String,
    pub endpoint: String,
    pub cors: Option<CorsRules>,
    pub tags: HashMap<String, String>,
    /// Seconds since the epoch; orders APIs when two deploys raced to create one.
    pub created_s: i64,
}

/// The id and base URL (`https://<id>.execute-api.<region>.amazonaws.com`) later steps need.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiInfo {
    pub id: String,
    pub endpoint: String,
}

#[derive(Debug, Default, PartialEq)]
pub struct ApiPlan {
    pub create: bool,
    pub cors: bool,
    pub tags: BTreeMap<String, String>,
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn cors_of(c: &Cors) -> CorsRules {
    CorsRules {
        allow_origins: sorted(c.allow_origins().to_vec()),
        allow_headers: sorted(
            c.allow_headers()
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        ),
        allow_methods: sorted(c.allow_methods().to_vec()),
        max_age_s: c.max_age().unwrap_or(0),
    }
}

fn normalised(c: &CorsRules) -> CorsRules {
    CorsRules {
        allow_origins: sorted(c.allow_origins.clone()),
        allow_headers: sorted(
            c.allow_headers
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect(),
        ),
        allow_methods: sorted(c.allow_methods.clone()),
        max_age_s: c.max_age_s,
    }
}

/// Every API of this stack: named `<stack>-api` and tagged with the stack. GetApis lags behind
/// creates and deletes, so the id recorded on the secret is read with GetApi too, and every API
/// listed is confirmed with GetApi (one just deleted may still be listed).
pub async fn find(ctx: &Ctx<'_>) -> Result<Vec<ApiState>> {
    let name = ctx.names.api();
    let mut ids: Vec<String> = list(ctx, Some(&name))
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    if let Some(id) = super::secret::recorded_api_id(ctx).await? {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let mut found = Vec::new();
    for id in ids {
        if let Some(api) = get(ctx, &id).await? {
            if api.name == name && api.state.tags.get(STACK_TAG) == Some(&ctx.config.name) {
                found.push(api.state);
            }
        }
    }
    Ok(found)
}

/// An API read by id, with its name; `None` when it does not exist.
pub struct NamedApi {
    pub name: String,
    pub state: ApiState,
}

/// GetApi: `None` when there is no API with this id.
pub async fn get(ctx: &Ctx<'_>, id: &str) -> Result<Option<NamedApi>> {
    match ctx.aws.apigw.get_api().api_id(id).send().await {
        Ok(api) => Ok(Some(NamedApi {
            name: api.name().unwrap_or_default().to_string(),
            state: ApiState {
                id: api.api_id().unwrap_or(id).to_string(),
                endpoint: api.api_endpoint().unwrap_or_default().to_string(),
                cors: api.cors_configuration().map(cors_of),
                tags: api.tags().cloned().unwrap_or_default(),
                created_s: api.created_date().map(|d| d.secs()).unwrap_or(i64::MAX),
            },
        })),
        Err(e) if aws::is_not_found(&e) => Ok(None),
        Err(e) => Err(aws::describe("GetApi", &e)),
    }
}

/// Every API tagged with the stack, named `name` if given.
pub async fn list(ctx: &Ctx<'_>, name: Option<&str>) -> Result<Vec<ApiState>> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = ctx
            .aws
            .apigw
            .get_apis()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(aws::err("GetApis"))?;
        for api in out.items() {
            let ours = name.is_none_or(|n| api.name() == Some(n))
                && api.tags().and_then(|t| t.get(STACK_TAG)) == Some(&ctx.config.name);
            if ours {
                found.push(ApiState {
                    id: api.api_id().unwrap_or_default().to_string(),
                    endpoint: api.api_endpoint().unwrap_or_default().to_string(),
                    cors: api.cors_configuration().map(cors_of),
                    tags: api.tags().cloned().unwrap_or_default(),
                    created_s: api.created_date().map(|d| d.secs()).unwrap_or(i64::MAX),
                });
            }
        }
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(found)
}

impl Resource for HttpApi {
    type Current = Option<ApiState>;
    type Plan = ApiPlan;
    type Output = ApiInfo;

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        Ok(oldest(find(ctx).await?))
    }

    fn plan(&self, ctx: &Ctx<'_>, current: &Self::Current) -> ApiPlan {
        match current {
            None => ApiPlan {
                create: true,
                ..ApiPlan::default()
            },
            Some(cur) => ApiPlan {
                create: false,
                cors: cur.cors.as_ref().map(normalised) != self.cors.as_ref().map(normalised),
                tags: missing_tags(&cur.tags, &ctx.tags),
            },
        }
    }

    fn change(plan: &ApiPlan) -> Change {
        if plan.create {
            return Change::Created;
        }
        let mut fields = Vec::new();
        if plan.cors {
            fields.push("cors".to_string());
        }
        if !plan.tags.is_empty() {
            fields.push("tags".to_string());
        }
        Change::updated(fields)
    }

    async fn apply(&self, ctx: &Ctx<'_>, current: Self::Current, plan: ApiPlan) -> Result<ApiInfo> {
        let apigw = &ctx.aws.apigw;
        if plan.create {
            let out = apigw
                .create_api()
                .name(&self.name)
                .protocol_type(ProtocolType::Http)
                .description(format!(
                    "MCP endpoint of the mcpctl stack {}",
                    ctx.config.name
                ))
                .set_cors_configuration(self.cors.as_ref().map(to_cors))
                .set_tags(Some(ctx.tags.clone().into_iter().collect()))
                .send()
                .await
                .map_err(aws::err("CreateApi"))?;
            let created = ApiInfo {
                id: out.api_id().unwrap_or_default().to_string(),
                endpoint: out.api_endpoint().unwrap_or_default().to_string(),
            };
            let settled = settle_race(ctx, created).await?;
            super::secret::record_api_id(ctx, &settled.id).await?;
            return Ok(settled);
        }
        let Some(cur) = current else {
            anyhow::bail!("planned an update of an API that does not exist");
        };
        if plan.cors {
            match &self.cors {
                Some(c) => {
                    apigw
                        .update_api()
                        .api_id(&cur.id)
                        .cors_configuration(to_cors(c))
                        .send()
                        .await
                        .map_err(aws::err("UpdateApi"))?;
                }
                None => {
                    apigw
                        .delete_cors_configuration()
                        .api_id(&cur.id)
                        .send()
                        .await
                        .map_err(aws::err("DeleteCorsConfiguration"))?;
                }
            }
        }
        if !plan.tags.is_empty() {
            apigw
                .tag_resource()
                .resource_arn(arn(ctx, &cur.id))
                .set_tags(Some(plan.tags.into_iter().collect()))
                .send()
                .await
                .map_err(aws::err("TagResource"))?;
        }
        // Stacks deployed before the id was recorded get it now (a no-op once it is there).
        super::secret::record_api_id(ctx, &cur.id).await?;
        Ok(ApiInfo {
            id: cur.id,
            endpoint: cur.endpoint,
        })
    }
}

/// API names are not unique in AWS, so two deploys racing on one stack can both create one.
/// Every deploy keeps the oldest (then the lowest id): all racers agree on it without talking.
fn oldest(apis: Vec<ApiState>) -> Option<ApiState> {
    apis.into_iter()
        .min_by(|a, b| (a.created_s, &a.id).cmp(&(b.created_s, &b.id)))
}

/// After creating an API: if another deploy's API is older, delete ours and use that one.
async fn settle_race(ctx: &Ctx<'_>, created: ApiInfo) -> Result<ApiInfo> {
    let Some(winner) = oldest(find(ctx).await?) else {
        return Ok(created);
    };
    if winner.id == created.id {
        return Ok(created);
    }
    ctx.aws
        .apigw
        .delete_api()
        .api_id(&created.id)
        .send()
        .await
        .map_err(aws::err("DeleteApi"))?;
    Ok(ApiInfo {
        id: winner.id,
        endpoint: winner.endpoint,
    })
}

fn to_cors(c: &CorsRules) -> Cors {
    Cors::builder()
        .set_allow_origins(Some(c.allow_origins.clone()))
        .set_allow_headers(Some(c.allow_headers.clone()))
        .set_allow_methods(Some(c.allow_methods.clone()))
        .max_age(c.max_age_s)
        .build()
}

/// The API's ARN for the tagging API.
fn arn(ctx: &Ctx<'_>, api_id: &str) -> String {
    format!(
        "arn:{}:apigateway:{}::/apis/{api_id}",
        ctx.partition(),
        ctx.aws.region
    )
}

/// Deleting the API deletes its stage, routes, integrations and authorizers with it.
pub async fn remove(ctx: &Ctx<'_>) -> Result<Change> {
    let apis = find(ctx).await?;
    if apis.is_empty() {
        return Ok(Change::Absent);
    }
    for api in apis {
        match ctx.aws.apigw.delete_api().api_id(&api.id).send().await {
            Ok(_) => {}
            Err(e) if aws::is_not_found(&e) => {}
            Err(e) => return Err(aws::describe("DeleteApi", &e)),
        }
    }
    Ok(Change::Deleted)
}
