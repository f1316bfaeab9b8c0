//! Every AWS resource name derives from the stack name, so deploy, destroy, status and dev find
//! everything again by name and tag, with no local state file.

/// Tag key put on every resource this tool creates; its value is the stack name.
pub const STACK_TAG: &str = "mcpctl:stack";
/// On the API key secret: the id of the stack's HTTP API, so it is found by id (GetApi) and not
/// only through GetApis, which lags behind creates and deletes.
pub const API_ID_TAG: &str = "mcpctl:api-id";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackNames {
    pub stack: String,
}

impl StackNames {
    pub fn new(stack: impl Into<String>) -> Self {
        Self {
            stack: stack.into(),
        }
    }
    pub fn secret(&self) -> String {
        format!("{}/api-key", self.stack)
    }
    pub fn server_function(&self) -> String {
        format!("{}-server", self.stack)
    }
    pub fn authorizer_function(&self) -> String {
        format!("{}-authorizer", self.stack)
    }
    pub fn server_role(&self) -> String {
        format!("{}-server-role", self.stack)
    }
    pub fn authorizer_role(&self) -> String {
        format!("{}-authorizer-role", self.stack)
    }
    pub fn api(&self) -> String {
        format!("{}-api", self.stack)
    }
    pub fn authorizer(&self) -> String {
        format!("{}-api-key", self.stack)
    }
    pub fn ecr_repository(&self) -> String {
        format!("{}-server", self.stack)
    }
    /// The log group whose existence is the stack lock (see mcpctl's `lock` module).
    pub fn lock(&self) -> String {
        format!("/mcpctl/{}/lock", self.stack)
    }
    pub fn log_group(&self, function: &str) -> String {
        format!("/aws/lambda/{function}")
    }
}
