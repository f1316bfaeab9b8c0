//! Reading a request or response body with a size limit, as API Gateway and Lambda enforce.

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    #[error("body could not be read: {0}")]
    Read(String),
}

/// The whole body, or `TooLarge` as soon as it passes `limit` bytes (the rest is not read).
pub async fn read_limited(mut body: Body, limit: usize) -> Result<Bytes, BodyError> {
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > limit {
                return Err(BodyError::TooLarge(limit));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(buf.freeze())
}
