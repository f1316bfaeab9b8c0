"""Small fixes to moto 5.2.1 that the launcher always applies (realism layer or not).

API Gateway v2 GetAuthorizers
    ``GET /v2/apis/{apiId}/authorizers`` is routed by moto (apigatewayv2/urls.py)
    but ApiGatewayV2Response has no ``get_authorizers``, so moto answers 500.
    botocore's apigatewayv2 2018-11-29 model (service-2.json, GetAuthorizers /
    GetAuthorizersResponse) answers 200 with ``items``: a list of Authorizer
    shapes, the same members GetAuthorizer returns, and ``nextToken`` only when
    there is a further page. moto does not paginate, so ``nextToken`` is never
    sent; an unknown API is NotFoundException (404), as for GetAuthorizer.

Lambda UpdateFunctionCode ``Architectures``
    moto takes the new code but ignores ``Architectures`` (LambdaFunction
    ``_set_function_code``), so a function stays x86_64 after an update to arm64
    code. Lambda's UpdateFunctionCode (botocore lambda 2015-03-31,
    UpdateFunctionCodeRequest ``Architectures``: "The instruction set
    architecture that the function supports") sets it together with the code,
    validated as CreateFunction validates it; a ``DryRun`` changes nothing.

Importing this module applies the patches; it is idempotent.
"""

from __future__ import annotations

import json
from typing import Any

from moto.apigatewayv2.models import ApiGatewayV2Backend, Authorizer
from moto.awslambda.models import LambdaFunction
from moto.apigatewayv2.responses import ApiGatewayV2Response
from moto.core.responses import TYPE_RESPONSE


def _backend_get_authorizers(self: ApiGatewayV2Backend, api_id: str) -> list[Authorizer]:
    # get_api raises ApiNotFound (NotFoundException, 404) for an unknown id.
    api = self.get_api(api_id)
    return list(api.authorizers.values())


def _response_get_authorizers(self: ApiGatewayV2Response) -> TYPE_RESPONSE:
    # /v2/apis/{apiId}/authorizers
    api_id = self.path.rstrip("/").split("/")[-2]
    authorizers = self.apigatewayv2_backend.get_authorizers(api_id=api_id)
    return 200, {}, json.dumps({"items": [a.to_json() for a in authorizers]})


if not hasattr(ApiGatewayV2Backend, "get_authorizers"):
    ApiGatewayV2Backend.get_authorizers = _backend_get_authorizers  # type: ignore[attr-defined]
if not hasattr(ApiGatewayV2Response, "get_authorizers"):
    ApiGatewayV2Response.get_authorizers = _response_get_authorizers  # type: ignore[attr-defined]


def _patch_update_function_code_architectures() -> None:
    original = LambdaFunction.update_function_code
    if getattr(original, "_mcpctl_architectures", False):
        return

    def update_function_code(self: LambdaFunction, updated_spec: dict[str, Any]) -> dict[str, Any]:
        if "Architectures" in updated_spec and not updated_spec.get("DryRun"):
            # The property's setter raises ValidationException for anything but one of
            # x86_64 and arm64, as CreateFunction does.
            self.architectures = updated_spec["Architectures"]
        return original(self, updated_spec)

    update_function_code._mcpctl_architectures = True  # type: ignore[attr-defined]
    LambdaFunction.update_function_code = update_function_code  # type: ignore[method-assign]


_patch_update_function_code_architectures()
