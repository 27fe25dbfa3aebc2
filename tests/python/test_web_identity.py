"""AssumeRoleWithWebIdentity: OIDC tokens (ES256 JWTs, like Kubernetes service-account or CI
tokens) verified against a configured issuer's JWKS; the role's trust policy decides on the
token's `sub`/`aud`; the request itself is unsigned, as with AWS."""

from __future__ import annotations

import base64
import json
import time
import uuid

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from conftest import start_server

ISSUER = "https://oidc.example.test/cluster-1"
PROVIDER = "oidc.example.test/cluster-1"
AUD = "sts.amazonaws.com"
SUB = "system:serviceaccount:payments:api"
CFG = Config(retries={"max_attempts": 1})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Issuer:
    def __init__(self, kid="k1"):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kid = kid

    def jwks(self) -> dict:
        n = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
                          "x": b64(n.x.to_bytes(32, "big")), "y": b64(n.y.to_bytes(32, "big"))}]}

    def token(self, sub=SUB, aud=AUD, iss=ISSUER, exp_in=600, kid=None) -> str:
        now = int(time.time())
        header = {"alg": "ES256", "typ": "JWT", "kid": kid or self.kid}
        claims = {"iss": iss, "sub": sub, "aud": aud, "iat": now, "nbf": now - 5, "exp": now + exp_in}
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
        der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory):
    issuer = Issuer()
    d = tmp_path_factory.mktemp("oidc")
    jwks = d / "jwks.json"
    jwks.write_text(json.dumps(issuer.jwks()))
    server = start_server(d / "data", "--oidc-issuer", f"{ISSUER}|{jwks}|{AUD}")
    yield server, issuer
    server.stop()


def test_assume_role_with_web_identity(oidc_server):
    server, issuer = oidc_server
    root = dict(endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=server.access_key_id,
                aws_secret_access_key=server.secret_access_key, config=CFG)
    iam = boto3.client("iam", **root)
    acct = boto3.client("sts", **root).get_caller_identity()["Account"]
    name = f"wi{uuid.uuid4().hex[:8]}"
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": f"arn:aws:iam::{acct}:oidc-provider/{PROVIDER}"},
        "Condition": {"StringEquals": {f"{PROVIDER}:sub": SUB, f"{PROVIDER}:aud": AUD}}}]}
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(RoleName=name, PolicyName="list", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:ListSecrets",
                                                 "Resource": "*"}]}))
    anon = boto3.client("sts", endpoint_url=server.endpoint, region_name="us-east-1",
                        config=CFG.merge(Config(signature_version=UNSIGNED)))

    def assume(token):
        return anon.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="pod-1",
                                                  WebIdentityToken=token, DurationSeconds=900)

    out = assume(issuer.token())
    assert out["SubjectFromWebIdentityToken"] == SUB and out["Audience"] == AUD and out["Provider"] == PROVIDER
    c = out["Credentials"]
    assert c["AccessKeyId"].startswith("ASIA")
    session = dict(endpoint_url=server.endpoint, region_name="us-east-1", aws_access_key_id=c["AccessKeyId"],
                   aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"], config=CFG)
    ident = boto3.client("sts", **session).get_caller_identity()
    assert ident["Arn"] == f"arn:aws:sts::{acct}:assumed-role/{name}/pod-1"
    boto3.client("secretsmanager", **session).list_secrets()
    with pytest.raises(ClientError) as info:
        boto3.client("secretsmanager", **session).create_secret(Name=f"{name}-x", SecretString="v")
    assert info.value.response["Error"]["Code"] == "AccessDeniedException"

    def refused(token, code):
        with pytest.raises(ClientError) as info:
            assume(token)
        assert info.value.response["Error"]["Code"] == code, info.value.response

    refused(issuer.token(sub="system:serviceaccount:other:app"), "AccessDenied")  # trust policy's sub
    refused(issuer.token(aud="someone-else"), "InvalidIdentityToken")  # audience not configured
    refused(issuer.token(exp_in=-120), "ExpiredTokenException")
    refused(issuer.token(iss="https://evil.example.test"), "InvalidIdentityToken")
    refused(Issuer().token(), "InvalidIdentityToken")  # same kid, another key: bad signature
    good = issuer.token()
    head, body, sig = good.split(".")
    forged = json.loads(base64.urlsafe_b64decode(body + "=="))
    forged["sub"] = "system:serviceaccount:payments:admin"
    refused(f"{head}.{b64(json.dumps(forged).encode())}.{sig}", "InvalidIdentityToken")
    refused("not-a-jwt", "InvalidIdentityToken")
