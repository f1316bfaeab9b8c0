use mcpctl_server::prelude::*;
use mcpctl_server::resources::ResourceRequest;
use serde::{Deserialize, Serialize};

use super::McpServer;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct LookupUserRequest {
    /// User id, e.g. "1".
    pub user_id: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub role: String,
}

/// The mock directory: (id, name, email, role).
const USERS: &[(&str, &str, &str, &str)] = &[
    ("1", "Alice Johnson", "alice@example.com", "admin"),
    ("2", "Bob Smith", "bob@example.com", "developer"),
    ("3", "Carol Williams", "carol@example.com", "designer"),
    ("4", "Dave Brown", "dave@example.com", "developer"),
    ("5", "Eve Davis", "eve@example.com", "support"),
];

pub fn lookup_user(user_id: &str) -> Result<User, String> {
    let id = user_id.trim();
    USERS
        .iter()
        .find(|(uid, ..)| *uid == id)
        .map(|(id, name, email, role)| User {
            id: id.to_string(),
            name: name.to_string(),
            email: email.to_string(),
            role: role.to_string(),
        })
        .ok_or_else(|| {
            let known: Vec<&str> = USERS.iter().map(|(id, ..)| *id).collect();
            format!("User {id:?} not found (known ids: {})", known.join(", "))
        })
}

#[tool_router(router = user_tools, vis = "pub(crate)")]
impl McpServer {
    #[tool(description = "Looks up a user in the (mock) directory by id.")]
    pub async fn lookup_user(
        &self,
        Parameters(LookupUserRequest { user_id }): Parameters<LookupUserRequest>,
    ) -> Result<Json<User>, String> {
        lookup_user(&user_id).map(Json)
    }
}

mcpctl_server::resources! {
    router = user_resources;
    impl McpServer {
        /// One user of the (mock) directory by id, e.g. mcp://users/1.
        #[resource(template = "mcp://users/{id}", name = "user", mime_type = "application/json")]
        pub async fn user_resource(&self, request: ResourceRequest) -> Result<Json<User>, ErrorData> {
            let id = request.var("id").unwrap_or_default();
            lookup_user(id).map(Json).map_err(|message| {
                ErrorData::resource_not_found(message, Some(serde_json::json!({ "uri": request.uri() })))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_users() {
        assert_eq!(lookup_user("1").unwrap().name, "Alice Johnson");
        assert_eq!(lookup_user(" 2 ").unwrap().id, "2");
        let err = lookup_user("999").unwrap_err();
        assert!(err.contains("999") && err.contains("known ids"));
    }
}
