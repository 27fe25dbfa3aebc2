"""The HTTP/JSON layer seen without an SDK: headers, authentication failures, malformed
requests, operator endpoints. Requests are signed here with a small SigV4 implementation
(so dates and bodies can be tampered with) and, for presigning, with botocore's signer."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import json
import urllib.parse
import uuid

import boto3
import pytest
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


CT = "application/x-amz-json-1.1"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign(coffer, target: str, body: bytes, *, when: dt.datetime | None = None, region: str = "us-east-1",
         service: str = "secretsmanager", secret: str | None = None, host: str | None = None) -> dict:
    """Headers for a SigV4-signed POST / (content-type, host, x-amz-date, x-amz-target signed)."""
    when = when or dt.datetime.now(dt.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    host = host or coffer.endpoint.split("://", 1)[1]
    headers = {"content-type": CT, "host": host, "x-amz-date": amz_date, "x-amz-target": target}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([
        "POST", "/", "",
        *(f"{k}:{headers[k]}" for k in sorted(headers)), "",
        signed, hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = _hmac(("AWS4" + (secret or coffer.secret_access_key)).encode(), day)
    for part in (region, service, "aws4_request"):
        k = _hmac(k, part)
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={coffer.access_key_id}/{scope}, SignedHeaders={signed}, Signature={sig}"
    )
    return headers


def send(coffer, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    """One HTTP/1.1 request; returns (status, headers, parsed JSON or raw bytes)."""
    u = urllib.parse.urlsplit(coffer.endpoint)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
    finally:
        conn.close()
    try:
        return r.status, hdrs, json.loads(data)
    except ValueError:
        return r.status, hdrs, data


def call(coffer, target: str, payload, **sign_kw):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return send(coffer, "POST", "/", body, sign(coffer, f"secretsmanager.{target}", body, **sign_kw))


def assert_error(resp, code: str, status: int = 400):
    st, hdrs, body = resp
    assert st == status, resp
    assert isinstance(body, dict) and body.get("__type", "").split("#")[-1] == code, resp
    assert body.get("message"), resp
    assert hdrs.get("x-amzn-errortype", "").split(":")[0] == code, hdrs
    assert hdrs.get("content-type") == CT


def test_wire_signed_request_headers(coffer):
    st, hdrs, body = call(coffer, "ListSecrets", {"MaxResults": 1})
    assert st == 200, body
    assert hdrs["content-type"] == CT
    uuid.UUID(hdrs["x-amzn-requestid"])
    assert "SecretList" in body
    # Two requests never share an id.
    assert call(coffer, "ListSecrets", {})[1]["x-amzn-requestid"] != hdrs["x-amzn-requestid"]


def test_wire_empty_body_means_no_parameters(coffer):
    st, _, body = call(coffer, "GetRandomPassword", b"")
    assert st == 200 and len(body["RandomPassword"]) == 32


def test_wire_missing_authentication(coffer):
    body = b"{}"
    assert_error(
        send(coffer, "POST", "/", body, {"content-type": CT, "x-amz-target": "secretsmanager.ListSecrets"}),
        "MissingAuthenticationTokenException",
    )


def test_wire_incomplete_authorization_header(coffer):
    h = sign(coffer, "secretsmanager.ListSecrets", b"{}")
    h["authorization"] = h["authorization"].split(", Signature=")[0]
    assert_error(send(coffer, "POST", "/", b"{}", h), "IncompleteSignatureException")


def test_wire_tampered_body_fails_signature(coffer):
    h = sign(coffer, "secretsmanager.ListSecrets", b'{"MaxResults": 1}')
    assert_error(send(coffer, "POST", "/", b'{"MaxResults": 2}', h), "InvalidSignatureException")
    # So does a tampered signed header.
    h = sign(coffer, "secretsmanager.ListSecrets", b"{}")
    h["x-amz-target"] = "secretsmanager.GetRandomPassword"
    assert_error(send(coffer, "POST", "/", b"{}", h), "InvalidSignatureException")


@pytest.mark.parametrize("minutes", [-20, 20])
def test_wire_clock_skew_is_rejected(coffer, minutes):
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    assert_error(call(coffer, "ListSecrets", {}, when=when), "InvalidSignatureException")
    # Within the 15 minute window it is fine.
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes // 5)
    assert call(coffer, "ListSecrets", {"MaxResults": 1}, when=when)[0] == 200


def test_wire_wrong_service_and_bad_region_in_scope(coffer):
    assert_error(call(coffer, "ListSecrets", {}, service="kms"), "InvalidSignatureException")
    # ...and a KMS target signed for another service.
    body = b"{}"
    h = sign(coffer, "TrentService.ListKeys", body, service="secretsmanager")
    assert_error(send(coffer, "POST", "/", body, h), "InvalidSignatureException")
    assert_error(call(coffer, "ListSecrets", {}, region="not a region!"), "InvalidSignatureException")


def test_wire_session_token_is_not_accepted(coffer):
    s = boto3.session.Session(
        aws_access_key_id=coffer.access_key_id,
        aws_secret_access_key=coffer.secret_access_key,
        aws_session_token="FwoGZXIvYXdzEXAMPLETOKEN",
        region_name="us-east-1",
    )
    client = s.client("secretsmanager", endpoint_url=coffer.endpoint, config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as info:
        client.list_secrets()
    assert info.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_wire_unknown_target_and_malformed_json(coffer):
    body = b"{}"
    h = sign(coffer, "secretsmanager.StealSecrets", body)
    assert_error(send(coffer, "POST", "/", body, h), "UnknownOperationException")
    h = sign(coffer, "SomethingElse_20171017.ListSecrets", body)
    assert_error(send(coffer, "POST", "/", body, h), "UnknownOperationException")
    assert_error(call(coffer, "ListSecrets", b"{not json"), "SerializationException")
    assert_error(call(coffer, "ListSecrets", {"MaxResults": "ten"}), "SerializationException")
    assert_error(call(coffer, "CreateSecret", {"Name": 5}), "SerializationException")
    assert_error(call(coffer, "CreateSecret", {"Name": "x", "SecretBinary": "%%% not base64"}),
                 "SerializationException")
    assert_error(call(coffer, "CreateSecret", {}), "InvalidParameterException")


def test_wire_body_size_limit(coffer):
    big = json.dumps({"Name": "too-big", "SecretString": "x" * (300 * 1024)}).encode()
    try:
        resp = call(coffer, "CreateSecret", big)
    except (ConnectionError, http.client.HTTPException) as e:  # server may close while we send
        pytest.skip(f"connection closed before a response: {e}")
    assert_error(resp, "RequestEntityTooLargeException", status=413)


def test_wire_unimplemented_operations(sm, name):
    sm.create_secret(Name=name, SecretString="x")
    try:
        for fn, kw in (
            (sm.rotate_secret, {"SecretId": name}),
            (sm.replicate_secret_to_regions, {"SecretId": name, "AddReplicaRegions": [{"Region": "eu-west-1"}]}),
            (sm.cancel_rotate_secret, {"SecretId": name}),
        ):
            with pytest.raises(ClientError) as info:
                fn(**kw)
            err = info.value.response["Error"]
            assert err["Code"] == "InvalidRequestException" and "not available" in err["Message"], err
    finally:
        sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_wire_presigned_query_string_request(coffer):
    # botocore's query signer moves a JSON body into the query string and signs an empty
    # body, so the presigned call carries no parameters: GetRandomPassword's defaults apply.
    req = AWSRequest(method="POST", url=coffer.endpoint + "/", data=b"",
                     headers={"Content-Type": CT, "X-Amz-Target": "secretsmanager.GetRandomPassword"})
    creds = Credentials(coffer.access_key_id, coffer.secret_access_key)
    SigV4QueryAuth(creds, "secretsmanager", "us-east-1", expires=60).add_auth(req)
    prepared = req.prepare()
    path = prepared.url.split(coffer.endpoint, 1)[1]
    assert "X-Amz-Signature=" in path and "Authorization" not in prepared.headers
    headers = {k: v for k, v in prepared.headers.items() if k.lower() != "content-length"}
    st, _, out = send(coffer, "POST", path, b"", headers)
    assert st == 200, out
    assert len(out["RandomPassword"]) == 32
    # The same URL with another signature is refused.
    i = path.index("X-Amz-Signature=") + len("X-Amz-Signature=")
    bad = path[:i] + ("0" if path[i] != "0" else "1") + path[i + 1:]
    st, _, out = send(coffer, "POST", bad, b"", headers)
    assert st in (400, 403) and out["__type"] in ("SignatureDoesNotMatch", "InvalidSignatureException"), out
    assert out["message"]


def test_wire_operator_endpoints(coffer):
    st, _, body = send(coffer, "GET", "/healthz")
    assert st == 200 and body == b"ok"
    st, _, body = send(coffer, "GET", "/readyz")
    assert st == 200 and body == b"ready"
    st, _, body = send(coffer, "GET", "/coffer/v1/sys/status")
    assert st == 200 and body["initialized"] is True and body["sealed"] is False
    st, _, body = send(coffer, "GET", "/")
    assert st == 200 and b"Secrets Manager" in body
    assert_error(send(coffer, "GET", "/no/such/path"), "UnknownOperationException")
    # init on an initialised (dev) server is refused, without leaking anything.
    st, _, body = send(coffer, "POST", "/coffer/v1/sys/init", json.dumps({"shares": 3, "threshold": 2}).encode(),
                       {"content-type": "application/json"})
    assert st >= 400 and "shares" not in body
