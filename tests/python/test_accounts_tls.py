"""Accounts (isolation between accounts and regions) and TLS, with real processes."""

from __future__ import annotations

import datetime as dt
import http.client
import ipaddress
import re
import socket
import ssl
import subprocess
import uuid

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from conftest import client_env, coffer_bin, force_delete, make_client, start_server, AwsCli


def run_coffer(*args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [coffer_bin(), *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout
    )


def parse_account(stdout: str) -> dict:
    m = re.search(r"Account (\d{12}) created", stdout)
    keys = dict(re.findall(r"^\s*(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY)=(\S+)\s*$", stdout, re.M))
    assert m and len(keys) == 2, stdout
    return {"account_id": m.group(1), **keys}


def code_of(e: ClientError) -> str:
    return e.response["Error"]["Code"]


def account_of(arn: str) -> str:
    return arn.split(":")[4]


# ------------------------------------------------------------------------------ accounts


@pytest.fixture(scope="module")
def account_b(coffer):
    """A second account, created with `coffer account create` using the root (admin) key."""
    r = run_coffer("account", "create", "--endpoint", coffer.endpoint, env=coffer.env())
    assert r.returncode == 0, r.stderr
    return parse_account(r.stdout)


@pytest.fixture(scope="module")
def sm_b(coffer, account_b):
    return make_client(coffer.endpoint, account_b["AWS_ACCESS_KEY_ID"], account_b["AWS_SECRET_ACCESS_KEY"])


def test_account_create_prints_new_distinct_account(coffer, sm, account_b):
    root_account = account_of(sm.create_secret(Name=f"acct/probe/{uuid.uuid4().hex}", SecretString="x")["ARN"])
    assert account_b["account_id"] != root_account
    assert account_b["AWS_ACCESS_KEY_ID"] != coffer.access_key_id
    # Each call makes another account.
    r = run_coffer("account", "create", "--endpoint", coffer.endpoint, env=coffer.env())
    assert r.returncode == 0, r.stderr
    c = parse_account(r.stdout)
    assert c["account_id"] not in (account_b["account_id"], root_account)


def test_account_create_needs_admin_and_valid_credentials(coffer, account_b):
    # Account B's key is not an admin key.
    env_b = client_env(account_b["AWS_ACCESS_KEY_ID"], account_b["AWS_SECRET_ACCESS_KEY"])
    r = run_coffer("account", "create", "--endpoint", coffer.endpoint, env=env_b)
    assert r.returncode != 0 and "AccessDeniedException" in r.stderr, r.stderr
    # A wrong secret key fails signature verification.
    r = run_coffer("account", "create", "--endpoint", coffer.endpoint,
                   env=client_env(coffer.access_key_id, "wrong" + coffer.secret_access_key))
    assert r.returncode != 0 and "InvalidSignatureException" in r.stderr, r.stderr
    # No credentials at all.
    env = {k: v for k, v in coffer.env().items() if not k.startswith("AWS_")}
    r = run_coffer("account", "create", "--endpoint", coffer.endpoint, env=env)
    assert r.returncode != 0 and "AWS_ACCESS_KEY_ID" in r.stderr


def test_account_b_cannot_see_account_a_secret(sm, sm_b, name):
    a = sm.create_secret(Name=name, SecretString="A's value")
    try:
        for call in (
            lambda: sm_b.get_secret_value(SecretId=name),
            lambda: sm_b.describe_secret(SecretId=name),
            lambda: sm_b.put_secret_value(SecretId=name, SecretString="hijack"),
            lambda: sm_b.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True),
        ):
            with pytest.raises(ClientError) as info:
                call()
            assert code_of(info.value) == "ResourceNotFoundException"
        # By A's ARN: refused outright (the ARN names another account).
        with pytest.raises(ClientError) as info:
            sm_b.get_secret_value(SecretId=a["ARN"])
        assert code_of(info.value) == "AccessDeniedException"
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert sm_b.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"] == []
        batch = sm_b.batch_get_secret_value(SecretIdList=[name])
        assert batch["SecretValues"] == [] and batch["Errors"][0]["ErrorCode"] == "ResourceNotFoundException"
        assert sm.get_secret_value(SecretId=name)["SecretString"] == "A's value"
    finally:
        force_delete(sm, name)


def test_same_name_in_two_accounts_is_two_secrets(sm, sm_b, name, account_b):
    a = sm.create_secret(Name=name, SecretString="value-a")
    try:
        b = sm_b.create_secret(Name=name, SecretString="value-b")
        assert a["ARN"] != b["ARN"]
        assert account_of(b["ARN"]) == account_b["account_id"] != account_of(a["ARN"])
        assert sm.get_secret_value(SecretId=name)["SecretString"] == "value-a"
        assert sm_b.get_secret_value(SecretId=name)["SecretString"] == "value-b"
        sm_b.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        assert sm.get_secret_value(SecretId=name)["SecretString"] == "value-a"
    finally:
        force_delete(sm, name)
        force_delete(sm_b, name)


def test_same_name_in_two_regions_of_one_account(coffer, sm, name):
    eu = make_client(coffer.endpoint, coffer.access_key_id, coffer.secret_access_key, "eu-west-1")
    us = sm.create_secret(Name=name, SecretString="us value")
    try:
        e = eu.create_secret(Name=name, SecretString="eu value", Tags=[{"Key": "r", "Value": "eu"}])
        assert ":us-east-1:" in us["ARN"] and ":eu-west-1:" in e["ARN"]
        assert account_of(us["ARN"]) == account_of(e["ARN"])
        assert sm.get_secret_value(SecretId=name)["SecretString"] == "us value"
        assert eu.get_secret_value(SecretId=name)["SecretString"] == "eu value"
        assert eu.describe_secret(SecretId=name)["PrimaryRegion"] == "eu-west-1"
        # Each region lists only its own secret.
        flt = [{"Key": "name", "Values": [name]}]
        assert [s["ARN"] for s in sm.list_secrets(Filters=flt)["SecretList"]] == [us["ARN"]]
        assert [s["ARN"] for s in eu.list_secrets(Filters=flt)["SecretList"]] == [e["ARN"]]
        assert eu.list_secrets(Filters=[{"Key": "primary-region", "Values": ["eu-west-1"]},
                                        {"Key": "name", "Values": [name]}])["SecretList"][0]["Name"] == name
        # The other region's ARN is refused.
        with pytest.raises(ClientError) as info:
            sm.describe_secret(SecretId=e["ARN"])
        assert code_of(info.value) == "AccessDeniedException"
        eu.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
        assert sm.get_secret_value(SecretId=name)["SecretString"] == "us value"
    finally:
        force_delete(sm, name)
        force_delete(eu, name)


def test_unknown_access_key_and_bad_signature_via_boto3(coffer):
    bad_id = make_client(coffer.endpoint, "AKIAUNKNOWNKEY000000", coffer.secret_access_key)
    with pytest.raises(ClientError) as info:
        bad_id.list_secrets()
    assert code_of(info.value) == "UnrecognizedClientException"
    bad_secret = make_client(coffer.endpoint, coffer.access_key_id, coffer.secret_access_key[:-1] + "#")
    with pytest.raises(ClientError) as info:
        bad_secret.list_secrets()
    assert code_of(info.value) == "InvalidSignatureException"
    assert info.value.response["Error"]["Message"]


# ------------------------------------------------------------------------------ TLS


def make_ca_and_cert(tmp):
    """A self-signed CA and a server certificate for 127.0.0.1 / localhost signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Coffer pytest CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {"ca": tmp / "ca.pem", "cert": tmp / "server.pem", "key": tmp / "server.key"}
    paths["ca"].write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    paths["key"].chmod(0o600)
    return paths


@pytest.fixture(scope="module")
def tls_server(workdir):
    tmp = workdir / "tls"
    tmp.mkdir()
    pem = make_ca_and_cert(tmp)
    server = start_server(tmp / "data", "--tls-cert", str(pem["cert"]), "--tls-key", str(pem["key"]))
    server.extra.update(pem)
    try:
        yield server
    finally:
        server.stop()


def test_tls_boto3_with_private_ca(tls_server, name):
    assert tls_server.endpoint.startswith("https://127.0.0.1:")
    c = make_client(tls_server.endpoint, tls_server.access_key_id, tls_server.secret_access_key,
                    verify=str(tls_server.extra["ca"]))
    arn = c.create_secret(Name=name, SecretString="over tls")["ARN"]
    assert c.get_secret_value(SecretId=arn)["SecretString"] == "over tls"
    c.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    # The endpoint under its DNS name matches the certificate's SAN as well.
    by_dns = make_client(tls_server.endpoint.replace("127.0.0.1", "localhost"), tls_server.access_key_id,
                         tls_server.secret_access_key, verify=str(tls_server.extra["ca"]))
    try:
        by_dns.list_secrets(MaxResults=1)
    except BotoCoreError as e:  # localhost may resolve to ::1 only on some hosts
        if "Could not connect" not in str(e):
            raise


def test_tls_untrusted_without_ca(tls_server):
    c = make_client(tls_server.endpoint, tls_server.access_key_id, tls_server.secret_access_key)
    with pytest.raises(BotoCoreError) as info:
        c.list_secrets()
    assert "SSL" in type(info.value).__name__ or "certificate" in str(info.value).lower()


def test_tls_plain_http_to_tls_port_fails(tls_server):
    plain = tls_server.endpoint.replace("https://", "http://")
    c = make_client(plain, tls_server.access_key_id, tls_server.secret_access_key)
    with pytest.raises(BotoCoreError):
        c.list_secrets()
    # At the socket level: a plain HTTP request gets no HTTP response.
    conn = http.client.HTTPConnection("127.0.0.1", tls_server.port, timeout=15)
    try:
        with pytest.raises((http.client.HTTPException, ConnectionError, socket.timeout, OSError)):
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
    finally:
        conn.close()


def test_tls_handshake_offers_h2_and_http11(tls_server):
    ctx = ssl.create_default_context(cafile=str(tls_server.extra["ca"]))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            assert s.selected_alpn_protocol() == "h2"
            assert s.version() in ("TLSv1.2", "TLSv1.3")
    ctx = ssl.create_default_context(cafile=str(tls_server.extra["ca"]))
    ctx.set_alpn_protocols(["http/1.1"])
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            assert s.selected_alpn_protocol() == "http/1.1"
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
            assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"ok")


def test_tls_account_create_and_aws_cli_with_ca_bundle(tls_server, name):
    env = tls_server.env()
    r = run_coffer("account", "create", "--endpoint", tls_server.endpoint, "--ca-cert",
                   str(tls_server.extra["ca"]), env=env)
    assert r.returncode == 0, r.stderr
    acct = parse_account(r.stdout)
    # Without the CA the operator CLI refuses the certificate.
    r = run_coffer("account", "create", "--endpoint", tls_server.endpoint, env=env)
    assert r.returncode != 0
    # The new account works over TLS with the aws CLI and --ca-bundle.
    # The new account works over TLS with the aws CLI, trusting the CA via AWS_CA_BUNDLE.
    env_b = client_env(acct["AWS_ACCESS_KEY_ID"], acct["AWS_SECRET_ACCESS_KEY"])
    cli = AwsCli(tls_server.endpoint, dict(env_b, AWS_CA_BUNDLE=str(tls_server.extra["ca"])))
    created = cli("create-secret", "--name", name, "--secret-string", "cli over tls").json()
    assert account_of(created["ARN"]) == acct["account_id"]
    got = cli("get-secret-value", "--secret-id", name, "--query", "SecretString", output="text").stdout.strip()
    assert got == "cli over tls"
    # Without the CA bundle the CLI rejects the certificate.
    r = cli("list-secrets", env=env_b, check=False)
    assert r.returncode != 0 and "SSL" in r.stderr, r.stderr
