"""Small fixes to moto 5.2.1 that the launcher always applies (realism layer or not).

API Gateway v2 GetAuthorizers
    ``GET /v2/apis/{apiId}/authorizers`` is routed by moto (apigatewayv2/urls.py)
    but ApiGatewayV2Response has no ``get_authorizers``, so moto answers 500.
    botocore's apigatewayv2 2018-11-29 model (service-2.json, GetAuthorizers /
    GetAuthorizersResponse) answers 200 with ``items``: a list of Authorizer
    shapes, the same members GetAuthorizer returns, and ``nextToken`` only when
    there is a further page. moto does not paginate, so ``nextToken`` is never
    sent; an unknown API is NotFoundException (404), as for GetAuthorizer.

Importing this module applies the patches; it is idempotent.
"""

from __future__ import annotations

import json

from moto.apigatewayv2.models import ApiGatewayV2Backend, Authorizer
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
