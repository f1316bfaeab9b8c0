//! `package = "image"` against moto_server (with the ECR layer upload API filled in by
//! testkit/moto_server_ecr.py): the real server binary goes into a from-scratch OCI image pushed
//! through the ECR API, the function runs it pinned by digest, a redeploy pushes nothing, the
//! pushed image boots on its own files alone (chroot) and answers MCP, switching back to a zip
//! replaces the function, and destroy deletes the repository.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{assert_success, changed_steps, stderr, Project};
use mcpctl_stack::config::Architecture;
use mcpctl_testkit::{free_port, http_request, wait_for_port};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// x86_64: the image carries this machine's own server build and glibc, and boots here.
const CONFIG: &str =
    "name = \"img\"\nregion = \"us-east-1\"\npackage = \"image\"\narchitecture = \"x86_64\"\n";
const REPOSITORY: &str = "img-server";

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The pushed blob `digest` as the stand-in registry stored it, checked against its digest.
fn blob(p: &Project, digest: &str) -> Vec<u8> {
    blob_of(p, REPOSITORY, digest)
}

fn blob_of(p: &Project, repository: &str, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap();
    let bytes = std::fs::read(p.moto.blob_dir.join(repository).join(hex)).unwrap();
    assert_eq!(
        sha256_hex(&bytes),
        hex,
        "blob {digest} corrupted on the way"
    );
    bytes
}

/// Runs the image's entrypoint with nothing but the image's own files (chroot) as a local
/// HTTP server, and asks it for its tools over MCP.
fn boot_and_list_tools(rootfs: &Path) -> String {
    let port = free_port();
    // Found before env_clear: the image has no PATH to look it up in.
    let chroot = ["/usr/sbin/chroot", "/usr/bin/chroot", "/sbin/chroot"]
        .into_iter()
        .find(|c| Path::new(c).exists())
        .expect("chroot (coreutils) is installed");
    let mut server = Command::new(chroot)
        .arg(rootfs)
        .arg("/bootstrap")
        .env_clear()
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = ([127, 0, 0, 1], port).into();
    let up = wait_for_port(addr, Duration::from_secs(20));
    let answer = up.then(|| {
        http_request(
            addr,
            "POST",
            "/mcp",
            &[
                ("content-type", "application/json"),
                ("accept", "application/json, text/event-stream"),
            ],
            br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
        )
        .unwrap()
    });
    let _ = server.kill();
    let out = server.wait_with_output().unwrap();
    let (status, _, body) = answer.unwrap_or_else(|| {
        panic!(
            "the image's /bootstrap did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    String::from_utf8(body).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_server_ships_as_an_image_pushed_to_ecr_and_boots_from_it() {
    let p = Project::like_aws(CONFIG);
    let server = mcpctl_testkit::build_binary("mcpctl-server", "mcpctl-server");
    std::fs::copy(&server, p.prebuilt().join("mcpctl-server")).unwrap();

    let plan = |extra: &[&str]| -> Value {
        let mut args = vec!["plan", "-o", "json"];
        args.extend_from_slice(extra);
        let out = p.mcpctl(&args);
        assert_success(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let before = plan(&[]);
    assert!(
        before["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["resource"] == format!("repository {REPOSITORY}") && c["action"] == "create"),
        "{before:#}"
    );

    let first = p.deploy_json();
    let steps: Vec<String> = changed_steps(&first).into_iter().map(|(s, _)| s).collect();
    assert!(
        steps.contains(&format!("repository {REPOSITORY}")),
        "{steps:?}"
    );
    let image_step = steps
        .iter()
        .find(|s| s.starts_with(&format!("image {REPOSITORY}:mcpctl-")))
        .unwrap_or_else(|| panic!("no image step in {steps:?}"))
        .clone();

    let sdk = p.sdk().await;
    let ecr = aws_sdk_ecr::Client::new(&sdk);
    let lambda = aws_sdk_lambda::Client::new(&sdk);

    // The repository: immutable tags, scan on push, a lifecycle policy, the stack tag.
    let repo = ecr
        .describe_repositories()
        .repository_names(REPOSITORY)
        .send()
        .await
        .unwrap();
    let repo = &repo.repositories()[0];
    assert_eq!(repo.image_tag_mutability().unwrap().as_str(), "IMMUTABLE");
    assert!(repo.image_scanning_configuration().unwrap().scan_on_push());
    let policy = ecr
        .get_lifecycle_policy()
        .repository_name(REPOSITORY)
        .send()
        .await
        .unwrap();
    // The deployed image is never expired, however many newer ones are pushed: rule 1 selects
    // its tag (and ECR lets no lower rule expire what a higher one selects); rule 2 keeps 5.
    let lifecycle: Value = serde_json::from_str(policy.lifecycle_policy_text().unwrap()).unwrap();
    let deployed_digest = first["image"].as_str().unwrap().rsplit('@').next().unwrap();
    let deployed_tag = format!(
        "mcpctl-{}",
        &deployed_digest.trim_start_matches("sha256:")[..12]
    );
    assert_eq!(
        lifecycle["rules"][0]["selection"]["tagPrefixList"],
        serde_json::json!([deployed_tag]),
        "{lifecycle}"
    );
    assert_eq!(lifecycle["rules"][0]["rulePriority"], 1);
    assert_eq!(lifecycle["rules"][1]["selection"]["tagStatus"], "any");
    assert_eq!(lifecycle["rules"][1]["selection"]["countNumber"], 5);
    // Lambda may pull for the server function and nothing else.
    let pull: Value = serde_json::from_str(
        ecr.get_repository_policy()
            .repository_name(REPOSITORY)
            .send()
            .await
            .unwrap()
            .policy_text()
            .unwrap(),
    )
    .unwrap();
    let statements = pull["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{pull}");
    assert_eq!(
        statements[0]["Principal"]["Service"],
        "lambda.amazonaws.com"
    );
    assert_eq!(
        statements[0]["Action"],
        serde_json::json!(["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"])
    );
    assert_eq!(
        statements[0]["Condition"]["StringLike"]["aws:sourceArn"],
        "arn:aws:lambda:us-east-1:123456789012:function:img-server"
    );
    let tags = ecr
        .list_tags_for_resource()
        .resource_arn(repo.repository_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(tags
        .tags()
        .iter()
        .any(|t| t.key() == "mcpctl:stack" && t.value() == "img"));

    // The image: its digest is the manifest's SHA-256, the function runs it pinned by digest.
    let images = ecr
        .batch_get_image()
        .repository_name(REPOSITORY)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_tag(image_step.rsplit(':').next().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let image = &images.images()[0];
    let manifest_text = image.image_manifest().unwrap();
    let digest = format!("sha256:{}", sha256_hex(manifest_text.as_bytes()));
    assert_eq!(
        image.image_id().unwrap().image_digest(),
        Some(digest.as_str())
    );
    let function = lambda
        .get_function()
        .function_name("img-server")
        .send()
        .await
        .unwrap();
    let config = function.configuration().unwrap();
    assert_eq!(config.package_type().unwrap().as_str(), "Image");
    assert_eq!(config.runtime(), None);
    assert_eq!(
        function.code().unwrap().image_uri(),
        Some(format!("{}@{digest}", repo.repository_uri().unwrap()).as_str())
    );
    assert_eq!(config.code_sha256(), digest.strip_prefix("sha256:"));
    assert_eq!(
        first["image"],
        format!("{}@{digest}", repo.repository_uri().unwrap()).as_str()
    );

    // The blobs: a config whose diff_id is the layer's uncompressed SHA-256, entrypoint /bootstrap.
    let manifest: Value = serde_json::from_str(manifest_text).unwrap();
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    let config_blob: Value =
        serde_json::from_slice(&blob(&p, manifest["config"]["digest"].as_str().unwrap())).unwrap();
    assert_eq!(config_blob["config"]["Entrypoint"][0], "/bootstrap");
    assert_eq!(config_blob["architecture"], "amd64");
    let layer = blob(&p, manifest["layers"][0]["digest"].as_str().unwrap());
    assert_eq!(manifest["layers"][0]["size"], layer.len());
    let mut tar = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(layer.as_slice()),
        &mut tar,
    )
    .unwrap();
    assert_eq!(
        config_blob["rootfs"]["diff_ids"][0],
        format!("sha256:{}", sha256_hex(&tar))
    );

    // Unpacked alone, the image runs the real server and answers MCP.
    let rootfs = p.dir.join("rootfs");
    std::fs::create_dir_all(&rootfs).unwrap();
    let layer_path = p.dir.join("layer.tar");
    std::fs::write(&layer_path, &tar).unwrap();
    let untar = Command::new("tar")
        .arg("-xf")
        .arg(&layer_path)
        .arg("-C")
        .arg(&rootfs)
        .status()
        .unwrap();
    assert!(untar.success());
    assert_eq!(
        std::fs::read(rootfs.join("bootstrap")).unwrap(),
        std::fs::read(&server).unwrap()
    );
    let tools = boot_and_list_tools(&rootfs);
    for tool in [
        "get_weather",
        "calculate",
        "get_server_status",
        "lookup_user",
    ] {
        assert!(tools.contains(tool), "{tool} missing from {tools}");
    }

    let status = p.mcpctl(&["status"]);
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        status.contains("Server       image, x86_64, 256 MB / 29 s"),
        "{status}"
    );

    // plan with the same binary computes the same image digest: nothing to do.
    let prebuilt = p.prebuilt();
    let after = plan(&["--prebuilt", prebuilt.to_str().unwrap()]);
    assert_eq!(
        (after["to_create"].as_u64(), after["to_update"].as_u64()),
        (Some(0), Some(0)),
        "{after:#}"
    );

    // Nothing changed: nothing is pushed or updated.
    let again = p.deploy_json();
    assert_eq!(again["mutating_calls"], 0, "{again}");

    // Back to a zip: Lambda cannot convert a function, so it is replaced.
    p.write_config(&CONFIG.replace("\"image\"", "\"zip\""));
    let zip = p.deploy_json();
    let changed = changed_steps(&zip);
    let server_change = changed
        .iter()
        .find(|(s, _)| s == "function img-server")
        .map(|(_, c)| c.to_string())
        .unwrap_or_default();
    assert!(server_change.contains("package type (replaced)"), "{zip}");
    let function = lambda
        .get_function_configuration()
        .function_name("img-server")
        .send()
        .await
        .unwrap();
    assert_eq!(function.package_type().unwrap().as_str(), "Zip");
    assert_eq!(function.runtime().unwrap().as_str(), "provided.al2023");
    // The API still reaches the replaced function: its permission was put back.
    let policy = lambda.get_policy().function_name("img-server").send().await;
    assert!(
        policy.is_ok(),
        "no resource policy on the replaced function"
    );

    // The repository served only the image function: a zip stack removes it.
    let gone = ecr
        .describe_repositories()
        .repository_names(REPOSITORY)
        .send()
        .await;
    assert!(gone.is_err(), "the repository outlived the switch to zip");
    assert!(
        changed
            .iter()
            .any(|(s, c)| s == &format!("repository {REPOSITORY}") && c == "deleted"),
        "{zip}"
    );
    assert_eq!(p.deploy_json()["mutating_calls"], 0);

    // Image again, then destroy takes the repository with its images.
    p.write_config(CONFIG);
    p.deploy_json();
    let destroyed = p.mcpctl(&["destroy", "--yes", "-o", "json"]);
    assert_success(&destroyed);
    let destroyed: Value = serde_json::from_slice(&destroyed.stdout).unwrap();
    assert_eq!(
        destroyed["left_behind"],
        serde_json::json!([]),
        "{destroyed}"
    );
    let gone = ecr
        .describe_repositories()
        .repository_names(REPOSITORY)
        .send()
        .await;
    assert!(gone.is_err(), "the repository outlived destroy");
}

/// The image the function `name` runs, as pushed: its config blob and its files (path → bytes,
/// directories left out).
async fn pushed_image(
    p: &Project,
    repository: &str,
    name: &str,
) -> (Value, std::collections::BTreeMap<String, Vec<u8>>) {
    let sdk = p.sdk().await;
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let ecr = aws_sdk_ecr::Client::new(&sdk);
    let function = lambda
        .get_function()
        .function_name(name)
        .send()
        .await
        .unwrap();
    let uri = function.code().unwrap().image_uri().unwrap().to_string();
    let digest = uri.rsplit('@').next().unwrap();
    let images = ecr
        .batch_get_image()
        .repository_name(repository)
        .image_ids(
            aws_sdk_ecr::types::ImageIdentifier::builder()
                .image_digest(digest)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let manifest: Value =
        serde_json::from_str(images.images()[0].image_manifest().unwrap()).unwrap();
    let config: Value = serde_json::from_slice(&blob_of(
        p,
        repository,
        manifest["config"]["digest"].as_str().unwrap(),
    ))
    .unwrap();
    let layer = blob_of(
        p,
        repository,
        manifest["layers"][0]["digest"].as_str().unwrap(),
    );
    let mut files = std::collections::BTreeMap::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(layer.as_slice()));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type().is_file() {
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            files.insert(path, bytes);
        }
    }
    (config, files)
}

fn qemu_aarch64() -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("qemu-aarch64"))
        .find(|p| p.is_file())
}

/// arm64 (the default) with `package = "image"` on this x86_64 machine: the image carries the
/// aarch64 bootstrap and the aarch64 glibc of libc6-arm64-cross, says `architecture: arm64`,
/// and runs on its own files under qemu-aarch64; switching the image stack to x86_64 and back
/// converges like a zip stack.
#[tokio::test(flavor = "multi_thread")]
async fn an_arm64_image_carries_aarch64_libraries_and_switches_architecture() {
    const REPO: &str = "imgarm-server";
    let config = "name = \"imgarm\"\npackage = \"image\"\n";
    let p = Project::like_aws(config);
    if !Path::new("/usr/aarch64-linux-gnu/lib/libc.so.6").is_file() {
        // Without the cross glibc the image cannot be made: one clear line, before AWS.
        let out = p.mcpctl(&["deploy", "--prebuilt", p.prebuilt().to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(
            stderr(&out).contains("apt-get install libc6-arm64-cross"),
            "{}",
            stderr(&out)
        );
        eprintln!("libc6-arm64-cross is not installed: only the refusal was checked");
        return;
    }
    let first = p.deploy_json();
    assert_eq!(first["architecture"], "arm64");
    let lambda = aws_sdk_lambda::Client::new(&p.sdk().await);
    let c = lambda
        .get_function_configuration()
        .function_name("imgarm-server")
        .send()
        .await
        .unwrap();
    assert_eq!(c.package_type().unwrap().as_str(), "Image");
    assert_eq!(c.architectures()[0].as_str(), "arm64");

    let (image_config, files) = pushed_image(&p, REPO, "imgarm-server").await;
    assert_eq!(image_config["architecture"], "arm64");
    assert_eq!(image_config["os"], "linux");
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        [
            "bootstrap",
            "lib/aarch64-linux-gnu/libc.so.6",
            "lib/ld-linux-aarch64.so.1"
        ],
        "the loader at its PT_INTERP path, libc where that loader looks"
    );
    for (path, bytes) in &files {
        assert_eq!(common::elf_machine(bytes), 183, "{path} is not aarch64");
    }
    assert_eq!(
        files["lib/aarch64-linux-gnu/libc.so.6"],
        std::fs::read("/usr/aarch64-linux-gnu/lib/libc.so.6").unwrap()
    );
    assert_eq!(
        files["bootstrap"],
        std::fs::read(p.prebuilt().join("mcpctl-server")).unwrap()
    );

    // Unpacked alone, it starts: qemu-aarch64 with the image as its root finds the loader and
    // libc there (the stand-in server exits 0).
    if let Some(qemu) = qemu_aarch64() {
        let rootfs = p.dir.join("rootfs-arm64");
        for (path, bytes) in &files {
            let at = rootfs.join(path);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::fs::write(&at, bytes).unwrap();
            std::fs::set_permissions(&at, std::os::unix::fs::PermissionsExt::from_mode(0o755))
                .unwrap();
        }
        let run = Command::new(qemu)
            .arg("-L")
            .arg(&rootfs)
            .arg(rootfs.join("bootstrap"))
            .env_clear()
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "the arm64 image did not start: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    } else {
        eprintln!("qemu-aarch64 is not installed: the image was not started");
    }
    assert_eq!(p.deploy_json()["mutating_calls"], 0);

    // To x86_64: UpdateFunctionCode with the new image and the architecture.
    p.write_config(&format!("{config}architecture = \"x86_64\"\n"));
    p.use_stand_ins(Architecture::X86_64);
    let switched = p.deploy_json();
    let function = changed_steps(&switched)
        .into_iter()
        .find(|(s, _)| s == "function imgarm-server")
        .map(|(_, c)| c);
    assert_eq!(
        function,
        Some(serde_json::json!({"updated": ["code", "architecture"]})),
        "{switched}"
    );
    let (image_config, files) = pushed_image(&p, REPO, "imgarm-server").await;
    assert_eq!(image_config["architecture"], "amd64");
    assert!(
        files.keys().any(|k| k == "lib64/ld-linux-x86-64.so.2"),
        "{:?}",
        files.keys()
    );
    let c = lambda
        .get_function_configuration()
        .function_name("imgarm-server")
        .send()
        .await
        .unwrap();
    assert_eq!(c.architectures()[0].as_str(), "x86_64");
    assert_eq!(p.deploy_json()["mutating_calls"], 0);
}
