//! Exactly the routes of `mcpctl_stack::ROUTES`, each to the server integration behind the
//! authorizer; routes not in the table are removed.

use anyhow::Result;
use aws_sdk_apigatewayv2::types::AuthorizationType;
use mcpctl_stack::ROUTES;

use super::{Ctx, Resource};
use crate::aws;
use crate::steps::Change;

pub struct Routes {
    pub api_id: String,
    pub integration_id: String,
    pub authorizer_id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RouteState {
    pub id: String,
    pub key: String,
    pub target: Option<String>,
    pub authorization: Option<String>,
    pub authorizer_id: Option<String>,
}

#[derive(Debug, Default, PartialEq)]
pub struct RoutesPlan {
    pub create: Vec<String>,
    /// (route id, route key)
    pub update: Vec<(String, String)>,
    pub delete: Vec<(String, String)>,
}

impl Routes {
    fn target(&self) -> String {
        format!("integrations/{}", self.integration_id)
    }

    fn is_desired(&self, r: &RouteState) -> bool {
        r.target.as_deref() == Some(self.target().as_str())
            && r.authorization.as_deref() == Some(AuthorizationType::Custom.as_str())
            && r.authorizer_id.as_deref() == Some(self.authorizer_id.as_str())
    }
}

impl Resource for Routes {
    type Current = Vec<RouteState>;
    type Plan = RoutesPlan;
    type Output = ();

    async fn read(&self, ctx: &Ctx<'_>) -> Result<Self::Current> {
        let out = ctx
            .aws
            .apigw
            .get_routes()
            .api_id(&self.api_id)
            .send()
            .await
            .map_err(aws::err("GetRoutes"))?;
        Ok(out
            .items()
            .iter()
            .map(|r| RouteState {
                id: r.route_id().unwrap_or_default().to_string(),
                key: r.route_key().unwrap_or_default().to_string(),
                target: r.target().map(str::to_string),
                authorization: r.authorization_type().map(|a| a.as_str().to_string()),
                authorizer_id: r.authorizer_id().map(str::to_string),
            })
            .collect())
    }

    fn plan(&self, _ctx: &Ctx<'_>, current: &Self::Current) -> RoutesPlan {
        let wanted: Vec<String> = ROUTES.iter().map(|r| r.key()).collect();
        RoutesPlan {
            create: wanted
                .iter()
                .filter(|k| !current.iter().any(|r| &r.key == *k))
                .cloned()
                .collect(),
            update: current
                .iter()
                .filter(|r| wanted.contains(&r.key) && !self.is_desired(r))
                .map(|r| (r.id.clone(), r.key.clone()))
                .collect(),
            delete: current
                .iter()
                .filter(|r| !wanted.contains(&r.key))
                .map(|r| (r.id.clone(), r.key.clone()))
                .collect(),
        }
    }

    fn change(plan: &RoutesPlan) -> Change {
        if plan.create.len() == ROUTES.len() && plan.update.is_empty() && plan.delete.is_empty() {
            return Change::Created;
        }
        let mut fields: Vec<String> = plan.create.iter().map(|k| format!("+{k}")).collect();
        fields.extend(plan.update.iter().map(|(_, k)| format!("~{k}")));
        fields.extend(plan.delete.iter().map(|(_, k)| format!("-{k}")));
        Change::updated(fields)
    }

    async fn apply(&self, ctx: &Ctx<'_>, _current: Self::Current, plan: RoutesPlan) -> Result<()> {
        let apigw = &ctx.aws.apigw;
        for key in &plan.create {
            apigw
                .create_route()
                .api_id(&self.api_id)
                .route_key(key)
                .target(self.target())
                .authorization_type(AuthorizationType::Custom)
                .authorizer_id(&self.authorizer_id)
                .send()
                .await
                .map_err(aws::err("CreateRoute"))?;
        }
        for (id, key) in &plan.update {
            apigw
                .update_route()
                .api_id(&self.api_id)
                .route_id(id)
                .route_key(key)
                .target(self.target())
                .authorization_type(AuthorizationType::Custom)
                .authorizer_id(&self.authorizer_id)
                .send()
                .await
                .map_err(aws::err("UpdateRoute"))?;
        }
        for (id, _) in &plan.delete {
            apigw
                .delete_route()
                .api_id(&self.api_id)
                .route_id(id)
                .send()
                .await
                .map_err(aws::err("DeleteRoute"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(id: &str, key: &str, target: &str, authorizer: &str) -> RouteState {
        RouteState {
            id: id.into(),
            key: key.into(),
            target: Some(target.into()),
            authorization: Some("CUSTOM".into()),
            authorizer_id: Some(authorizer.into()),
        }
    }

    #[test]
    fn plan_creates_missing_fixes_wrong_and_deletes_foreign_routes() {
        let aws = crate::aws::Aws::offline();
        let config = mcpctl_stack::Config::default();
        let ctx = Ctx::new(&aws, &config);
        let routes = Routes {
            api_id: "api".into(),
            integration_id: "i1".into(),
            authorizer_id: "a1".into(),
        };
        let current = vec![
            route("r1", "POST /mcp", "integrations/i1", "a1"),
            route("r2", "GET /mcp", "integrations/old", "a1"),
            route("r3", "PUT /other", "integrations/i1", "a1"),
        ];
        let plan = routes.plan(&ctx, &current);
        assert_eq!(plan.create, ["DELETE /mcp"]);
        assert_eq!(plan.update, [("r2".to_string(), "GET /mcp".to_string())]);
        assert_eq!(plan.delete, [("r3".to_string(), "PUT /other".to_string())]);

        let all_good: Vec<RouteState> = ROUTES
            .iter()
            .enumerate()
            .map(|(i, r)| route(&i.to_string(), &r.key(), "integrations/i1", "a1"))
            .collect();
        assert_eq!(
            Routes::change(&routes.plan(&ctx, &all_good)),
            Change::Unchanged
        );
    }
}
