"""Self-check for moto_realism.py and the launcher's realism and raw ports.

Starts testkit/moto_server_ecr.py with MOTO_REALISM_SEED on a free 127.0.0.1
port plus --raw-port, then drives it with boto3: every rule must fire with the
error code botocore parses, the raw port must never inject, GetAuthorizers must
work on both ports, the same seed and request sequence must give the same
stats, and /_realism/stats must count. Finally the launcher is started without
a seed to show it is plain moto then. Prints one line per check and exits
non-zero if any failed.

    python3 testkit/moto_realism_check.py
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

LAUNCHER = Path(__file__).resolve().with_name("moto_server_ecr.py")
HOST = "127.0.0.1"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

SEED = int(os.environ.get("MOTO_REALISM_CHECK_SEED", "4242"))  # override to try other seeds
SCALE = 0.3
THROTTLE_RATE = 0.3  # higher than the default so a few calls show throttles
MARGIN = 0.2  # seconds past a window's longest possible end

# Longest window per kind at scale 1 (moto_realism.WINDOWS upper bounds).
WINDOW_MAX = {
    "list_lag": 3.0,
    "get_after_delete": 3.0,
    "secret_name_busy": 6.0,
    "iam_propagation": 5.0,
    "lambda": 2.0,
    "logs_conflict": 1.0,
}
STAT_KEYS = [
    "throttle",
    "stale_list",
    "stale_get",
    "secret_name_busy",
    "iam_propagation",
    "lambda_pending",
    "lambda_conflict",
    "logs_abort",
]
ALL_RULES = [
    "throttle",
    "consistency",
    "secret-delete",
    "iam-propagation",
    "lambda-states",
    "logs-abort",
]
THROTTLE_CODES = {
    "secretsmanager": ("ThrottlingException", 400),
    "logs": ("ThrottlingException", 400),
    "ecr": ("ThrottlingException", 400),
    "iam": ("Throttling", 400),
    "sts": ("Throttling", 400),
    "lambda": ("TooManyRequestsException", 429),
    "apigatewayv2": ("TooManyRequestsException", 429),
}
# A cheap read per service, for throttle probes.
PROBES: dict[str, Callable[[Any], Any]] = {
    "secretsmanager": lambda c: c.list_secrets(),
    "logs": lambda c: c.describe_log_groups(),
    "ecr": lambda c: c.describe_repositories(),
    "iam": lambda c: c.list_roles(),
    "sts": lambda c: c.get_caller_identity(),
    "lambda": lambda c: c.list_functions(),
    "apigatewayv2": lambda c: c.get_apis(),
}


def pause(kind: str) -> None:
    time.sleep(WINDOW_MAX[kind] * SCALE + MARGIN)


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


def start(env_extra: dict[str, str], port: int, raw_port: int, log: Path) -> subprocess.Popen:
    # Image functions are not checked against moto ECR here (no image is pushed).
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MOTO_LAMBDA_STUB_ECR="true", **env_extra)
    for name in list(env):
        if name.startswith("MOTO_REALISM_") and name not in env_extra:
            del env[name]
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, str(LAUNCHER), "-H", HOST, "-p", str(port), "--raw-port", str(raw_port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, server, log)
    wait_for_port(raw_port, server, log)
    return server


def http(port: int, method: str, path: str) -> tuple[int, bytes]:
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def stats(port: int) -> dict[str, Any]:
    status, body = http(port, "GET", "/_realism/stats")
    assert status == 200, (status, body[:200])
    return json.loads(body)


def _strip_retry_header(request: Any, **_: Any) -> None:
    request.headers.pop("amz-sdk-request", None)


def _last_attempt_header(request: Any, **_: Any) -> None:
    # What an SDK that states its budget (the Rust SDK: "attempt=1; max=3")
    # sends on its last try; botocore only adds max= from the second attempt.
    request.headers["amz-sdk-request"] = "attempt=1; max=1"


class Clients:
    """boto3 clients for one port, by retry behaviour.

    retries=None: no retries at all (total_max_attempts=1; botocore's own
    max_attempts counts retries). header: "strip" sends no amz-sdk-request,
    "last" declares attempt 1 of 1, None leaves botocore's header alone.
    """

    def __init__(self, port: int, retries: int | None = None, header: str | None = None):
        self.port = port
        self.retries = retries
        self.header = header
        self._cache: dict[str, Any] = {}

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._cache:
            client = boto3.client(
                service,
                endpoint_url=f"http://{HOST}:{self.port}",
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(
                    connect_timeout=5,
                    read_timeout=30,
                    retries=(
                        {"mode": "standard", "total_max_attempts": 1}
                        if self.retries is None
                        else {"mode": "standard", "max_attempts": self.retries}
                    ),
                ),
            )
            if self.header == "strip":
                client.meta.events.register_last("before-send.*", _strip_retry_header)
            elif self.header == "last":
                client.meta.events.register_last("before-send.*", _last_attempt_header)
            self._cache[service] = client
        return self._cache[service]


def error_of(call: Callable[[], Any]) -> ClientError | None:
    try:
        call()
    except ClientError as err:
        return err
    return None


def expect_error(call: Callable[[], Any], code: str, status: int | None = None, message: str | None = None) -> ClientError:
    err = error_of(call)
    assert err is not None, f"expected {code}, but the call succeeded"
    got = err.response["Error"]["Code"]
    assert got == code, f"expected {code}, got {got}: {err}"
    if status is not None:
        got_status = err.response["ResponseMetadata"]["HTTPStatusCode"]
        assert got_status == status, f"{code}: expected HTTP {status}, got {got_status}"
    if message is not None:
        assert err.response["Error"]["Message"] == message, (
            f"{code}: expected message {message!r}, got {err.response['Error']['Message']!r}"
        )
    return err


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    return {k: after["injected"][k] - before["injected"][k] for k in STAT_KEYS}


def zip_code() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


ZIP = zip_code()
ASSUME = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


def make_function(lam: Any, name: str, role_arn: str, **extra: Any) -> dict[str, Any]:
    args: dict[str, Any] = dict(FunctionName=name, Role=role_arn, Timeout=3)
    if "Code" not in extra:
        args.update(Runtime="python3.12", Handler="index.handler", Code={"ZipFile": ZIP})
    args.update(extra)
    return lam.create_function(**args)


class Check:
    def __init__(self) -> None:
        self.failed: list[str] = []

    def run(self, name: str, fn: Callable[[], None]) -> None:
        began = time.monotonic()
        try:
            fn()
        except Exception as err:  # noqa: BLE001  (report and carry on)
            self.failed.append(name)
            detail = f"{type(err).__name__}: {err}"
            print(f"FAIL {name}: {detail}", flush=True)
            if not isinstance(err, AssertionError):
                traceback.print_exc(limit=3)
        else:
            print(f"ok   {name} ({time.monotonic() - began:.1f}s)", flush=True)


class RealismChecks:
    def __init__(self, port: int, raw_port: int):
        self.port, self.raw_port = port, raw_port
        self.retrying = Clients(port, retries=5)  # {"mode": "standard", "max_attempts": 5}
        self.single = Clients(port)  # no retries: sees every injection, throttles too
        self.bare = Clients(port, header="strip")  # no retries, no amz-sdk-request
        self.once = Clients(port, header="last")  # "attempt=1; max=1": never throttled
        self.raw = Clients(raw_port)
        self.raw_bare = Clients(raw_port, header="strip")
        self.role_arn = ""

    # setup shared by the Lambda checks: a role past its propagation window
    def setup(self) -> None:
        self.role_arn = self.once.iam.create_role(RoleName="check-exec", AssumeRolePolicyDocument=ASSUME)["Role"]["Arn"]
        pause("iam_propagation")

    def ports(self) -> None:
        s = stats(self.port)
        assert s["seed"] == SEED and s["rules"] == ALL_RULES, s
        status, body = http(self.raw_port, "GET", "/_realism/stats")
        assert b'"seed"' not in body, f"raw port serves realism stats: {status} {body[:200]!r}"
        assert self.raw.sts.get_caller_identity()["Account"] == ACCOUNT

    def get_authorizers(self) -> None:
        for clients in (self.once, self.raw):
            api = clients.apigatewayv2
            api_id = api.create_api(Name="authz-check", ProtocolType="HTTP")["ApiId"]
            assert api.get_authorizers(ApiId=api_id)["Items"] == []
            made = api.create_authorizer(
                ApiId=api_id,
                Name="jwt",
                AuthorizerType="JWT",
                IdentitySource=["$request.header.Authorization"],
                JwtConfiguration={"Audience": ["aud"], "Issuer": "https://issuer.example"},
            )
            got = api.get_authorizers(ApiId=api_id)
            assert "NextToken" not in got, got
            one = api.get_authorizer(ApiId=api_id, AuthorizerId=made["AuthorizerId"])
            strip = lambda d: {k: v for k, v in d.items() if k != "ResponseMetadata"}  # noqa: E731
            assert got["Items"] == [strip(one)], (got["Items"], strip(one))
            expect_error(lambda: api.get_authorizers(ApiId="nosuchapi"), "NotFoundException", 404)

    def throttle_codes(self) -> None:
        before = stats(self.port)
        seen = 0
        for service, probe in PROBES.items():
            for clients in (self.single, self.bare):  # "attempt=1", and no header at all
                client = getattr(clients, service)
                err = None
                for _ in range(40):
                    err = error_of(lambda: probe(client))
                    if err is not None:
                        break
                assert err is not None, f"{service}: no throttle in 40 first attempts at rate {THROTTLE_RATE}"
                seen += 1
                self._check_throttle(service, err)
        d = delta(before, stats(self.port))
        assert d["throttle"] == seen and sum(d.values()) == seen, d

    @staticmethod
    def _check_throttle(service: str, err: ClientError) -> None:
        code, status = THROTTLE_CODES[service]
        assert err.response["Error"]["Code"] == code, (service, err.response["Error"])
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == status, (service, err.response)
        if service == "lambda":
            assert err.response.get("Reason") == "CallerRateLimitExceeded", err.response
            assert err.response["ResponseMetadata"]["HTTPHeaders"].get("retry-after") == "1"
            assert err.response["Error"]["Message"] == "Rate exceeded"
        elif service == "apigatewayv2":
            assert err.response["Error"]["Message"] == "Too Many Requests"
        else:
            assert err.response["Error"]["Message"] == "Rate exceeded"

    def throttle_retries(self) -> None:
        before = stats(self.port)
        retries = 0
        for _ in range(4):
            for service, probe in PROBES.items():
                retries += probe(getattr(self.retrying, service))["ResponseMetadata"]["RetryAttempts"]
        got = delta(before, stats(self.port))["throttle"]
        assert retries > 0, "standard retries never needed a retry"
        assert got == retries, f"{got} throttles injected but {retries} retries made"

    def throttle_last_attempt(self) -> None:
        before = stats(self.port)
        for _ in range(6):
            for service, probe in PROBES.items():
                probe(getattr(self.once, service))  # max=1: attempt 1 is the last
        assert delta(before, stats(self.port))["throttle"] == 0

    def raw_port_clean(self) -> None:
        before = stats(self.port)
        for _ in range(10):
            for service, probe in PROBES.items():
                probe(getattr(self.raw_bare, service))
        after = stats(self.port)
        assert after["requests"] == before["requests"], "raw-port requests went through the layer"

    def stale_lists(self) -> None:
        c, raw = self.once, self.raw
        before = stats(self.port)
        listers = {
            "iam": (lambda cl: [r["RoleName"] for r in cl.iam.list_roles()["Roles"]], "list-role"),
            "secretsmanager": (lambda cl: [s["Name"] for s in cl.secretsmanager.list_secrets()["SecretList"]], "list-secret"),
            "lambda": (lambda cl: [f["FunctionName"] for f in getattr(cl, "lambda").list_functions()["Functions"]], "list-fn"),
            "logs": (lambda cl: [g["logGroupName"] for g in cl.logs.describe_log_groups()["logGroups"]], "/list/group"),
            "apigatewayv2": (lambda cl: [a["Name"] for a in cl.apigatewayv2.get_apis()["Items"]], "list-api"),
        }
        makers = {
            "iam": lambda n: c.iam.create_role(RoleName=n, AssumeRolePolicyDocument=ASSUME),
            "secretsmanager": lambda n: c.secretsmanager.create_secret(Name=n, SecretString="v"),
            "lambda": lambda n: make_function(getattr(c, "lambda"), n, self.role_arn),
            "logs": lambda n: c.logs.create_log_group(logGroupName=n),
            "apigatewayv2": lambda n: c.apigatewayv2.create_api(Name=n, ProtocolType="HTTP"),
        }
        for service, (lister, name) in listers.items():
            assert name not in lister(c), f"{service}: {name} exists already"
        for service, (lister, name) in listers.items():
            makers[service](name)
            assert name not in lister(c), f"{service}: the list right after the create is fresh"
            assert name in lister(raw), f"{service}: the raw port does not list {name}"
        pause("list_lag")
        for service, (lister, name) in listers.items():
            assert name in lister(c), f"{service}: still stale after the lag window"
        assert delta(before, stats(self.port))["stale_list"] == len(listers)

    def stale_gets(self) -> None:
        c, raw = self.once, self.raw
        lam, raw_lam = getattr(c, "lambda"), getattr(raw, "lambda")
        before = stats(self.port)
        c.iam.create_role(RoleName="gone-role", AssumeRolePolicyDocument=ASSUME)
        make_function(lam, "gone-fn", self.role_arn)
        api_id = c.apigatewayv2.create_api(Name="gone-api", ProtocolType="HTTP")["ApiId"]
        c.secretsmanager.create_secret(Name="gone-secret", SecretString="v")
        role = c.iam.get_role(RoleName="gone-role")["Role"]
        fn = lam.get_function(FunctionName="gone-fn")["Configuration"]
        api = c.apigatewayv2.get_api(ApiId=api_id)
        secret = c.secretsmanager.describe_secret(SecretId="gone-secret")
        assert "DeletedDate" not in secret

        c.iam.delete_role(RoleName="gone-role")
        lam.delete_function(FunctionName="gone-fn")
        c.apigatewayv2.delete_api(ApiId=api_id)
        c.secretsmanager.delete_secret(SecretId="gone-secret", ForceDeleteWithoutRecovery=True)

        assert c.iam.get_role(RoleName="gone-role")["Role"]["Arn"] == role["Arn"]
        assert lam.get_function(FunctionName="gone-fn")["Configuration"]["FunctionArn"] == fn["FunctionArn"]
        assert c.apigatewayv2.get_api(ApiId=api_id)["ApiId"] == api["ApiId"]
        stale = c.secretsmanager.describe_secret(SecretId="gone-secret")
        assert stale["ARN"] == secret["ARN"] and "DeletedDate" in stale, stale
        expect_error(lambda: raw.iam.get_role(RoleName="gone-role"), "NoSuchEntity", 404)
        expect_error(lambda: raw_lam.get_function(FunctionName="gone-fn"), "ResourceNotFoundException", 404)
        expect_error(lambda: raw.apigatewayv2.get_api(ApiId=api_id), "NotFoundException", 404)
        expect_error(lambda: raw.secretsmanager.describe_secret(SecretId="gone-secret"), "ResourceNotFoundException")
        assert delta(before, stats(self.port))["stale_get"] == 4

        pause("get_after_delete")
        expect_error(lambda: c.iam.get_role(RoleName="gone-role"), "NoSuchEntity", 404)
        expect_error(lambda: lam.get_function(FunctionName="gone-fn"), "ResourceNotFoundException", 404)
        expect_error(lambda: c.apigatewayv2.get_api(ApiId=api_id), "NotFoundException", 404)
        expect_error(lambda: c.secretsmanager.describe_secret(SecretId="gone-secret"), "ResourceNotFoundException")

    def secret_delete(self) -> None:
        sm = self.once.secretsmanager
        before = stats(self.port)
        sm.create_secret(Name="busy-secret", SecretString="v1")
        sm.delete_secret(SecretId="busy-secret", ForceDeleteWithoutRecovery=True)
        expect_error(
            lambda: sm.create_secret(Name="busy-secret", SecretString="v2"),
            "InvalidRequestException",
            400,
            "You can't create this secret because a secret with this name is already scheduled for deletion.",
        )
        expect_error(lambda: sm.restore_secret(SecretId="busy-secret"), "InvalidRequestException", 400)
        assert delta(before, stats(self.port))["secret_name_busy"] == 2
        expect_error(lambda: self.raw.secretsmanager.describe_secret(SecretId="busy-secret"), "ResourceNotFoundException")
        pause("secret_name_busy")
        sm.create_secret(Name="busy-secret", SecretString="v2")

    def iam_propagation(self) -> None:
        c = self.once
        lam = getattr(c, "lambda")
        before = stats(self.port)
        fresh = c.iam.create_role(RoleName="fresh-role", AssumeRolePolicyDocument=ASSUME)["Role"]["Arn"]
        expect_error(
            lambda: make_function(lam, "fresh-role-fn", fresh),
            "InvalidParameterValueException",
            400,
            "The role defined for the function cannot be assumed by Lambda.",
        )
        repo = c.ecr.create_repository(repositoryName="check/image")["repository"]
        c.ecr.set_repository_policy(
            repositoryName="check/image",
            policyText=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "LambdaECRImageRetrievalPolicy",
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                        }
                    ],
                }
            ),
        )
        image = f"{repo['repositoryUri']}:latest"
        expect_error(
            lambda: make_function(lam, "image-fn", self.role_arn, PackageType="Image", Code={"ImageUri": image}),
            "AccessDeniedException",
            403,
            "Lambda does not have permission to access the ECR image. Check the ECR permissions.",
        )
        assert delta(before, stats(self.port))["iam_propagation"] == 2
        pause("iam_propagation")
        make_function(lam, "fresh-role-fn", fresh)
        make_function(lam, "image-fn", self.role_arn, PackageType="Image", Code={"ImageUri": image})

    def lambda_states(self) -> None:
        lam, raw_lam = getattr(self.once, "lambda"), getattr(self.raw, "lambda")
        before = stats(self.port)
        made = make_function(lam, "states-fn", self.role_arn)
        arn = made["FunctionArn"]
        assert (made["State"], made["StateReasonCode"]) == ("Pending", "Creating"), made
        got = lam.get_function(FunctionName="states-fn")["Configuration"]
        assert (got["State"], got["StateReason"], got["StateReasonCode"]) == (
            "Pending",
            "The function is being created.",
            "Creating",
        ), got
        assert lam.get_function_configuration(FunctionName=arn)["State"] == "Pending"
        assert raw_lam.get_function(FunctionName="states-fn")["Configuration"]["State"] == "Active"
        pending = (
            "The operation cannot be performed at this time. "
            "The function is currently in the following state: Pending"
        )
        expect_error(
            lambda: lam.update_function_configuration(FunctionName="states-fn", Timeout=5),
            "ResourceConflictException",
            409,
            pending,
        )
        expect_error(lambda: lam.invoke(FunctionName="states-fn", Payload=b"{}"), "ResourceConflictException", 409, pending)
        pause("lambda")
        assert lam.get_function(FunctionName="states-fn")["Configuration"]["State"] == "Active"

        updated = lam.update_function_code(FunctionName="states-fn", ZipFile=ZIP)
        assert updated["LastUpdateStatus"] == "InProgress", updated
        got = lam.get_function_configuration(FunctionName="states-fn")
        assert (got["LastUpdateStatus"], got["LastUpdateStatusReasonCode"]) == ("InProgress", "Creating"), got
        busy = f"The operation cannot be performed at this time. An update is in progress for resource: {arn}"
        expect_error(lambda: lam.publish_version(FunctionName="states-fn"), "ResourceConflictException", 409, busy)
        expect_error(
            lambda: lam.update_function_configuration(FunctionName="states-fn", Timeout=5),
            "ResourceConflictException",
            409,
            busy,
        )
        assert raw_lam.get_function_configuration(FunctionName="states-fn")["LastUpdateStatus"] == "Successful"
        pause("lambda")
        assert lam.get_function(FunctionName="states-fn")["Configuration"]["LastUpdateStatus"] == "Successful"
        lam.publish_version(FunctionName="states-fn")
        d = delta(before, stats(self.port))
        assert d["lambda_conflict"] == 4, d
        assert d["lambda_pending"] == 5, d  # create, 2 gets while Pending, update, 1 get while InProgress

    def logs_abort(self) -> None:
        logs = self.once.logs
        aborted = "A conflicting operation is currently in progress against this resource. Please try again."
        before = stats(self.port)
        logs.create_log_group(logGroupName="/check/abort")
        expect_error(lambda: logs.create_log_group(logGroupName="/check/abort"), "OperationAbortedException", 400, aborted)
        pause("logs_conflict")
        codes = []
        for _ in range(60):
            err = error_of(lambda: logs.create_log_group(logGroupName="/check/abort"))
            assert err is not None, "CreateLogGroup of an existing group succeeded"
            codes.append(err.response["Error"]["Code"])
            if len(set(codes)) == 2:
                break
        assert set(codes) == {"ResourceAlreadyExistsException", "OperationAbortedException"}, set(codes)
        logs.delete_log_group(logGroupName="/check/abort")
        expect_error(lambda: logs.create_log_group(logGroupName="/check/abort"), "OperationAbortedException", 400, aborted)
        pause("logs_conflict")
        logs.create_log_group(logGroupName="/check/abort")
        assert delta(before, stats(self.port))["logs_abort"] == 2 + codes.count("OperationAbortedException")

    def stats_shape(self) -> None:
        s = stats(self.port)
        assert sorted(s) == ["injected", "requests", "rules", "seed"], s
        assert list(s["injected"]) == STAT_KEYS, s["injected"]
        zero = [k for k, v in s["injected"].items() if v <= 0]
        assert not zero, f"never injected: {zero}"
        assert s["requests"] > 0
        status, body = http(self.port, "POST", "/_realism/reset")
        assert status == 200, status
        s = stats(self.port)
        assert s["requests"] == 0 and all(v == 0 for v in s["injected"].values()), s
        assert s["seed"] == SEED

    def reset_clears_memory(self) -> None:
        sm = self.once.secretsmanager
        for port in (self.port, self.raw_port):
            sm.create_secret(Name="reset-secret", SecretString="v")
            sm.delete_secret(SecretId="reset-secret", ForceDeleteWithoutRecovery=True)
            expect_error(lambda: sm.create_secret(Name="reset-secret", SecretString="v"), "InvalidRequestException")
            status, _ = http(port, "POST", "/moto-api/reset")
            assert status == 200, status
            assert self.raw.secretsmanager.list_secrets()["SecretList"] == []
            sm.create_secret(Name="reset-secret", SecretString="v")  # the name is free again
            sm.delete_secret(SecretId="reset-secret", ForceDeleteWithoutRecovery=True)
            time.sleep(WINDOW_MAX["secret_name_busy"] * SCALE + MARGIN)

    def _scripted(self) -> tuple[list[str], dict[str, Any]]:
        """A fixed request sequence (header-less reads, then rule triggers): (outcomes, stats)."""
        assert http(self.port, "POST", "/moto-api/reset")[0] == 200
        assert http(self.port, "POST", "/_realism/reset")[0] == 200
        b, o = self.bare, self.once  # throttled at the first-attempt rate / never throttled
        lam = getattr(o, "lambda")
        outcomes: list[str] = []

        def do(call: Callable[[], Any]) -> None:
            err = error_of(call)
            outcomes.append("ok" if err is None else err.response["Error"]["Code"])

        for _ in range(3):
            for probe_service, probe in PROBES.items():
                do(lambda: probe(getattr(b, probe_service)))
        do(lambda: o.iam.list_roles())
        do(lambda: o.logs.create_log_group(logGroupName="/det/g"))
        do(lambda: o.logs.create_log_group(logGroupName="/det/g"))
        do(lambda: o.secretsmanager.create_secret(Name="det-s", SecretString="v"))
        do(lambda: o.secretsmanager.delete_secret(SecretId="det-s", ForceDeleteWithoutRecovery=True))
        do(lambda: o.secretsmanager.create_secret(Name="det-s", SecretString="v"))
        do(lambda: o.iam.create_role(RoleName="det-r", AssumeRolePolicyDocument=ASSUME))
        do(lambda: make_function(lam, "det-f", f"arn:aws:iam::{ACCOUNT}:role/det-r"))
        do(lambda: o.iam.list_roles())
        return outcomes, stats(self.port)

    def determinism(self) -> None:
        first, s1 = self._scripted()
        time.sleep(WINDOW_MAX["secret_name_busy"] * SCALE + MARGIN)  # let every window close
        second, s2 = self._scripted()
        assert first == second, f"outcomes differ:\n{first}\n{second}"
        assert s1 == s2, f"stats differ:\n{s1}\n{s2}"
        fired = [k for k in ("throttle", "stale_list", "logs_abort", "secret_name_busy", "iam_propagation") if s1["injected"][k] == 0]
        assert not fired, f"the sequence did not exercise {fired}: {s1}"


def plain_launcher(check: Check, tmp: str) -> None:
    port, raw_port = free_port(), free_port()
    log = Path(tmp, "plain.log")
    server = start({}, port, raw_port, log)
    try:

        def no_layer() -> None:
            for p in (port, raw_port):
                status, body = http(p, "GET", "/_realism/stats")
                assert b'"seed"' not in body, f"port {p} serves realism stats without a seed"
            bare = Clients(port, header="strip")
            for _ in range(5):
                for service, probe in PROBES.items():
                    probe(getattr(bare, service))  # no throttles without the layer
            lam = getattr(bare, "lambda")
            role = bare.iam.create_role(RoleName="plain", AssumeRolePolicyDocument=ASSUME)["Role"]["Arn"]
            made = make_function(lam, "plain-fn", role)  # no IAM propagation delay
            assert made["State"] == "Active", made
            assert "plain-fn" in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
            raw = Clients(raw_port)
            assert "plain-fn" in [f["FunctionName"] for f in getattr(raw, "lambda").list_functions()["Functions"]]
            api_id = raw.apigatewayv2.create_api(Name="plain", ProtocolType="HTTP")["ApiId"]
            assert bare.apigatewayv2.get_authorizers(ApiId=api_id)["Items"] == []

        check.run("without MOTO_REALISM_SEED: plain moto on both ports, GetAuthorizers patched", no_layer)
    finally:
        stop(server)


def main() -> None:
    began = time.monotonic()
    check = Check()
    with tempfile.TemporaryDirectory(prefix="moto-realism-check-") as tmp:
        port, raw_port = free_port(), free_port()
        log = Path(tmp, "realism.log")
        server = start(
            {
                "MOTO_REALISM_SEED": str(SEED),
                "MOTO_REALISM_SCALE": str(SCALE),
                "MOTO_REALISM_THROTTLE_RATE": str(THROTTLE_RATE),
            },
            port,
            raw_port,
            log,
        )
        try:
            r = RealismChecks(port, raw_port)
            r.setup()
            check.run("launcher: realism port (stats) and raw port (no layer) are up", r.ports)
            check.run("GetAuthorizers answers items on the realism and raw ports", r.get_authorizers)
            check.run("throttle: first attempts (attempt=1, or no header) get each service's throttle error", r.throttle_codes)
            check.run("throttle: standard retries (max 5) always get through", r.throttle_retries)
            check.run("throttle: attempt >= max is never throttled", r.throttle_last_attempt)
            check.run("raw port never injects and bypasses the layer", r.raw_port_clean)
            check.run("consistency: lists lag behind create in 5 services", r.stale_lists)
            check.run("consistency: get/describe right after delete still answers", r.stale_gets)
            check.run("secret-delete: force-deleted name stays busy for create/restore", r.secret_delete)
            check.run("iam-propagation: fresh role and fresh ECR policy refused by Lambda", r.iam_propagation)
            check.run("lambda-states: Pending / InProgress and ResourceConflictException", r.lambda_states)
            check.run("logs-abort: OperationAbortedException around create/delete", r.logs_abort)
            check.run("/_realism/stats counts every rule; /_realism/reset zeroes it", r.stats_shape)
            check.run("/moto-api/reset on either port clears the layer's memory", r.reset_clears_memory)
            check.run("same seed + same requests give the same outcomes and stats", r.determinism)
        except BaseException:
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            stop(server)
        if check.failed:
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
        plain_launcher(check, tmp)
    elapsed = time.monotonic() - began
    if check.failed:
        sys.exit(f"moto_realism: {len(check.failed)} check(s) failed ({elapsed:.1f}s)")
    print(f"moto_realism: all checks passed ({elapsed:.1f}s)")


if __name__ == "__main__":
    main()
