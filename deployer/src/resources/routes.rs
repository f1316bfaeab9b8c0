//! Exactly the routes of `mcpctl_stack::ROUTES`, each to the server integration behind the
//! authorizer, and with `[auth] mode = "oauth"` those of `mcpctl_stack::oauth::OAUTH_ROUTES`,
//! each to the oauth function's integration without an authorizer; other routes are removed.

use anyhow::Result;
use aws_sdk_apigatewayv2::types::AuthorizationType;
use mcpctl_stack::oauth::OAUTH_ROUTES;
use mcpctl_stack::ROUTES;

use super::{Ctx, Resource};
use crate::aws;
use crate::steps::Change;

pub struct Routes {
    pub api_id: String,
    pub integration_id: String,
    pub authorizer_id: String,
    /// The oauth function's integration: `Some` exactly in oauth mode.
    pub oauth_integration_id: Option<String>,
}

/// Where one route should go: its target, and the authorizer in front of it (if any).
#[derive(Debug, Clone, PartialEq)]
struct Desired {
    key: String,
    target: String,
    authorizer_id: Option<String>,
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
    /// Every route is new (none existed).
    pub all: bool,
}

impl Routes {
    fn wanted(&self) -> Vec<Desired> {
        let mut all: Vec<Desired> = ROUTES
            .iter()
            .map(|r| Desired {
                key: r.key(),
                target: format!("integrations/{}", self.integration_id),
                authorizer_id: Some(self.authorizer_id.clone()),
            })
            .collect();
        if let Some(oauth) = &self.oauth_integration_id {
            all.extend(OAUTH_ROUTES.iter().map(|r| Desired {
                key: r.key(),
                target: format!("integrations/{oauth}"),
                authorizer_id: None,
            }));
        }
        all
    }

    fn desired(&self, key: &str) -> Option<Desired> {
        self.wanted().into_iter().find(|d| d.key == key)
    }

    fn is_desired(d: &Desired, r: &RouteState) -> bool {
        let authorization = match d.authorizer_id {
            Some(_) => AuthorizationType::Custom,
            None => AuthorizationType::None,
        };
        r.target.as_deref() == Some(d.target.as_str())
            && r.authorization.as_deref().unwrap_or("NONE") == authorization.as_str()
            && r.authorizer_id.as_deref().filter(|a| !a.is_empty()) == d.authorizer_id.as_deref()
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
        let desired = self.wanted();
        let wanted: Vec<String> = desired.iter().map(|d| d.key.clone()).collect();
        let good = |r: &RouteState| {
            desired
                .iter()
                .any(|d| d.key == r.key && Self::is_desired(d, r))
        };
        let mut plan = RoutesPlan {
            create: wanted
                .iter()
                .filter(|k| !current.iter().any(|r| &r.key == *k))
                .cloned()
                .collect(),
            update: current
                .iter()
                .filter(|r| wanted.contains(&r.key) && !good(r))
                .map(|r| (r.id.clone(), r.key.clone()))
                .collect(),
            delete: current
                .iter()
                .filter(|r| !wanted.contains(&r.key))
                .map(|r| (r.id.clone(), r.key.clone()))
                .collect(),
            all: false,
        };
        plan.all = current.is_empty() && !plan.create.is_empty();
        plan
    }

    fn change(plan: &RoutesPlan) -> Change {
        if plan.all && plan.update.is_empty() && plan.delete.is_empty() {
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
            let Some(d) = self.desired(key) else { continue };
            let create = apigw
                .create_route()
                .api_id(&self.api_id)
                .route_key(key)
                .target(&d.target);
            let create = match &d.authorizer_id {
                Some(a) => create
                    .authorization_type(AuthorizationType::Custom)
                    .authorizer_id(a),
                None => create.authorization_type(AuthorizationType::None),
            };
            create.send().await.map_err(aws::err("CreateRoute"))?;
        }
        for (id, key) in &plan.update {
            let Some(d) = self.desired(key) else { continue };
            let update = apigw
                .update_route()
                .api_id(&self.api_id)
                .route_id(id)
                .route_key(key)
                .target(&d.target);
            // An empty authorizer id detaches the authorizer (UpdateRoute patches).
            let update = match &d.authorizer_id {
                Some(a) => update
                    .authorization_type(AuthorizationType::Custom)
                    .authorizer_id(a),
                None => update
                    .authorization_type(AuthorizationType::None)
                    .authorizer_id(""),
            };
            update.send().await.map_err(aws::err("UpdateRoute"))?;
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
            oauth_integration_id: None,
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

    #[test]
    fn oauth_routes_go_to_the_oauth_integration_without_the_authorizer() {
        let aws = crate::aws::Aws::offline();
        let config = mcpctl_stack::Config::default();
        let ctx = Ctx::new(&aws, &config);
        let routes = Routes {
            api_id: "api".into(),
            integration_id: "i1".into(),
            authorizer_id: "a1".into(),
            oauth_integration_id: Some("o1".into()),
        };
        let mut current: Vec<RouteState> = ROUTES
            .iter()
            .enumerate()
            .map(|(i, r)| route(&i.to_string(), &r.key(), "integrations/i1", "a1"))
            .collect();
        // Behind the authorizer by mistake: fixed; the others are created.
        current.push(route("t", "POST /oauth/token", "integrations/o1", "a1"));
        let plan = routes.plan(&ctx, &current);
        assert_eq!(
            plan.update,
            [("t".to_string(), "POST /oauth/token".to_string())]
        );
        assert_eq!(plan.create.len(), OAUTH_ROUTES.len() - 1);
        assert!(plan.delete.is_empty());
        for r in current.iter_mut().filter(|r| r.id == "t") {
            r.authorization = Some("NONE".into());
            r.authorizer_id = None;
        }
        current.extend(
            OAUTH_ROUTES
                .iter()
                .filter(|r| r.key() != "POST /oauth/token")
                .map(|r| RouteState {
                    id: r.key(),
                    key: r.key(),
                    target: Some("integrations/o1".into()),
                    authorization: Some("NONE".into()),
                    authorizer_id: None,
                }),
        );
        assert_eq!(
            Routes::change(&routes.plan(&ctx, &current)),
            Change::Unchanged
        );
        // Back to api-key mode: the OAuth routes go.
        let api_key = Routes {
            oauth_integration_id: None,
            ..routes
        };
        assert_eq!(
            api_key.plan(&ctx, &current).delete.len(),
            OAUTH_ROUTES.len()
        );
    }
}
