//! The API Gateway route table. `deploy` creates exactly these routes and `dev` serves exactly
//! these; nothing else may hard-code a route.

/// One API Gateway route: every route goes to the server integration behind the authorizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
}

impl Route {
    /// The API Gateway route key, e.g. `POST /mcp`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// POST carries JSON-RPC; GET and DELETE reach the server so it can answer 405 with `Allow`
/// (a stateless server offers no SSE stream and no session to delete) instead of a gateway 404.
pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/mcp",
    },
    Route {
        method: "GET",
        path: "/mcp",
    },
    Route {
        method: "DELETE",
        path: "/mcp",
    },
];

/// The route matching `method` and `path`, as API Gateway would select it.
pub fn find(method: &str, path: &str) -> Option<&'static Route> {
    ROUTES
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_are_api_gateway_syntax() {
        let keys: Vec<String> = ROUTES.iter().map(Route::key).collect();
        assert_eq!(keys, ["POST /mcp", "GET /mcp", "DELETE /mcp"]);
    }

    #[test]
    fn find_matches_method_and_exact_path() {
        assert_eq!(find("post", "/mcp").map(|r| r.method), Some("POST"));
        assert!(find("PUT", "/mcp").is_none());
        assert!(find("POST", "/mcp/").is_none());
    }
}
