"""Self-check for moto_server_ecr.py: push an image through the layer API.

Starts the launcher on a free 127.0.0.1 port and drives it with boto3 the way
an image push does. Exits non-zero on the first failed expectation.

    python3 testkit/moto_server_ecr_check.py
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

LAUNCHER = Path(__file__).resolve().with_name("moto_server_ecr.py")
HOST = "127.0.0.1"
REPO = "mcpctl-check/app"  # a namespaced name, so blob folders nest
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"launcher exited with {server.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"launcher did not listen on {HOST}:{port} within {START_TIMEOUT}s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=STOP_TIMEOUT)


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def expect_error(code: str, call, **kwargs) -> ClientError:
    try:
        call(**kwargs)
    except ClientError as err:
        got = err.response["Error"]["Code"]
        assert got == code, f"{call.__name__}: expected {code}, got {got}: {err}"
        return err
    raise AssertionError(f"{call.__name__}: expected {code}, but it succeeded")


def push_blob(ecr, data: bytes) -> str:
    """Upload data in parts of the size ECR asks for; returns its digest."""
    upload = ecr.initiate_layer_upload(repositoryName=REPO)
    part_size = upload["partSize"]
    for first in range(0, len(data), part_size):
        part = data[first : first + part_size]
        reply = ecr.upload_layer_part(
            repositoryName=REPO,
            uploadId=upload["uploadId"],
            partFirstByte=first,
            partLastByte=first + len(part) - 1,
            layerPartBlob=part,
        )
        assert reply["lastByteReceived"] == first + len(part) - 1, reply
    digest = digest_of(data)
    reply = ecr.complete_layer_upload(
        repositoryName=REPO, uploadId=upload["uploadId"], layerDigests=[digest]
    )
    assert reply["layerDigest"] == digest, reply
    return digest


def availability(ecr, digests: list[str]) -> tuple[dict[str, int], dict[str, str]]:
    reply = ecr.batch_check_layer_availability(repositoryName=REPO, layerDigests=digests)
    available = {}
    for layer in reply["layers"]:
        assert layer["layerAvailability"] == "AVAILABLE", layer
        available[layer["layerDigest"]] = layer["layerSize"]
    failures = {f["layerDigest"]: f["failureCode"] for f in reply["failures"]}
    return available, failures


def check(ecr, blob_dir: Path) -> None:
    ecr.create_repository(repositoryName=REPO)

    config = json.dumps({"architecture": "amd64", "os": "linux"}).encode()
    layer = os.urandom(25_000_000)  # three parts: 10 MiB, 10 MiB, the rest
    config_digest, layer_digest = digest_of(config), digest_of(layer)

    available, failures = availability(ecr, [config_digest, layer_digest, "nope"])
    assert available == {}, available
    assert failures == {
        config_digest: "MissingLayerDigest",
        layer_digest: "MissingLayerDigest",
        "nope": "InvalidLayerDigest",
    }, failures

    assert push_blob(ecr, config) == config_digest
    assert push_blob(ecr, layer) == layer_digest
    available, failures = availability(ecr, [config_digest, layer_digest])
    assert available == {config_digest: len(config), layer_digest: len(layer)}
    assert failures == {}, failures

    # Refusals: wrong digest, a gap in the parts, an unknown upload, a repeat.
    upload_id = ecr.initiate_layer_upload(repositoryName=REPO)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=REPO,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=2,
        layerPartBlob=b"abc",
    )
    err = expect_error(
        "InvalidLayerPartException",
        ecr.upload_layer_part,
        repositoryName=REPO,
        uploadId=upload_id,
        partFirstByte=10,
        partLastByte=12,
        layerPartBlob=b"def",
    )
    assert err.response.get("lastValidByteReceived") == 2, err.response
    expect_error(
        "InvalidLayerException",
        ecr.complete_layer_upload,
        repositoryName=REPO,
        uploadId=upload_id,
        layerDigests=[digest_of(b"something else")],
    )
    expect_error(
        "UploadNotFoundException",
        ecr.upload_layer_part,
        repositoryName=REPO,
        uploadId="00000000-0000-0000-0000-000000000000",
        partFirstByte=0,
        partLastByte=0,
        layerPartBlob=b"x",
    )
    upload_id = ecr.initiate_layer_upload(repositoryName=REPO)["uploadId"]
    ecr.upload_layer_part(
        repositoryName=REPO,
        uploadId=upload_id,
        partFirstByte=0,
        partLastByte=len(config) - 1,
        layerPartBlob=config,
    )
    expect_error(
        "LayerAlreadyExistsException",
        ecr.complete_layer_upload,
        repositoryName=REPO,
        uploadId=upload_id,
        layerDigests=[config_digest],
    )
    expect_error(
        "RepositoryNotFoundException",
        ecr.initiate_layer_upload,
        repositoryName="no-such-repo",
    )

    media_type = "application/vnd.oci.image.manifest.v1+json"
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": media_type,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest,
                    "size": len(layer),
                }
            ],
        }
    )
    image = ecr.put_image(
        repositoryName=REPO,
        imageManifest=manifest,
        imageManifestMediaType=media_type,
        imageTag="v1",
    )["image"]
    image_digest = image["imageId"]["imageDigest"]
    assert image_digest == digest_of(manifest.encode()), image

    details = ecr.describe_images(repositoryName=REPO)["imageDetails"]
    assert [(d["imageDigest"], d["imageTags"]) for d in details] == [
        (image_digest, ["v1"])
    ], details
    got = ecr.batch_get_image(repositoryName=REPO, imageIds=[{"imageTag": "v1"}])
    assert [i["imageManifest"] for i in got["images"]] == [manifest], got
    assert got["images"][0]["imageId"]["imageDigest"] == image_digest, got

    unknown = json.loads(manifest)
    unknown["layers"][0]["digest"] = digest_of(b"never uploaded")
    expect_error(
        "LayersNotFoundException",
        ecr.put_image,
        repositoryName=REPO,
        imageManifest=json.dumps(unknown),
        imageTag="v2",
    )

    url = ecr.get_download_url_for_layer(repositoryName=REPO, layerDigest=layer_digest)
    parsed = urlparse(url["downloadUrl"])
    assert parsed.scheme == "file", url
    path = Path(url2pathname(parsed.path))
    assert path.parent == (blob_dir / REPO).resolve(), path
    assert digest_of(path.read_bytes()) == layer_digest, path
    expect_error(
        "LayersNotFoundException",
        ecr.get_download_url_for_layer,
        repositoryName=REPO,
        layerDigest=digest_of(b"never uploaded"),
    )

    ecr.delete_repository(repositoryName=REPO, force=True)
    assert not path.exists(), f"{path} outlived its repository"
    expect_error(
        "RepositoryNotFoundException", ecr.describe_repositories, repositoryNames=[REPO]
    )
    # A repository created again under the same name starts empty.
    ecr.create_repository(repositoryName=REPO)
    available, _ = availability(ecr, [config_digest, layer_digest])
    assert available == {}, available
    ecr.delete_repository(repositoryName=REPO)


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="moto-ecr-check-") as tmp:
        blob_dir = Path(tmp, "blobs")
        log = Path(tmp, "server.log")
        env = dict(
            os.environ,
            MOTO_IAM_LOAD_MANAGED_POLICIES="true",
            MOTO_ECR_BLOB_DIR=str(blob_dir),
            PYTHONDONTWRITEBYTECODE="1",
        )
        with log.open("wb") as log_file:
            server = subprocess.Popen(
                [sys.executable, str(LAUNCHER), "-H", HOST, "-p", str(port)],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(port, server, log)
            ecr = boto3.client(
                "ecr",
                endpoint_url=f"http://{HOST}:{port}",
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(
                    connect_timeout=5, read_timeout=60, retries={"max_attempts": 1}
                ),
            )
            try:
                check(ecr, blob_dir)
            except Exception:
                print(log.read_text(errors="replace")[-4000:], file=sys.stderr)
                raise
        finally:
            stop(server)
    print("moto_server_ecr: all checks passed")


if __name__ == "__main__":
    main()
