//! The stage (`$default` unless deploy.toml says otherwise): auto-deploy, so route changes go
//! live without a deployment call, and default throttling for every route.

use std::collections::{BTreeMap, HashMap};

use anyhow::Result;
use aws_sdk_apigatewayv2::types::RouteSettings;

use super::{missing_tags, Ctx, FieldDiff, Resource};
use crate::aws;
use crate::steps::Change;

pub struct Stage {
    pub api_id: String,
    pub name: String,
    pub burst: i32,
    pub rate: f64,
}

impl Stage {
    pub fn new(ctx: &Ctx<'_>, api_id: &str) -> Self {
        let api = &ctx.config.api;
        Self {
            api_id: api_id.to_string(),
            name: api.stage.clone(),
            burst: i32::try_from(api.throttling_burst).unwrap_or(i32::MAX),
            rate: api.throttling_rate,
        }
    }

    fn route_settings(&self) -> RouteSettings {
        RouteSettings::builder()
            .throttling_burst_limit(self.burst)
            .throttling_rate_limit(self.rate)
            .build()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StageState {
    /// The API's other stages: left by an earlier `api.stage`, removed by deploy.
    pub others: Vec<String>,
    pub auto_deploy: Option<bool>,
    pub burst: Option<i32>,
    pub rate: Option<f64>,
    pub tags: HashMap<String, String>,
}

#[derive(Debug, Default, PartialEq)]
pub struct StagePlan {
    pub create: bool,
    /// Stages of an earlier `api.stage` to delete.
    pub remove: Vec<String>,
    pub update: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

impl Resource for Stage {
    type Current = (Option<StageState>, Vec<String>);
    type Plan = StagePlan;
    type Output = ();

    /// This stage, and the names of the API's other stages.
    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        let mut others = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = ctx
                .aws
                .apigw
                .get_stages()
                .api_id(&self.api_id)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(aws::err("GetStages"))?;
            others.extend(
                page.items()
                    .iter()
                    .filter_map(|s| s.stage_name().map(str::to_string))
                    .filter(|n| *n != self.name),
            );
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        let out = match ctx
            .aws
            .apigw
            .get_stage()
            .api_id(&self.api_id)
            .stage_name(&self.name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if aws::is_not_found(&e) => return Ok((None, others)),
            Err(e) => return Err(aws::describe("GetStage", &e)),
        };
        let settings = out.default_route_settings();
        Ok((
            Some(StageState {
                others: others.clone(),
                auto_deploy: out.auto_deploy(),
                burst: settings.and_then(|s| s.throttling_burst_limit()),
                rate: settings.and_then(|s| s.throttling_rate_limit()),
                tags: out.tags().cloned().unwrap_or_default(),
            }),
            others,
        ))
    }

    fn plan(&self, ctx: &Ctx<'_>, (current, others): &Self::Current) -> StagePlan {
        let Some(cur) = current else {
            return StagePlan {
                create: true,
                remove: others.clone(),
                ..StagePlan::default()
            };
        };
        let mut update = Vec::new();
        update.field("auto-deploy", &cur.auto_deploy, &Some(true));
        update.field("throttling burst", &cur.burst, &Some(self.burst));
        update.field("throttling rate", &cur.rate, &Some(self.rate));
        StagePlan {
            create: false,
            remove: cur.others.clone(),
            update,
            tags: missing_tags(&cur.tags, &ctx.tags),
        }
    }

    fn change(plan: &StagePlan) -> Change {
        if plan.create {
            return Change::Created;
        }
        let mut fields = plan.update.clone();
        fields.extend(plan.remove.iter().map(|s| format!("old stage {s} removed")));
        if !plan.tags.is_empty() {
            fields.push("tags".to_string());
        }
        Change::updated(fields)
    }

    async fn apply(&self, ctx: &Ctx<'_>, _current: Self::Current, plan: StagePlan) -> Result<()> {
        let apigw = &ctx.aws.apigw;
        // The endpoint moves to the new stage; the old one would keep serving the old URL.
        for old in &plan.remove {
            match apigw
                .delete_stage()
                .api_id(&self.api_id)
                .stage_name(old)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e) if aws::is_not_found(&e) => {}
                Err(e) => return Err(aws::describe("DeleteStage", &e)),
            }
        }
        if plan.create {
            apigw
                .create_stage()
                .api_id(&self.api_id)
                .stage_name(&self.name)
                .auto_deploy(true)
                .default_route_settings(self.route_settings())
                .set_tags(Some(ctx.tags.clone().into_iter().collect()))
                .send()
                .await
                .map_err(aws::err("CreateStage"))?;
            return Ok(());
        }
        if !plan.update.is_empty() {
            apigw
                .update_stage()
                .api_id(&self.api_id)
                .stage_name(&self.name)
                .auto_deploy(true)
                .default_route_settings(self.route_settings())
                .send()
                .await
                .map_err(aws::err("UpdateStage"))?;
        }
        if !plan.tags.is_empty() {
            apigw
                .tag_resource()
                .resource_arn(format!(
                    "arn:{}:apigateway:{}::/apis/{}/stages/{}",
                    ctx.partition(),
                    ctx.aws.region,
                    self.api_id,
                    self.name
                ))
                .set_tags(Some(plan.tags.into_iter().collect()))
                .send()
                .await
                .map_err(aws::err("TagResource"))?;
        }
        Ok(())
    }
}
