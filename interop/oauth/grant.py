"""A whole grant with nothing but the standard library, for the rotation checks of scripts/oauth:
register a client, consent with the API key, exchange the code (PKCE S256); or refresh.

    python3 grant.py ISSUER API_KEY            -> {"client_id", "access_token", "refresh_token"}
    python3 grant.py ISSUER refresh CLIENT_ID REFRESH_TOKEN -> the token response, or the error
    python3 grant.py expire ACCESS_TOKEN SIGNING_KEY_JSON -> the same access token, expired an
        hour ago and signed again with the AWSCURRENT key of `mcpctl dev`'s
        .mcpctl/dev/oauth-signing-key.json (what a client holds once its token's hour is up)

Prints JSON; exits 1 (with the OAuth error printed) when a step is refused.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

REDIRECT = "http://127.0.0.1:9/callback"
TIMEOUT = 20


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def call(method, url, data=None, json_body=None):
    headers = {}
    body = None
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers["content-type"] = "application/json"
    elif data is not None:
        body = urllib.parse.urlencode(data).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with opener.open(req, timeout=TIMEOUT) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def token(issuer, form):
    status, _, body = call("POST", f"{issuer}/oauth/token", data=form)
    print(body)
    sys.exit(0 if status == 200 else 1)


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def expire(access_token, key_file):
    """Re-signs the claims with exp in the past, as the authorization server signs (docs/oauth.md,
    "Token format"): HS256 with HMAC-SHA256(secret, "mcpctl-oauth/v1/access")."""
    import time
    with open(key_file) as f:
        secret = json.load(f)["AWSCURRENT"].encode()
    header64, payload64, _ = access_token.split(".")
    claims = json.loads(unb64(payload64))
    now = int(time.time())
    claims["iat"], claims["exp"] = now - 7200, now - 3600
    signing_input = f"{header64}.{b64(json.dumps(claims, separators=(',', ':')).encode())}"
    key = hmac.new(secret, b"mcpctl-oauth/v1/access", hashlib.sha256).digest()
    print(f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}")


def main():
    if sys.argv[1] == "expire":
        expire(sys.argv[2], sys.argv[3])
        return
    issuer = sys.argv[1]
    if sys.argv[2] == "refresh":
        token(issuer, {"grant_type": "refresh_token", "client_id": sys.argv[3], "refresh_token": sys.argv[4]})
    key = sys.argv[2]
    status, _, body = call("POST", f"{issuer}/oauth/register", json_body={"client_name": "rotation check", "redirect_uris": [REDIRECT]})
    if status != 201:
        sys.exit(f"register: {status} {body}")
    client_id = json.loads(body)["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
        "code_challenge": challenge, "code_challenge_method": "S256", "state": "s",
    })
    status, _, page = call("GET", f"{issuer}/oauth/authorize?{query}")
    consent = re.search(r'name="consent" value="([^"]+)"', page)
    if status != 200 or not consent:
        sys.exit(f"consent page: {status} {page[:200]}")
    status, headers, body = call("POST", f"{issuer}/oauth/authorize", data={"consent": consent.group(1), "api_key": key, "decision": "approve"})
    location = headers.get("Location") or headers.get("location") or ""
    code = urllib.parse.parse_qs(urllib.parse.urlparse(location).query).get("code", [""])[0]
    if status != 302 or not code:
        sys.exit(f"consent: {status} {body[:200]}")
    status, _, body = call("POST", f"{issuer}/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "client_id": client_id, "redirect_uri": REDIRECT,
    })
    if status != 200:
        sys.exit(f"token: {status} {body}")
    t = json.loads(body)
    print(json.dumps({"client_id": client_id, "access_token": t["access_token"], "refresh_token": t["refresh_token"]}))


main()
