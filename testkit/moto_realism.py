"""An AWS realism layer: WSGI middleware in front of moto's server app.

moto answers at once and consistently; AWS does not. This middleware injects the
behaviours AWS documents and moto lacks, for the services mcpctl deploys with
(Lambda, API Gateway v2, Secrets Manager, IAM, STS, CloudWatch Logs, ECR). Each
rule is switchable, every random choice is seeded, and every injection is
counted. testkit/REALISM.md describes the rules, their sources and the knobs.

    app = RealismMiddleware(DomainDispatcherApplication(create_backend_app),
                            RealismConfig.from_env())

Randomness never comes from a shared random stream: each decision hashes
(seed, decision kind, resource key, how many times that kind/key was decided
before). The same seed and the same sequence of requests therefore give the
same decisions, and unrelated concurrent requests do not disturb each other's
draws. /moto-api/reset clears the layer's memory (windows, snapshots, draw
counters), so each test after a reset replays identically; /_realism/reset
zeroes the counters that /_realism/stats reports.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from http import HTTPStatus
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, unquote

RULES = (
    "throttle",
    "consistency",
    "secret-delete",
    "iam-propagation",
    "lambda-states",
    "logs-abort",
)
STAT_KEYS = (
    "throttle",
    "stale_list",
    "stale_get",
    "secret_name_busy",
    "iam_propagation",
    "lambda_pending",
    "lambda_conflict",
    "logs_abort",
)

# Window ranges in seconds at MOTO_REALISM_SCALE=1; each window's length is
# drawn (seeded) within its range and multiplied by the scale.
WINDOWS: dict[str, tuple[float, float]] = {
    "list_lag": (1.0, 3.0),
    "get_after_delete": (1.0, 3.0),
    "secret_name_busy": (3.0, 6.0),
    "iam_propagation": (2.0, 5.0),
    "ecr_policy_propagation": (2.0, 5.0),
    "lambda_pending": (1.0, 2.0),
    "lambda_in_progress": (1.0, 2.0),
    "logs_conflict": (0.5, 1.0),
}
# Throttle probability of a retry (attempt > 1), relative to the first attempt.
RETRY_THROTTLE_FACTOR = 0.25
# Probability that CreateLogGroup of an existing group answers
# OperationAbortedException instead of ResourceAlreadyExistsException.
LOGS_EXISTING_ABORT_RATE = 0.2
# Seconds Lambda's TooManyRequestsException asks the caller to wait.
LAMBDA_RETRY_AFTER = "1"

ENV_SEED = "MOTO_REALISM_SEED"
ENV_RULES = "MOTO_REALISM_RULES"
ENV_SCALE = "MOTO_REALISM_SCALE"
ENV_THROTTLE_RATE = "MOTO_REALISM_THROTTLE_RATE"


# --------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class RealismConfig:
    seed: int
    rules: tuple[str, ...] = RULES
    scale: float = 1.0
    throttle_rate: float = 0.1

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "RealismConfig | None":
        """None when MOTO_REALISM_SEED is unset; ValueError on a bad setting."""
        env = os.environ if env is None else env
        raw_seed = env.get(ENV_SEED, "").strip()
        if not raw_seed:
            return None
        try:
            seed = int(raw_seed)
        except ValueError:
            raise ValueError(f"{ENV_SEED} must be an integer, got {raw_seed!r}")
        raw_rules = env.get(ENV_RULES, "").strip()
        if not raw_rules or raw_rules == "all":
            rules = RULES
        elif raw_rules == "none":
            rules = ()
        else:
            wanted = [r.strip() for r in raw_rules.split(",") if r.strip()]
            unknown = [r for r in wanted if r not in RULES]
            if unknown:
                raise ValueError(
                    f"{ENV_RULES}: unknown rule(s) {unknown}; known: {', '.join(RULES)}"
                )
            rules = tuple(r for r in RULES if r in wanted)
        scale = _float_env(env, ENV_SCALE, 1.0)
        rate = _float_env(env, ENV_THROTTLE_RATE, 0.1)
        if scale < 0:
            raise ValueError(f"{ENV_SCALE} must be >= 0")
        if not 0 <= rate <= 1:
            raise ValueError(f"{ENV_THROTTLE_RATE} must be within [0, 1]")
        return cls(seed=seed, rules=rules, scale=scale, throttle_rate=rate)


def _float_env(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}")


# --------------------------------------------------------------------------
# Requests and responses


# SigV4 credential scope: Credential=AKID/yyyymmdd/region/service/aws4_request
_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")
_ATTEMPT_RE = re.compile(r"attempt=(\d+)")
_MAX_RE = re.compile(r"max=(\d+)")
_REQUEST_ID_RE = re.compile(rb"<RequestId>[^<]*</RequestId>")

JSON_SERVICES = {"secretsmanager", "logs", "ecr"}  # awsJson1_1, X-Amz-Target
QUERY_SERVICES = {"iam", "sts"}  # awsQuery, Action form field
REST_SERVICES = {"lambda": "lambda", "apigatewayv2": "apigatewayv2"}  # restJson1
QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
# Bodies we never parse as parameters (opaque payloads).
OPAQUE_BODY_OPS = {"Invoke", "InvokeAsync", "InvokeWithResponseStream", "UploadLayerPart"}
PAGINATION_TOKENS = {"NextToken", "nextToken", "Marker", "marker"}


class RestRoutes:
    """Maps method + path to an operation name using botocore's model.

    The routes are the requestUri templates of botocore's service-2.json for the
    service, the same source moto's own rest-json dispatch relies on.
    """

    def __init__(self, service_name: str):
        import botocore.session

        model = botocore.session.get_session().get_service_model(service_name)
        routes = []
        for name in model.operation_names:
            http = model.operation_model(name).http
            path, _, query = http["requestUri"].partition("?")
            required = tuple(p.split("=")[0] for p in query.split("&") if p)
            pattern, literal, labels = "", 0, {}
            for piece in re.split(r"(\{[^}]+\})", path.rstrip("/") or "/"):
                if piece.startswith("{"):
                    label = piece[1:-1]
                    greedy = label.endswith("+")
                    label = label.rstrip("+")
                    group = f"g{len(labels)}"  # labels such as resource-arn are no group names
                    labels[group] = label
                    pattern += f"(?P<{group}>.+)" if greedy else f"(?P<{group}>[^/]+)"
                else:
                    pattern += re.escape(piece)
                    literal += len(piece)
            routes.append(
                (-len(required), -literal, http["method"], re.compile(pattern), required, name, labels)
            )
        routes.sort(key=lambda r: (r[0], r[1]))
        self.routes = [r[2:] for r in routes]

    def match(
        self, method: str, path: str, query: dict[str, list[str]]
    ) -> tuple[str, dict[str, str]] | None:
        path = path.rstrip("/") or "/"
        for route_method, regex, required, name, labels in self.routes:
            if route_method != method:
                continue
            found = regex.fullmatch(path)
            if found and all(q in query for q in required):
                return name, {labels[g]: unquote(v) for g, v in found.groupdict().items()}
        return None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes
    service: str | None = None
    region: str = "us-east-1"
    op: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    attempt: int | None = None
    max_attempts: int | None = None

    @cached_property
    def params(self) -> dict[str, Any]:
        """Operation input: JSON body, form fields or path labels + query + body."""
        if self.service in QUERY_SERVICES:
            fields = parse_qs(self.query_string_body(), keep_blank_values=True)
            merged = {**self.query, **fields}
            return {k: v[0] for k, v in merged.items()}
        out: dict[str, Any] = {}
        if self.op not in OPAQUE_BODY_OPS and self.body:
            try:
                data = json.loads(self.body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                out.update(data)
        if self.service in REST_SERVICES:
            out.update({k: v[0] for k, v in self.query.items()})
            out.update(self.labels)
        return out

    def query_string_body(self) -> str:
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return ""


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def error_code(self) -> str | None:
        """The error code as an SDK would read it (header, __type or XML Code)."""
        if self.ok:
            return None
        for name, value in self.headers:
            if name.lower() == "x-amzn-errortype":
                return value.split(":")[0].split("#")[-1]
        data = self.json()
        if isinstance(data, dict):
            code = data.get("__type") or data.get("code") or data.get("Code")
            if isinstance(code, str):
                return code.split("#")[-1]
        found = re.search(rb"<Code>([^<]+)</Code>", self.body)
        return found.group(1).decode() if found else None

    def with_body(self, body: bytes, status: int | None = None) -> "Response":
        headers = [(k, v) for k, v in self.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        return Response(self.status if status is None else status, headers, body)


def _request_id() -> str:
    return str(uuid.uuid4())


def json_error(
    status: int,
    code: str,
    message: str,
    *,
    message_key: str = "message",
    rest: bool = False,
    extra: dict[str, Any] | None = None,
    headers: Iterable[tuple[str, str]] = (),
) -> Response:
    """An awsJson1_1 (``__type``) or restJson1 (members only) error response.

    Both carry the code in ``x-amzn-ErrorType``, which botocore and the Rust SDK
    read first.
    """
    body: dict[str, Any] = {} if rest else {"__type": code}
    body.update(extra or {})
    body[message_key] = message
    data = json.dumps(body).encode()
    hdrs = [
        ("Content-Type", "application/json" if rest else "application/x-amz-json-1.1"),
        ("x-amzn-ErrorType", code),
        ("x-amzn-RequestId", _request_id()),
        ("Content-Length", str(len(data))),
        *headers,
    ]
    return Response(status, hdrs, data)


def query_error(service: str, status: int, code: str, message: str) -> Response:
    """An awsQuery error (IAM, STS): ErrorResponse/Error/{Type,Code,Message}."""
    ns = QUERY_NAMESPACES.get(service, "")
    request_id = _request_id()
    data = (
        f'<ErrorResponse xmlns="{ns}">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    hdrs = [
        ("Content-Type", "text/xml"),
        ("x-amzn-RequestId", request_id),
        ("Content-Length", str(len(data))),
    ]
    return Response(status, hdrs, data)


def _fresh_request_id(resp: Response) -> Response:
    """A replayed response gets a request id of its own, as any AWS answer has."""
    request_id = _request_id()
    body = _REQUEST_ID_RE.sub(f"<RequestId>{request_id}</RequestId>".encode(), resp.body)
    out = resp.with_body(body)
    out.headers = [
        (k, request_id if k.lower() in ("x-amzn-requestid", "x-amz-request-id") else v)
        for k, v in out.headers
    ]
    return out


def _comparable(body: bytes) -> bytes:
    return _REQUEST_ID_RE.sub(b"", body)


# --------------------------------------------------------------------------
# Rule data: the error shapes and the documentation they come from


# Throttling, per service.
# - Lambda: botocore lambda/2015-03-31 service-2.json TooManyRequestsException
#   (429; members Type, message, Reason of ThrottleReason incl.
#   CallerRateLimitExceeded; retryAfterSeconds bound to the Retry-After header).
#   https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html#api-requests
# - API Gateway v2: botocore apigatewayv2/2018-11-29 TooManyRequestsException
#   (429; members message, limitType).
# - Secrets Manager, CloudWatch Logs, ECR: ThrottlingException, 400 "Rate
#   exceeded" (AWS common errors, https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html;
#   logs' model declares ThrottlingException too).
# - IAM, STS: Throttling, 400 "Rate exceeded" (awsQuery common error,
#   https://docs.aws.amazon.com/IAM/latest/APIReference/CommonErrors.html).
# All of these codes are in botocore's and the Rust SDK's throttling-error lists,
# so standard retries treat them as throttles.
THROTTLED_SERVICES = JSON_SERVICES | QUERY_SERVICES | set(REST_SERVICES)


def throttle_response(service: str) -> Response | None:
    if service == "lambda":
        return json_error(
            429,
            "TooManyRequestsException",
            "Rate exceeded",
            rest=True,
            extra={"Type": "User", "Reason": "CallerRateLimitExceeded"},
            headers=[("Retry-After", LAMBDA_RETRY_AFTER)],
        )
    if service == "apigatewayv2":
        return json_error(429, "TooManyRequestsException", "Too Many Requests", rest=True)
    if service in JSON_SERVICES:
        return json_error(400, "ThrottlingException", "Rate exceeded")
    if service in QUERY_SERVICES:
        return query_error(service, 400, "Throttling", "Rate exceeded")
    return None


# Secrets Manager: DeleteSecret ForceDeleteWithoutRecovery deletes
# asynchronously ("there might be a short delay before the secret is
# permanently deleted. If you delete a secret and then immediately create a
# secret with the same name, use appropriate back off and retry logic.",
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html).
# Error: InvalidRequestException (400, member Message; botocore secretsmanager
# service-2.json: "The secret is scheduled for deletion."), wording as AWS
# answers it (https://repost.aws/knowledge-center/delete-secrets-manager-secret).
SECRET_CREATE_BUSY = (
    "You can't create this secret because a secret with this name is already "
    "scheduled for deletion."
)
# The message AWS gives for any other operation on a secret in that state.
SECRET_RESTORE_BUSY = (
    "You can't perform this operation on the secret because it was marked for deletion."
)

# Lambda: the execution role is checked with sts:AssumeRole at CreateFunction /
# UpdateFunctionConfiguration; IAM changes are eventually consistent
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency),
# so a fresh role fails with InvalidParameterValueException (400, members Type,
# message; botocore lambda service-2.json).
LAMBDA_ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."
# Lambda checks the repository policy lets lambda.amazonaws.com pull
# (https://docs.aws.amazon.com/lambda/latest/dg/images-create.html#configuration-images-permissions,
# https://repost.aws/knowledge-center/lambda-ecr-image). AWS answers this one
# with HTTP 403 AccessDeniedException (not a modelled Lambda error shape).
LAMBDA_ECR_DENIED = (
    "Lambda does not have permission to access the ECR image. Check the ECR permissions."
)

# Lambda function states (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html):
# Pending after CreateFunction; LastUpdateStatus InProgress after an update.
# While Pending, Invoke, UpdateFunctionCode, UpdateFunctionConfiguration and
# PublishVersion fail; while InProgress the last three do. The error is
# ResourceConflictException (409, members Type, message) with these messages
# (https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html#troubleshooting-invocation-ResourceConflictException).
LAMBDA_PENDING_CONFLICT = (
    "The operation cannot be performed at this time. "
    "The function is currently in the following state: Pending"
)
LAMBDA_UPDATE_CONFLICT = (
    "The operation cannot be performed at this time. "
    "An update is in progress for resource: {arn}"
)
LAMBDA_PENDING_FIELDS = {
    "State": "Pending",
    "StateReason": "The function is being created.",
    "StateReasonCode": "Creating",
}
LAMBDA_IN_PROGRESS_FIELDS = {
    "LastUpdateStatus": "InProgress",
    "LastUpdateStatusReason": "The function is being created.",
    "LastUpdateStatusReasonCode": "Creating",
}
LAMBDA_PENDING_BLOCKS = {"Invoke", "UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion"}
LAMBDA_UPDATE_BLOCKS = {"UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion"}

# CloudWatch Logs: OperationAbortedException (400; botocore logs service-2.json
# "Multiple concurrent requests to update the same resource were in conflict.",
# declared by CreateLogGroup and DeleteLogGroup), with the message AWS sends.
LOGS_ABORTED = (
    "A conflicting operation is currently in progress against this resource. Please try again."
)

# Eventual consistency of lists and of reads after a delete: the AWS APIs are
# eventually consistent (IAM: URL above; Lambda:
# https://docs.aws.amazon.com/lambda/latest/dg/API_DeleteFunction.html and
# functions-states; API Gateway and Secrets Manager deletions are asynchronous,
# see API_DeleteSecret above).
LIST_OPS = {
    ("iam", "ListRoles"),
    ("secretsmanager", "ListSecrets"),
    ("lambda", "ListFunctions"),
    ("apigatewayv2", "GetApis"),
    ("logs", "DescribeLogGroups"),
}
MUTATION_PREFIXES = (
    "Create", "Delete", "Update", "Put", "Tag", "Untag", "Attach", "Detach", "Add",
    "Remove", "Publish", "Set", "Restore", "Rotate", "Associate", "Disassociate",
    "Import", "Reimport", "Enable", "Disable", "Cancel", "Change",
)
# Data-plane writes that do not change what the watched lists show.
NOT_MUTATIONS = {"PutLogEvents", "PutImage", "UploadLayerPart", "CompleteLayerUpload", "InitiateLayerUpload"}


def is_mutation(op: str) -> bool:
    return op.startswith(MUTATION_PREFIXES) and op not in NOT_MUTATIONS


def function_name(name_or_arn: str | None) -> str | None:
    """A Lambda function name from a name, a partial or full ARN, with qualifier."""
    if not name_or_arn:
        return None
    value = unquote(name_or_arn)
    if ":function:" in value:
        value = value.split(":function:", 1)[1]
    return value.split(":", 1)[0] or None


def role_name(role_arn: str | None) -> str | None:
    if not role_arn or ":role/" not in role_arn:
        return None
    return role_arn.rsplit("/", 1)[-1] or None


def image_repository(image_uri: str | None) -> tuple[str, str] | None:
    """(region, repository) of <acct>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]."""
    if not image_uri or "/" not in image_uri:
        return None
    host, rest = image_uri.split("/", 1)
    parts = host.split(".")
    if len(parts) < 4 or parts[1:3] != ["dkr", "ecr"]:
        return None
    repo = rest.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo.rsplit(":", 1)[0]
    return parts[3], repo


def secret_name_from_arn(arn: str) -> str:
    # arn:aws:secretsmanager:<region>:<acct>:secret:<name>-<6 random chars>
    name = arn.split(":secret:", 1)[-1]
    return re.sub(r"-[A-Za-z0-9]{6}$", "", name)


# --------------------------------------------------------------------------
# The middleware


@dataclass
class Snapshot:
    response: Response
    extra: dict[str, Any] = field(default_factory=dict)


class RealismMiddleware:
    def __init__(self, app: Callable, config: RealismConfig, clock: Callable[[], float] = time.monotonic):
        self.app = app
        self.config = config
        self.clock = clock
        self.lock = threading.Lock()
        self.routes = {svc: RestRoutes(model) for svc, model in REST_SERVICES.items()}
        self._reset_stats()
        self.reset_memory()

    # ---- state ----------------------------------------------------------

    def _reset_stats(self) -> None:
        self.injected = {k: 0 for k in STAT_KEYS}
        self.requests = 0

    def reset_memory(self) -> None:
        """Forget windows, snapshots and draw counters (called on /moto-api/reset)."""
        with self.lock:
            self.draws: dict[tuple, int] = defaultdict(int)
            # consistency
            self.list_lag_until: dict[tuple, float] = {}
            self.last_list: dict[tuple, Response] = {}
            self.frozen_list: dict[tuple, Response] = {}
            self.snapshots: dict[tuple, Snapshot] = {}
            self.stale_get_until: dict[tuple, float] = {}
            # secret-delete
            self.secret_busy_until: dict[tuple, float] = {}
            self.secret_arns: dict[str, str] = {}
            # iam-propagation
            self.role_ready_at: dict[str, float] = {}
            self.repo_ready_at: dict[tuple, float] = {}
            # lambda-states
            self.pending_until: dict[tuple, float] = {}
            self.updating_until: dict[tuple, float] = {}
            self.function_arns: dict[tuple, str] = {}
            # logs-abort
            self.log_group_busy_until: dict[tuple, float] = {}

    def stats(self) -> dict[str, Any]:
        with self.lock:
            return {
                "seed": self.config.seed,
                "rules": list(self.config.rules),
                "injected": dict(self.injected),
                "requests": self.requests,
            }

    def on(self, rule: str) -> bool:
        return rule in self.config.rules

    def _draw(self, kind: str, key: Any) -> float:
        """A seeded number in [0, 1): the n-th decision of this kind for this key."""
        n = self.draws[(kind, key)] = self.draws[(kind, key)] + 1
        digest = hashlib.sha256(repr((self.config.seed, kind, key, n)).encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def _window(self, kind: str, key: Any) -> float:
        low, high = WINDOWS[kind]
        return (low + (high - low) * self._draw(kind, key)) * self.config.scale

    def _count(self, stat: str) -> None:
        self.injected[stat] += 1

    # ---- WSGI -----------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or ""
        if path.startswith("/_realism/") or path == "/_realism":
            return self._control(environ, start_response, path)
        if path.startswith("/moto-api") or path == "/favicon.ico":
            if path.rstrip("/") == "/moto-api/reset":
                result = _call(self.app, environ)
                self.reset_memory()
                return _send(start_response, result)
            return self.app(environ, start_response)

        body = _read_body(environ)
        req = self._parse(environ, body)
        with self.lock:
            self.requests += 1
            injected = self._before(req) if req.op else None
        if injected is not None:
            return _send(start_response, injected)
        resp = _call(self.app, environ)
        if req.op:
            with self.lock:
                resp = self._after(req, resp)
        return _send(start_response, resp)

    def _control(self, environ: dict[str, Any], start_response: Callable, path: str) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if path.rstrip("/") == "/_realism/stats" and method == "GET":
            return _send(start_response, _json_ok(self.stats()))
        if path.rstrip("/") == "/_realism/reset" and method == "POST":
            with self.lock:
                self._reset_stats()
            return _send(start_response, _json_ok(self.stats()))
        return _send(start_response, _json_ok({"message": f"no such endpoint: {method} {path}"}, 404))

    def _parse(self, environ: dict[str, Any], body: bytes) -> Request:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        req = Request(method, path, query, body)
        scope = _CREDENTIAL_RE.search(environ.get("HTTP_AUTHORIZATION", "") or "")
        if scope:
            req.region, service = scope.group(3), scope.group(4).lower()
        else:
            service = None
        if service == "apigateway" and path.startswith("/v2/"):
            service = "apigatewayv2"
        req.service = service
        header = environ.get("HTTP_AMZ_SDK_REQUEST")
        if header:
            attempt, most = _ATTEMPT_RE.search(header), _MAX_RE.search(header)
            req.attempt = int(attempt.group(1)) if attempt else None
            req.max_attempts = int(most.group(1)) if most else None
        if method == "OPTIONS":
            return req
        if service in JSON_SERVICES:
            target = environ.get("HTTP_X_AMZ_TARGET", "") or ""
            req.op = target.split(".", 1)[1] if "." in target else None
        elif service in QUERY_SERVICES:
            req.op = req.params.get("Action") or None
        elif service in self.routes:
            found = self.routes[service].match(method, path, query)
            if found:
                req.op, req.labels = found
        return req

    # ---- before moto: injected refusals ---------------------------------

    def _before(self, req: Request) -> Response | None:
        now = self.clock()
        svc, op, p = req.service, req.op, req.params

        if self.on("throttle"):
            refusal = self._throttle(req)
            if refusal is not None:
                self._count("throttle")
                return refusal

        if self.on("secret-delete") and svc == "secretsmanager":
            if op == "CreateSecret":
                name = p.get("Name")
                if name and self.secret_busy_until.get((req.region, name), 0) > now:
                    self._count("secret_name_busy")
                    return json_error(400, "InvalidRequestException", SECRET_CREATE_BUSY, message_key="Message")
            elif op == "RestoreSecret":
                name = self._secret_name(p.get("SecretId"))
                if name and self.secret_busy_until.get((req.region, name), 0) > now:
                    self._count("secret_name_busy")
                    return json_error(400, "InvalidRequestException", SECRET_RESTORE_BUSY, message_key="Message")

        if svc == "lambda":
            name = function_name(p.get("FunctionName"))
            key = (req.region, name)
            if self.on("lambda-states") and name and self._unqualified(req):
                if op in LAMBDA_PENDING_BLOCKS and self.pending_until.get(key, 0) > now:
                    self._count("lambda_conflict")
                    return json_error(409, "ResourceConflictException", LAMBDA_PENDING_CONFLICT, rest=True, extra={"Type": "User"})
                if op in LAMBDA_UPDATE_BLOCKS and self.updating_until.get(key, 0) > now:
                    self._count("lambda_conflict")
                    arn = self.function_arns.get(key) or f"arn:aws:lambda:{req.region}:123456789012:function:{name}"
                    return json_error(409, "ResourceConflictException", LAMBDA_UPDATE_CONFLICT.format(arn=arn), rest=True, extra={"Type": "User"})
            if self.on("iam-propagation"):
                if op in ("CreateFunction", "UpdateFunctionConfiguration"):
                    role = role_name(p.get("Role"))
                    if role and self.role_ready_at.get(role, 0) > now:
                        self._count("iam_propagation")
                        return json_error(400, "InvalidParameterValueException", LAMBDA_ROLE_NOT_ASSUMABLE, rest=True, extra={"Type": "User"})
                if op in ("CreateFunction", "UpdateFunctionCode"):
                    code = p.get("Code") if op == "CreateFunction" else p
                    image = code.get("ImageUri") if isinstance(code, dict) else None
                    repo = image_repository(image)
                    if repo and self.repo_ready_at.get(repo, 0) > now:
                        self._count("iam_propagation")
                        return json_error(403, "AccessDeniedException", LAMBDA_ECR_DENIED, rest=True, message_key="Message", extra={"Type": "User"})

        if self.on("logs-abort") and svc == "logs" and op == "CreateLogGroup":
            group = p.get("logGroupName")
            if group and self.log_group_busy_until.get((req.region, group), 0) > now:
                self._count("logs_abort")
                return json_error(400, "OperationAbortedException", LOGS_ABORTED)
        return None

    def _throttle(self, req: Request) -> Response | None:
        if req.service not in THROTTLED_SERVICES or req.method == "OPTIONS":
            return None
        rate = self.config.throttle_rate
        if req.attempt is not None:
            if req.max_attempts is not None and req.attempt >= req.max_attempts:
                return None  # the caller's last try always gets through
            if req.attempt > 1:
                rate *= RETRY_THROTTLE_FACTOR
        if rate <= 0 or self._draw("throttle", (req.service, req.op)) >= rate:
            return None
        return throttle_response(req.service)

    @staticmethod
    def _unqualified(req: Request) -> bool:
        qualifier = req.params.get("Qualifier")
        raw = unquote(req.labels.get("FunctionName", "") or "")
        if ":" in raw.split(":function:", 1)[-1]:
            qualifier = qualifier or raw.rsplit(":", 1)[-1]
        return qualifier in (None, "", "$LATEST")

    def _secret_name(self, secret_id: str | None) -> str | None:
        if not secret_id:
            return None
        if secret_id.startswith("arn:"):
            return self.secret_arns.get(secret_id) or secret_name_from_arn(secret_id)
        return secret_id

    # ---- after moto: windows, rewrites, replays -------------------------

    def _after(self, req: Request, resp: Response) -> Response:
        now = self.clock()
        svc, op = req.service, req.op
        handler = getattr(self, f"_after_{svc}", None)
        if handler is not None:
            resp = handler(req, resp, now)
        if self.on("consistency"):
            if resp.ok and is_mutation(op):
                self._start_list_lag(req, now)
            if (svc, op) in LIST_OPS:
                resp = self._list(req, resp, now)
        return resp

    # consistency: lists

    def _list_key(self, req: Request) -> tuple | None:
        params = {
            k: v
            for k, v in req.params.items()
            if k not in ("Action", "Version") and not k.startswith("X-Amz-")
        }
        if any(k in PAGINATION_TOKENS for k in params):
            return None  # a continuation page: always fresh, never remembered
        return (req.service, req.region, req.op, json.dumps(params, sort_keys=True, default=str))

    def _start_list_lag(self, req: Request, now: float) -> None:
        scope = (req.service, req.region)
        until = now + self._window("list_lag", scope)
        self.list_lag_until[scope] = max(self.list_lag_until.get(scope, 0), until)
        # What every remembered list showed before this mutation.
        for key, last in self.last_list.items():
            if key[:2] == scope:
                self.frozen_list[key] = last

    def _list(self, req: Request, resp: Response, now: float) -> Response:
        key = self._list_key(req)
        if key is None or not resp.ok:
            return resp
        self.last_list[key] = resp
        frozen = self.frozen_list.get(key)
        if (
            frozen is not None
            and self.list_lag_until.get(key[:2], 0) > now
            and _comparable(frozen.body) != _comparable(resp.body)
        ):
            self._count("stale_list")
            return _fresh_request_id(resp.with_body(frozen.body))
        return resp

    # consistency: a read right after a delete still sees the resource

    def _remember_get(self, key: tuple, resp: Response, **extra: Any) -> None:
        self.snapshots[key] = Snapshot(resp, extra)
        self.stale_get_until.pop(key, None)

    def _start_stale_get(self, key: tuple, now: float, **extra: Any) -> None:
        if self.on("consistency") and key in self.snapshots:
            self.stale_get_until[key] = now + self._window("get_after_delete", key)
            self.snapshots[key].extra.update(extra)

    def _replay_get(self, key: tuple, resp: Response, now: float) -> Snapshot | None:
        """The snapshot to answer with instead of moto's not-found, if any."""
        if resp.ok or not self.on("consistency"):
            return None
        if self.stale_get_until.get(key, 0) <= now:
            return None
        snap = self.snapshots.get(key)
        if snap is None:
            return None
        self._count("stale_get")
        return snap

    def _forget(self, key: tuple) -> None:
        self.snapshots.pop(key, None)
        self.stale_get_until.pop(key, None)

    # per-service post-processing

    def _after_iam(self, req: Request, resp: Response, now: float) -> Response:
        op, role = req.op, req.params.get("RoleName")
        if not role:
            return resp
        key = ("iam", "GetRole", role)
        if op in ("CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy", "AttachRolePolicy") and resp.ok:
            if op == "CreateRole":
                self._forget(key)
            if self.on("iam-propagation"):
                until = now + self._window("iam_propagation", role)
                self.role_ready_at[role] = max(self.role_ready_at.get(role, 0), until)
        elif op == "GetRole":
            if resp.ok:
                self._remember_get(key, resp)
            else:
                snap = self._replay_get(key, resp, now)
                if snap is not None:
                    return _fresh_request_id(snap.response)
        elif op == "DeleteRole" and resp.ok:
            self.role_ready_at.pop(role, None)
            self._start_stale_get(key, now)
        return resp

    def _after_ecr(self, req: Request, resp: Response, now: float) -> Response:
        repo = req.params.get("repositoryName")
        if not repo:
            return resp
        key = (req.region, repo)
        if req.op == "SetRepositoryPolicy" and resp.ok and self.on("iam-propagation"):
            until = now + self._window("ecr_policy_propagation", key)
            self.repo_ready_at[key] = max(self.repo_ready_at.get(key, 0), until)
        elif req.op == "DeleteRepository" and resp.ok:
            self.repo_ready_at.pop(key, None)
        return resp

    def _after_secretsmanager(self, req: Request, resp: Response, now: float) -> Response:
        op, p = req.op, req.params
        data = resp.json() if resp.ok else None
        if isinstance(data, dict) and data.get("ARN") and data.get("Name"):
            self.secret_arns[data["ARN"]] = data["Name"]
        if op == "CreateSecret" and resp.ok and p.get("Name"):
            self._forget(("secretsmanager", req.region, p["Name"]))
            self.secret_busy_until.pop((req.region, p["Name"]), None)
        elif op == "DescribeSecret":
            name = self._secret_name(p.get("SecretId"))
            if resp.ok and isinstance(data, dict):
                self._remember_get(("secretsmanager", req.region, data.get("Name") or name), resp)
            elif name:
                snap = self._replay_get(("secretsmanager", req.region, name), resp, now)
                if snap is not None:
                    body = snap.response.json() or {}
                    body["DeletedDate"] = snap.extra.get("deleted_at", time.time())
                    return _fresh_request_id(snap.response.with_body(json.dumps(body).encode()))
        elif op == "DeleteSecret" and resp.ok and _truthy(p.get("ForceDeleteWithoutRecovery")):
            name = (data or {}).get("Name") or self._secret_name(p.get("SecretId"))
            if name:
                if self.on("secret-delete"):
                    key = (req.region, name)
                    until = now + self._window("secret_name_busy", key)
                    self.secret_busy_until[key] = max(self.secret_busy_until.get(key, 0), until)
                self._start_stale_get(("secretsmanager", req.region, name), now, deleted_at=time.time())
        return resp

    def _after_lambda(self, req: Request, resp: Response, now: float) -> Response:
        op, p = req.op, req.params
        name = function_name(p.get("FunctionName"))
        if not name:
            return resp
        key = (req.region, name)
        snap_key = ("lambda", req.region, op, name)
        states = self.on("lambda-states")
        if op == "CreateFunction" and resp.ok:
            data = resp.json() or {}
            if data.get("FunctionArn"):
                self.function_arns[key] = data["FunctionArn"]
            self.updating_until.pop(key, None)
            for get_op in ("GetFunction", "GetFunctionConfiguration"):
                self._forget(("lambda", req.region, get_op, name))
            if states:
                self.pending_until[key] = now + self._window("lambda_pending", key)
                return self._rewrite_function(resp, LAMBDA_PENDING_FIELDS, nested=False)
        elif op in ("UpdateFunctionCode", "UpdateFunctionConfiguration") and resp.ok:
            if states:
                until = now + self._window("lambda_in_progress", key)
                self.updating_until[key] = max(self.updating_until.get(key, 0), until)
                return self._rewrite_function(resp, LAMBDA_IN_PROGRESS_FIELDS, nested=False)
        elif op in ("GetFunction", "GetFunctionConfiguration") and self._unqualified(req):
            if resp.ok:
                if states:
                    nested = op == "GetFunction"
                    if self.pending_until.get(key, 0) > now:
                        resp = self._rewrite_function(resp, LAMBDA_PENDING_FIELDS, nested)
                    elif self.updating_until.get(key, 0) > now:
                        resp = self._rewrite_function(resp, LAMBDA_IN_PROGRESS_FIELDS, nested)
                self._remember_get(snap_key, resp)
            else:
                snap = self._replay_get(snap_key, resp, now)
                if snap is not None:
                    return _fresh_request_id(snap.response)
        elif op == "DeleteFunction" and resp.ok and self._unqualified(req):
            self.pending_until.pop(key, None)
            self.updating_until.pop(key, None)
            for get_op in ("GetFunction", "GetFunctionConfiguration"):
                self._start_stale_get(("lambda", req.region, get_op, name), now)
        return resp

    def _rewrite_function(self, resp: Response, fields: dict[str, str], nested: bool) -> Response:
        data = resp.json()
        config = data.get("Configuration") if nested and isinstance(data, dict) else data
        if not isinstance(config, dict):
            return resp
        config.update(fields)
        self._count("lambda_pending")
        return resp.with_body(json.dumps(data).encode())

    def _after_apigatewayv2(self, req: Request, resp: Response, now: float) -> Response:
        api_id = req.params.get("ApiId") or req.params.get("apiId")
        if not api_id:
            return resp
        key = ("apigatewayv2", req.region, api_id)
        if req.op == "GetApi":
            if resp.ok:
                self._remember_get(key, resp)
            else:
                snap = self._replay_get(key, resp, now)
                if snap is not None:
                    return _fresh_request_id(snap.response)
        elif req.op == "DeleteApi" and resp.ok:
            self._start_stale_get(key, now)
        return resp

    def _after_logs(self, req: Request, resp: Response, now: float) -> Response:
        group = req.params.get("logGroupName")
        if not group or req.op not in ("CreateLogGroup", "DeleteLogGroup") or not self.on("logs-abort"):
            return resp
        key = (req.region, group)
        if resp.ok:
            until = now + self._window("logs_conflict", key)
            self.log_group_busy_until[key] = max(self.log_group_busy_until.get(key, 0), until)
        elif (
            req.op == "CreateLogGroup"
            and resp.error_code() == "ResourceAlreadyExistsException"
            and self._draw("logs_existing_abort", key) < LOGS_EXISTING_ABORT_RATE
        ):
            self._count("logs_abort")
            return json_error(400, "OperationAbortedException", LOGS_ABORTED)
        return resp


class ResetHook:
    """Passes everything to app; after POST /moto-api/reset also calls on_reset.

    The raw (no realism) port shares moto's backends with the realism port, so
    a reset through it must clear the layer's memory too.
    """

    def __init__(self, app: Callable, on_reset: Callable[[], None]):
        self.app = app
        self.on_reset = on_reset

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if (environ.get("PATH_INFO", "") or "").rstrip("/") == "/moto-api/reset":
            result = _call(self.app, environ)
            self.on_reset()
            return _send(start_response, result)
        return self.app(environ, start_response)


# --------------------------------------------------------------------------
# WSGI plumbing


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _read_body(environ: dict[str, Any]) -> bytes:
    """Read the request body once and hand moto an equivalent stream."""
    stream = environ.get("wsgi.input")
    length = environ.get("CONTENT_LENGTH") or ""
    if stream is None:
        body = b""
    elif length.strip().isdigit():
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _call(app: Callable, environ: dict[str, Any]) -> Response:
    captured: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
        captured["status"], captured["headers"] = status, list(headers)
        return chunks.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Response(int(captured["status"].split()[0]), captured["headers"], b"".join(chunks))


def _send(start_response: Callable, resp: Response) -> list[bytes]:
    try:
        reason = HTTPStatus(resp.status).phrase
    except ValueError:
        reason = "Unknown"
    start_response(f"{resp.status} {reason}", resp.headers)
    return [resp.body]


def _json_ok(data: Any, status: int = 200) -> Response:
    body = json.dumps(data).encode()
    return Response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        body,
    )
