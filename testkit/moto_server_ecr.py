"""moto_server with ECR's layer upload API filled in.

moto 5.2.1 answers BatchCheckLayerAvailability, InitiateLayerUpload,
UploadLayerPart, CompleteLayerUpload and GetDownloadUrlForLayer with
NotImplementedError, so an image push cannot be exercised against it. This
launcher patches those actions onto moto's ECRResponse, following the ECR API
reference, and then runs moto's own server entry point:

    python3 testkit/moto_server_ecr.py -H 127.0.0.1 -p 5000

Arguments are those of moto_server. When MOTO_ECR_BLOB_DIR is set, every
completed layer is also written to MOTO_ECR_BLOB_DIR/<repository>/<hex digest>
and GetDownloadUrlForLayer hands out a file:// URL to it.

moto_patches.py (always applied) fills in API Gateway v2 GetAuthorizers.

Two additions, both off by default (then this is moto_server, unchanged):

- MOTO_REALISM_SEED=<int> serves moto wrapped by the AWS realism layer of
  moto_realism.py on -p PORT (throttling, eventual consistency, asynchronous
  deletes, IAM propagation, Lambda states, CloudWatch Logs conflicts; see
  REALISM.md for the rules and the other MOTO_REALISM_* knobs).
- --raw-port N also serves the same moto backends, with no realism, on
  127.0.0.1:N, so tests can read the true end state.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import signal
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ecr.exceptions import InvalidParameterException, RepositoryNotFoundException
from moto.ecr.models import Repository, ecr_backends
from moto.ecr.responses import ECRResponse
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)
from moto.server import main as moto_server_main
from werkzeug.serving import make_server, run_simple

import moto_patches  # noqa: F401  (applies the moto fixes on import)
import moto_realism

# The part size real ECR advertises; clients split uploads by it.
PART_SIZE = 10 * 1024 * 1024
# ECR reports every pushed blob with this media type, configs included.
LAYER_MEDIA_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
BLOB_DIR_ENV = "MOTO_ECR_BLOB_DIR"


# moto 5.2.1 raises ServiceException subclasses (moto/ecr/exceptions.py); the
# serializer looks the code up in botocore's ECR model, so the status, the
# __type and modelled members such as lastValidByteReceived come out the way
# the SDKs parse them.
class UploadNotFoundException(ServiceException):
    code = "UploadNotFoundException"

    def __init__(self, upload_id: str, repository_name: str, registry_id: str):
        super().__init__(
            f"Upload with id '{upload_id}' is not found for repository with "
            f"name '{repository_name}' in registry with id '{registry_id}'"
        )


class InvalidLayerPartException(ServiceException):
    code = "InvalidLayerPartException"

    def __init__(
        self,
        message: str,
        registry_id: str,
        repository_name: str,
        upload_id: str,
        last_valid_byte_received: int,
    ):
        super().__init__(message)
        self.registryId = registry_id
        self.repositoryName = repository_name
        self.uploadId = upload_id
        self.lastValidByteReceived = last_valid_byte_received


class EmptyUploadException(ServiceException):
    code = "EmptyUploadException"

    def __init__(self, upload_id: str):
        super().__init__(f"The upload with id '{upload_id}' contains no layer parts")


class InvalidLayerException(ServiceException):
    code = "InvalidLayerException"


class LayerAlreadyExistsException(ServiceException):
    code = "LayerAlreadyExistsException"

    def __init__(self, digest: str, repository_name: str, registry_id: str):
        super().__init__(
            f"Layer with digest '{digest}' already exists in the repository "
            f"with name '{repository_name}' in registry with id '{registry_id}'"
        )


class LayersNotFoundException(ServiceException):
    code = "LayersNotFoundException"


class ImageDigestDoesNotMatchException(ServiceException):
    code = "ImageDigestDoesNotMatchException"


@dataclass
class Layer:
    data: bytes
    path: Path | None  # copy under MOTO_ECR_BLOB_DIR, if one was written


@dataclass
class Upload:
    chunks: list[bytes] = field(default_factory=list)
    received: int = 0
    # Hashing as parts arrive keeps CompleteLayerUpload cheap under the lock.
    sha256: Any = field(default_factory=hashlib.sha256)


@dataclass
class RepoStore:
    # The moto Repository this state belongs to. Comparing identities notices
    # a repository that was deleted or reset (/moto-api/reset) and recreated
    # under the same name, which must not inherit old layers or uploads.
    repository: Repository
    layers: dict[str, Layer] = field(default_factory=dict)
    uploads: dict[str, Upload] = field(default_factory=dict)


# moto_server is threaded, so every access to _stores goes through _lock.
_lock = threading.Lock()
_stores: dict[tuple[str, str, str], RepoStore] = {}


def _blob_path(repository_name: str, digest: str) -> Path | None:
    root = os.environ.get(BLOB_DIR_ENV)
    if not root:
        return None
    return Path(root, repository_name, digest.split(":", 1)[1]).resolve()


def _write_blob(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename so a reader of a download URL never sees half a blob.
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _discard(key: tuple[str, str, str]) -> None:
    """Drop a repository's state and the blob files only it referenced.

    Caller holds _lock. The blob directory is laid out by repository name
    alone, so the same name in another account or region may share a file.
    """
    store = _stores.pop(key, None)
    if store is None:
        return
    shared = {
        layer.path
        for other in _stores.values()
        for layer in other.layers.values()
        if layer.path is not None
    }
    for layer in store.layers.values():
        if layer.path is not None and layer.path not in shared:
            layer.path.unlink(missing_ok=True)


def _store(
    response: ECRResponse, repository_name: str | None, registry_id: str | None
) -> RepoStore:
    """The layer state of an existing repository. Caller holds _lock."""
    registry_id = registry_id or response.current_account
    backend = ecr_backends[response.current_account][response.region]
    repository = backend.repositories.get(repository_name or "")
    if repository is None or repository.registry_id != registry_id:
        raise RepositoryNotFoundException(repository_name, registry_id)
    key = (response.current_account, response.region, repository.name)
    store = _stores.get(key)
    if store is None or store.repository is not repository:
        _discard(key)
        store = _stores[key] = RepoStore(repository)
    return store


def initiate_layer_upload(self: ECRResponse) -> ActionResult:
    with _lock:
        store = _store(
            self, self._get_param("repositoryName"), self._get_param("registryId")
        )
        upload_id = str(uuid.uuid4())
        store.uploads[upload_id] = Upload()
    return ActionResult({"uploadId": upload_id, "partSize": PART_SIZE})


def upload_layer_part(self: ECRResponse) -> ActionResult:
    # _get_param re-parses the JSON body on every call; a part is ~14 MB of
    # base64, so parse it once.
    params = json.loads(self.body)
    repository_name = params.get("repositoryName")
    upload_id = params.get("uploadId")
    first, last = params.get("partFirstByte"), params.get("partLastByte")
    if not isinstance(first, int) or not isinstance(last, int):
        raise InvalidParameterException(
            "partFirstByte and partLastByte must be integers"
        )
    try:
        blob = base64.b64decode(params.get("layerPartBlob") or "", validate=True)
    except binascii.Error:
        raise InvalidParameterException("layerPartBlob is not valid base64")

    with _lock:
        store = _store(self, repository_name, params.get("registryId"))
        registry_id = store.repository.registry_id
        upload = store.uploads.get(upload_id)
        if upload is None:
            raise UploadNotFoundException(upload_id, repository_name, registry_id)
        if first != upload.received or last - first + 1 != len(blob) or not blob:
            raise InvalidLayerPartException(
                f"The part [{first}, {last}] of {len(blob)} bytes does not "
                f"continue the upload, which has received {upload.received} bytes",
                registry_id,
                repository_name,
                upload_id,
                upload.received - 1,
            )
        upload.chunks.append(blob)
        upload.received += len(blob)
        upload.sha256.update(blob)
        received = upload.received
    return ActionResult(
        {
            "registryId": registry_id,
            "repositoryName": repository_name,
            "uploadId": upload_id,
            "lastByteReceived": received - 1,
        }
    )


def complete_layer_upload(self: ECRResponse) -> ActionResult:
    repository_name = self._get_param("repositoryName")
    upload_id = self._get_param("uploadId")
    digests = self._get_param("layerDigests") or []
    if len(digests) != 1 or not DIGEST_RE.match(digests[0]):
        raise InvalidParameterException(
            "layerDigests must hold exactly one digest of the form sha256:<hex>"
        )
    digest = digests[0]

    with _lock:
        store = _store(self, repository_name, self._get_param("registryId"))
        registry_id = store.repository.registry_id
        # An upload is single use whatever the outcome; a retry starts afresh.
        upload = store.uploads.pop(upload_id, None)
        if upload is None:
            raise UploadNotFoundException(upload_id, repository_name, registry_id)
        if not upload.chunks:
            raise EmptyUploadException(upload_id)
        actual = f"sha256:{upload.sha256.hexdigest()}"
        if actual != digest:
            raise InvalidLayerException(
                f"The layer digest calculated for the uploaded layer ({actual}) "
                f"does not match the expected digest ({digest})"
            )
        if digest in store.layers:
            raise LayerAlreadyExistsException(digest, repository_name, registry_id)
        data = b"".join(upload.chunks)
        path = _blob_path(repository_name, digest)
        if path is not None:
            _write_blob(path, data)
        store.layers[digest] = Layer(data, path)
    return ActionResult(
        {
            "registryId": registry_id,
            "repositoryName": repository_name,
            "uploadId": upload_id,
            "layerDigest": digest,
        }
    )


def batch_check_layer_availability(self: ECRResponse) -> ActionResult:
    digests = self._get_param("layerDigests") or []
    layers, failures = [], []
    with _lock:
        store = _store(
            self, self._get_param("repositoryName"), self._get_param("registryId")
        )
        for digest in digests:
            layer = store.layers.get(digest)
            if layer is not None:
                layers.append(
                    {
                        "layerDigest": digest,
                        "layerAvailability": "AVAILABLE",
                        "layerSize": len(layer.data),
                        "mediaType": LAYER_MEDIA_TYPE,
                    }
                )
            elif DIGEST_RE.match(digest):
                failures.append(
                    {
                        "layerDigest": digest,
                        "failureCode": "MissingLayerDigest",
                        "failureReason": "Could not find layer",
                    }
                )
            else:
                failures.append(
                    {
                        "layerDigest": digest,
                        "failureCode": "InvalidLayerDigest",
                        "failureReason": "Invalid layer digest",
                    }
                )
    return ActionResult({"layers": layers, "failures": failures})


def get_download_url_for_layer(self: ECRResponse) -> ActionResult:
    repository_name = self._get_param("repositoryName")
    digest = self._get_param("layerDigest")
    with _lock:
        store = _store(self, repository_name, self._get_param("registryId"))
        registry_id = store.repository.registry_id
        layer = store.layers.get(digest)
        if layer is None:
            raise LayersNotFoundException(
                f"Layer with digest '{digest}' is not found in the repository "
                f"with name '{repository_name}' in registry with id '{registry_id}'"
            )
        if layer.path is not None:
            url = layer.path.as_uri()
        else:
            url = (
                f"https://{registry_id}.dkr.ecr.{self.region}.amazonaws.com"
                f"/v2/{repository_name}/blobs/{digest}"
            )
    return ActionResult({"downloadUrl": url, "layerDigest": digest})


def _manifest_blob_digests(manifest: dict[str, Any]) -> list[str]:
    """Blobs an image manifest (Docker v2 schema 2 or OCI) needs in the repository.

    Indexes and manifest lists reference other manifests, not blobs, and
    foreign or non-distributable layers are served from elsewhere.
    """
    if not isinstance(manifest.get("layers"), list):
        return []
    blobs = [manifest.get("config") or {}] + manifest["layers"]
    return [
        blob["digest"]
        for blob in blobs
        if isinstance(blob, dict)
        and "digest" in blob
        and not any(
            word in str(blob.get("mediaType", ""))
            for word in ("foreign", "nondistributable")
        )
    ]


_original_put_image = ECRResponse.put_image
_original_delete_repository = ECRResponse.delete_repository


def put_image(self: ECRResponse) -> ActionResult:
    repository_name = self._get_param("repositoryName")
    manifest_text = self._get_param("imageManifest") or ""
    manifest_digest = f"sha256:{hashlib.sha256(manifest_text.encode()).hexdigest()}"
    try:
        manifest = json.loads(manifest_text)
    except ValueError:
        manifest = None
    with _lock:
        store = _store(self, repository_name, self._get_param("registryId"))
        requested_digest = self._get_param("imageDigest")
        if requested_digest and requested_digest != manifest_digest:
            raise ImageDigestDoesNotMatchException(
                f"The imageDigest '{requested_digest}' does not match the digest "
                f"of the image manifest '{manifest_digest}'"
            )
        if isinstance(manifest, dict):
            missing = [
                d for d in _manifest_blob_digests(manifest) if d not in store.layers
            ]
            if missing:
                raise LayersNotFoundException(
                    f"Layers with digests {missing} required for pushing image "
                    f"into repository with name '{repository_name}' in the "
                    f"registry with id '{store.repository.registry_id}' do not exist"
                )

    result = _original_put_image(self)
    # moto derives an image digest from the layer digests alone (or at random
    # for manifests without layers); ECR's is the sha256 of the manifest bytes,
    # which clients compute themselves and use in image@digest references.
    # moto computes it lazily, so it is still unset on a freshly pushed image.
    image = result.result["image"]
    if image._image_digest is None:
        image._image_digest = manifest_digest
    return result


def delete_repository(self: ECRResponse) -> ActionResult:
    result = _original_delete_repository(self)
    repository = result.result["repository"]
    with _lock:
        _discard((self.current_account, self.region, repository.name))
    return result


for _action in (
    initiate_layer_upload,
    upload_layer_part,
    complete_layer_upload,
    batch_check_layer_availability,
    get_download_url_for_layer,
    put_image,
    delete_repository,
):
    setattr(ECRResponse, _action.__name__, _action)


def _pop_raw_port(argv: list[str]) -> tuple[list[str], int | None]:
    """Strip --raw-port N / --raw-port=N, which moto's parser does not know."""
    rest, raw_port, i = [], None, 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--raw-port":
            if i + 1 >= len(argv):
                sys.exit("--raw-port needs a port number")
            value, i = argv[i + 1], i + 2
        elif arg.startswith("--raw-port="):
            value, i = arg.split("=", 1)[1], i + 1
        else:
            rest.append(arg)
            i += 1
            continue
        try:
            raw_port = int(value)
        except ValueError:
            sys.exit(f"--raw-port needs a port number, got {value!r}")
    return rest, raw_port


def serve(argv: list[str]) -> None:
    argv, raw_port = _pop_raw_port(argv)
    try:
        config = moto_realism.RealismConfig.from_env()
    except ValueError as err:
        sys.exit(f"moto_server_ecr: {err}")
    if config is None and raw_port is None:
        moto_server_main(argv)  # exactly moto_server
        return

    # What moto.server.main does, with the app wrapped and a second server.
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", type=str, default="127.0.0.1")
    parser.add_argument(
        "-p", "--port", type=int, default=int(os.environ.get("MOTO_PORT", 5000))
    )
    parser.add_argument("-r", "--reload", action="store_true", default=False)
    parser.add_argument("-s", "--ssl", action="store_true", default=False)
    parser.add_argument("-c", "--ssl-cert", type=str, default=None)
    parser.add_argument("-k", "--ssl-key", type=str, default=None)
    args = parser.parse_args(argv)
    if args.reload and raw_port is not None:
        sys.exit("--raw-port cannot be combined with --reload")
    if "MOTO_PORT" not in os.environ:
        os.environ["MOTO_PORT"] = f"{args.port}"
    try:
        signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    except Exception:
        pass

    moto_app = DomainDispatcherApplication(create_backend_app)
    moto_app.debug = True  # type: ignore[attr-defined]
    if config is not None:
        main_app = moto_realism.RealismMiddleware(moto_app, config)
        raw_app = moto_realism.ResetHook(moto_app, main_app.reset_memory)
        print(
            f"moto realism layer: seed={config.seed} rules={','.join(config.rules) or 'none'} "
            f"scale={config.scale} throttle_rate={config.throttle_rate}",
            file=sys.stderr,
            flush=True,
        )
    else:
        main_app = raw_app = moto_app

    if raw_port is not None:
        raw_server = make_server("127.0.0.1", raw_port, raw_app, threaded=True)
        threading.Thread(
            target=raw_server.serve_forever, name="moto-raw", daemon=True
        ).start()

    ssl_context: Any = None
    if args.ssl_key and args.ssl_cert:
        ssl_context = (args.ssl_cert, args.ssl_key)
    elif args.ssl:
        ssl_context = "adhoc"
    run_simple(
        args.host,
        args.port,
        main_app,
        threaded=True,
        use_reloader=args.reload,
        ssl_context=ssl_context,
    )


if __name__ == "__main__":
    serve(sys.argv[1:])
