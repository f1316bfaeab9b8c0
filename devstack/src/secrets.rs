//! A local stand-in for the one Secrets Manager call the authorizer makes, `GetSecretValue`
//! (AWS JSON 1.1), serving the dev key pair. The key file is re-read on every call so
//! `mcpctl rotate-key --local` takes effect without a restart, exactly as a rotation in AWS does.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::body::read_limited;
use crate::state::LocalState;

#[derive(Debug, Clone)]
pub struct SecretIdentity {
    pub name: String,
    pub region: String,
    pub account_id: String,
}

impl SecretIdentity {
    /// Secrets Manager appends six random characters to a secret's ARN; these are fixed.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:secretsmanager:{}:{}:secret:{}-DevKey",
            self.region, self.account_id, self.name
        )
    }
}

struct Shared {
    state: LocalState,
    secret: SecretIdentity,
    /// The OAuth signing key's secret (`[auth] mode = "oauth"`), served from the state's
    /// signing key pair.
    signing: Option<SecretIdentity>,
    created: f64,
}

/// The running stand-in; stops when dropped.
pub struct SecretsStandIn {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl SecretsStandIn {
    pub async fn start(state: LocalState, secret: SecretIdentity) -> std::io::Result<Self> {
        Self::start_with_signing(state, secret, None).await
    }

    /// [`SecretsStandIn::start`], serving the OAuth signing key as `signing` too.
    pub async fn start_with_signing(
        state: LocalState,
        secret: SecretIdentity,
        signing: Option<SecretIdentity>,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state,
            secret,
            signing,
            created: crate::clock::now_ms() as f64 / 1000.0,
        });
        let router = Router::new().route("/", post(handle)).with_state(shared);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self { addr, task })
    }

    /// The value for `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SecretsStandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetSecretValue {
    secret_id: String,
    version_stage: Option<String>,
    version_id: Option<String>,
}

fn aws_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amzn-errortype", kind),
        ],
        json!({ "__type": kind, "message": message }).to_string(),
    )
        .into_response()
}

/// A stable version id per key value, shaped like Secrets Manager's UUIDs; derived by hashing
/// so it reveals nothing usable about the key.
fn version_id(key: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    let a = h.finish();
    "version".hash(&mut h);
    let b = h.finish();
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if target != "secretsmanager.GetSecretValue" {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!("the dev stand-in only serves GetSecretValue, not {target:?}"),
        );
    }
    let Ok(bytes) = read_limited(body, 64 * 1024).await else {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestException",
            "body too large",
        );
    };
    let request: GetSecretValue = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterException",
                &format!("invalid GetSecretValue request: {e}"),
            )
        }
    };
    let names = |s: &SecretIdentity| request.secret_id == s.name || request.secret_id == s.arn();
    let (secret, keys) = match &shared.signing {
        Some(signing) if names(signing) => (signing, shared.state.signing_keys()),
        _ if names(&shared.secret) => (&shared.secret, shared.state.keys()),
        _ => {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "ResourceNotFoundException",
                "Secrets Manager can't find the specified secret.",
            )
        }
    };
    let keys = match keys {
        Ok(Some(k)) => k,
        Ok(None) => return aws_error(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
        ),
        Err(e) => {
            return aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServiceError",
                &e.to_string(),
            )
        }
    };
    let versions = [
        ("AWSCURRENT", Some(keys.current.clone())),
        ("AWSPREVIOUS", keys.previous.clone()),
    ];
    let found = match (&request.version_id, &request.version_stage) {
        (Some(id), stage) => versions.iter().find(|(label, key)| {
            key.as_deref().map(version_id).as_ref() == Some(id)
                && stage.as_deref().is_none_or(|s| s == *label)
        }),
        (None, stage) => {
            let stage = stage.as_deref().unwrap_or("AWSCURRENT");
            versions.iter().find(|(label, _)| *label == stage)
        }
    };
    let Some((label, Some(key))) = found else {
        let what = match (&request.version_id, &request.version_stage) {
            (Some(id), _) => format!("version id: {id}"),
            (None, stage) => format!(
                "staging label: {}",
                stage.as_deref().unwrap_or("AWSCURRENT")
            ),
        };
        return aws_error(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            &format!("Secrets Manager can't find the specified secret value for {what}"),
        );
    };
    let body = json!({
        "ARN": secret.arn(),
        "Name": secret.name,
        "VersionId": version_id(key),
        "SecretString": key,
        "VersionStages": [label],
        "CreatedDate": shared.created,
    });
    (
        StatusCode::OK,
        [("content-type", "application/x-amz-json-1.1")],
        body.to_string(),
    )
        .into_response()
}
