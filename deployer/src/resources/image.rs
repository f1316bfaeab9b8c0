//! The server image in its ECR repository, pushed through the ECR API itself (no Docker, no
//! registry login): BatchCheckLayerAvailability, then for each missing blob InitiateLayerUpload,
//! UploadLayerPart in the part size ECR asks for, CompleteLayerUpload, and last PutImage. An
//! image already there by digest is not touched.

use anyhow::{anyhow, Result};
use aws_sdk_ecr::primitives::Blob as EcrBlob;
use aws_sdk_ecr::types::ImageIdentifier;

use super::{Ctx, Resource};
use crate::aws;
use crate::image::{self, Blob, OciImage};
use crate::steps::Change;

/// What ECR asks for when it does not say (its documented part size).
const DEFAULT_PART_SIZE: usize = 10 * 1024 * 1024;

/// `mcpctl-<first 12 hex digits>` of an image digest (`sha256:<hex>` or the bare hex).
pub fn tag_of(digest: &str) -> String {
    let hex = digest.trim_start_matches("sha256:");
    format!("mcpctl-{}", &hex[..12.min(hex.len())])
}

pub struct Image<'a> {
    pub repository: String,
    /// `<account>.dkr.ecr.<region>.amazonaws.com/<repository>`.
    pub repository_uri: String,
    pub image: &'a OciImage,
}

#[derive(Debug, PartialEq)]
pub struct ImageState {
    pub pushed: bool,
    /// Digests of the blobs ECR does not have.
    pub missing_blobs: Vec<String>,
}

#[derive(Debug, PartialEq)]
pub struct ImagePlan {
    pub upload: Vec<String>,
    pub put_manifest: bool,
}

impl Image<'_> {
    /// The tag pushed with the image: derived from the digest, so tags stay immutable.
    pub fn tag(&self) -> String {
        tag_of(&self.image.digest())
    }

    /// What Lambda runs: pinned by digest, never by a tag that could move.
    pub fn uri(&self) -> String {
        format!("{}@{}", self.repository_uri, self.image.digest())
    }

    fn blob(&self, digest: &str) -> Option<&Blob> {
        self.image.blobs().into_iter().find(|b| b.digest == digest)
    }

    async fn upload(&self, ctx: &Ctx<'_>, blob: &Blob) -> Result<()> {
        let ecr = &ctx.aws.ecr;
        let started = ecr
            .initiate_layer_upload()
            .repository_name(&self.repository)
            .send()
            .await
            .map_err(aws::err("InitiateLayerUpload"))?;
        let upload_id = started
            .upload_id()
            .ok_or_else(|| anyhow!("InitiateLayerUpload returned no upload id"))?;
        let part_size = started
            .part_size()
            .and_then(|s| usize::try_from(s).ok())
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_PART_SIZE);
        let mut first = 0usize;
        for part in blob.bytes.chunks(part_size) {
            let last = first + part.len() - 1;
            ecr.upload_layer_part()
                .repository_name(&self.repository)
                .upload_id(upload_id)
                .part_first_byte(first as i64)
                .part_last_byte(last as i64)
                .layer_part_blob(EcrBlob::new(part.to_vec()))
                .send()
                .await
                .map_err(aws::err("UploadLayerPart"))?;
            first = last + 1;
        }
        let completed = ecr
            .complete_layer_upload()
            .repository_name(&self.repository)
            .upload_id(upload_id)
            .layer_digests(&blob.digest)
            .send()
            .await;
        match completed {
            Ok(_) => Ok(()),
            // Pushed meanwhile by another deploy of the same build: the same bytes.
            Err(e) if aws::error_code(&e) == Some("LayerAlreadyExistsException") => Ok(()),
            Err(e) => Err(aws::describe("CompleteLayerUpload", &e)),
        }
    }
}

impl Resource for Image<'_> {
    type Current = ImageState;
    type Plan = ImagePlan;
    type Output = String;

    async fn read(&self, ctx: &Ctx<'_>) -> Result<ImageState> {
        let ecr = &ctx.aws.ecr;
        let found = ecr
            .describe_images()
            .repository_name(&self.repository)
            .image_ids(
                ImageIdentifier::builder()
                    .image_digest(self.image.digest())
                    .build(),
            )
            .send()
            .await;
        match found {
            Ok(out) if !out.image_details().is_empty() => {
                return Ok(ImageState {
                    pushed: true,
                    missing_blobs: vec![],
                })
            }
            Ok(_) => {}
            Err(e) if aws::error_code(&e) == Some("ImageNotFoundException") => {}
            Err(e) => return Err(aws::describe("DescribeImages", &e)),
        }
        let digests: Vec<String> = self
            .image
            .blobs()
            .iter()
            .map(|b| b.digest.clone())
            .collect();
        let checked = ecr
            .batch_check_layer_availability()
            .repository_name(&self.repository)
            .set_layer_digests(Some(digests.clone()))
            .send()
            .await
            .map_err(aws::err("BatchCheckLayerAvailability"))?;
        let available: Vec<&str> = checked
            .layers()
            .iter()
            .filter(|l| l.layer_availability().map(|a| a.as_str()) == Some("AVAILABLE"))
            .filter_map(|l| l.layer_digest())
            .collect();
        Ok(ImageState {
            pushed: false,
            missing_blobs: digests
                .into_iter()
                .filter(|d| !available.contains(&d.as_str()))
                .collect(),
        })
    }

    fn plan(&self, _ctx: &Ctx<'_>, current: &ImageState) -> ImagePlan {
        ImagePlan {
            upload: current.missing_blobs.clone(),
            put_manifest: !current.pushed,
        }
    }

    fn change(plan: &ImagePlan) -> Change {
        if plan.put_manifest {
            Change::Created
        } else {
            Change::Unchanged
        }
    }

    async fn apply(&self, ctx: &Ctx<'_>, _current: ImageState, plan: ImagePlan) -> Result<String> {
        for digest in &plan.upload {
            let blob = self
                .blob(digest)
                .ok_or_else(|| anyhow!("no blob {digest} in the image"))?;
            self.upload(ctx, blob).await?;
        }
        if plan.put_manifest {
            let put = ctx
                .aws
                .ecr
                .put_image()
                .repository_name(&self.repository)
                .image_manifest(&self.image.manifest)
                .image_manifest_media_type(image::MANIFEST_MEDIA_TYPE)
                .image_tag(self.tag())
                .image_digest(self.image.digest())
                .send()
                .await;
            match put {
                Ok(_) => {}
                Err(e) if aws::error_code(&e) == Some("ImageAlreadyExistsException") => {}
                Err(e) => return Err(aws::describe("PutImage", &e)),
            }
        }
        Ok(self.uri())
    }
}
