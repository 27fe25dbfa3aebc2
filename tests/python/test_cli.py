"""The aws CLI (awscli from PyPI) against a real Coffer process."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from conftest import client_env


@pytest.fixture
def cli_name(aws, request):
    """A unique secret name that is force-deleted after the test."""
    n = f"cli/{request.node.name[:40]}/{uuid.uuid4().hex[:8]}"
    yield n
    aws("delete-secret", "--secret-id", n, "--force-delete-without-recovery", check=False)


def test_cli_create_secret_string_from_file_and_query(aws, cli_name, tmp_path):
    creds = {"username": "admin", "password": "p@ss w0rd!", "port": 5432}
    f = tmp_path / "creds.json"
    f.write_text(json.dumps(creds))
    out = aws(
        "create-secret", "--name", cli_name, "--description", "from a file",
        "--secret-string", f"file://{f}",
    ).json()
    assert out["Name"] == cli_name and out["ARN"].startswith("arn:aws:secretsmanager:us-east-1:")
    assert len(out["VersionId"]) == 36
    text = aws("get-secret-value", "--secret-id", cli_name, "--query", "SecretString", output="text").stdout
    assert json.loads(text) == creds
    # JMESPath over the JSON output.
    stages = aws("get-secret-value", "--secret-id", out["ARN"], "--query", "VersionStages").json()
    assert stages == ["AWSCURRENT"]
    vid = aws("get-secret-value", "--secret-id", cli_name, "--query", "VersionId", output="text").stdout.strip()
    assert vid == out["VersionId"]


def test_cli_create_secret_with_cli_input_json(aws, cli_name, tmp_path):
    token = str(uuid.uuid4())
    req = {
        "Name": cli_name,
        "ClientRequestToken": token,
        "Description": "whole request from JSON",
        "SecretString": "{\"k\": \"v\"}",
        "Tags": [{"Key": "origin", "Value": "cli-input-json"}],
    }
    f = tmp_path / "req.json"
    f.write_text(json.dumps(req))
    out = aws("create-secret", "--cli-input-json", f"file://{f}").json()
    assert out["VersionId"] == token
    # The same request again is an idempotent retry.
    again = aws("create-secret", "--cli-input-json", f"file://{f}").json()
    assert again["VersionId"] == token and again["ARN"] == out["ARN"]
    d = aws("describe-secret", "--secret-id", cli_name).json()
    assert d["Description"] == "whole request from JSON"
    assert d["Tags"] == [{"Key": "origin", "Value": "cli-input-json"}]


def test_cli_binary_secret_from_fileb(aws, cli_name, tmp_path):
    data = bytes(range(256)) * 4
    f = tmp_path / "blob.bin"
    f.write_bytes(data)
    aws("create-secret", "--name", cli_name, "--secret-binary", f"fileb://{f}")
    b64 = aws("get-secret-value", "--secret-id", cli_name, "--query", "SecretBinary", output="text").stdout.strip()
    assert base64.b64decode(b64) == data


def test_cli_put_secret_value_custom_version_stages(aws, cli_name):
    v1 = aws("create-secret", "--name", cli_name, "--secret-string", "one").json()["VersionId"]
    put = aws(
        "put-secret-value", "--secret-id", cli_name, "--secret-string", "two",
        "--version-stages", "STAGING", "CANARY",
    ).json()
    assert sorted(put["VersionStages"]) == ["CANARY", "STAGING"]
    v2 = put["VersionId"]
    assert aws("get-secret-value", "--secret-id", cli_name, "--query", "SecretString",
               output="text").stdout.strip() == "one"
    assert aws("get-secret-value", "--secret-id", cli_name, "--version-stage", "CANARY",
               "--query", "SecretString", output="text").stdout.strip() == "two"
    versions = aws("list-secret-version-ids", "--secret-id", cli_name).json()["Versions"]
    stages = {v["VersionId"]: sorted(v["VersionStages"]) for v in versions}
    assert stages == {v1: ["AWSCURRENT"], v2: ["CANARY", "STAGING"]}
    # Promote with update-secret-version-stage.
    aws("update-secret-version-stage", "--secret-id", cli_name, "--version-stage", "AWSCURRENT",
        "--move-to-version-id", v2, "--remove-from-version-id", v1)
    d = aws("describe-secret", "--secret-id", cli_name).json()
    assert sorted(d["VersionIdsToStages"][v2]) == ["AWSCURRENT", "CANARY", "STAGING"]
    assert d["VersionIdsToStages"][v1] == ["AWSPREVIOUS"]


def test_cli_list_secrets_filters_with_negation_and_paging(aws):
    prefix = f"clils{uuid.uuid4().hex[:8]}/"
    names = [prefix + n for n in ("keep/a", "keep/b", "drop/c", "keep/d", "drop/e")]
    try:
        for n in names:
            aws("create-secret", "--name", n, "--secret-string", "x",
                "--tags", f"Key=group,Value={n.split('/')[1]}")
        got = aws(
            "list-secrets", "--filters", f"Key=name,Values={prefix}", f"Key=name,Values=!{prefix}drop",
            "--query", "SecretList[].Name",
        ).json()
        assert sorted(got) == sorted(n for n in names if "/keep/" in n)
        # The same in JSON form, negating a tag value, sorted by name descending.
        flt = json.dumps([{"Key": "name", "Values": [prefix]}, {"Key": "tag-value", "Values": ["!keep"]}])
        got = aws("list-secrets", "--filters", flt, "--sort-by", "name", "--sort-order", "desc",
                  "--query", "SecretList[].Name").json()
        assert got == sorted((n for n in names if "/drop/" in n), reverse=True)
        # The CLI follows NextToken by itself with a small page size …
        got = aws("list-secrets", "--filters", f"Key=name,Values={prefix}", "--page-size", "2",
                  "--query", "SecretList[].Name").json()
        assert sorted(got) == sorted(names)
        # … and --max-items stops early with a resume token.
        part = aws("list-secrets", "--filters", f"Key=name,Values={prefix}", "--page-size", "2",
                   "--max-items", "3").json()
        assert len(part["SecretList"]) == 3 and part.get("NextToken")
        rest = aws("list-secrets", "--filters", f"Key=name,Values={prefix}", "--page-size", "2",
                   "--starting-token", part["NextToken"]).json()
        assert sorted(s["Name"] for s in part["SecretList"] + rest["SecretList"]) == sorted(names)
    finally:
        for n in names:
            aws("delete-secret", "--secret-id", n, "--force-delete-without-recovery", check=False)


def test_cli_describe_secret_fields(aws, cli_name):
    arn = aws("create-secret", "--name", cli_name, "--description", "described",
              "--secret-string", "v", "--tags", "Key=env,Value=test").json()["ARN"]
    d = aws("describe-secret", "--secret-id", cli_name).json()
    assert d["ARN"] == arn and d["Name"] == cli_name and d["Description"] == "described"
    assert d["Tags"] == [{"Key": "env", "Value": "test"}]
    assert d["PrimaryRegion"] == "us-east-1"
    assert len(d["VersionIdsToStages"]) == 1
    for k in ("CreatedDate", "LastChangedDate"):
        assert k in d
    for k in ("DeletedDate", "KmsKeyId", "RotationRules"):
        assert k not in d
    # Partial ARN (without the random suffix) also works.
    assert aws("describe-secret", "--secret-id", arn[:-7], "--query", "Name", output="text").stdout.strip() == cli_name


def test_cli_tag_and_untag_resource(aws, cli_name):
    aws("create-secret", "--name", cli_name, "--secret-string", "v", "--tags", "Key=a,Value=1")
    aws("tag-resource", "--secret-id", cli_name, "--tags", "Key=b,Value=2", "Key=a,Value=overwritten")
    tags = aws("describe-secret", "--secret-id", cli_name, "--query", "Tags").json()
    assert {t["Key"]: t["Value"] for t in tags} == {"a": "overwritten", "b": "2"}
    aws("untag-resource", "--secret-id", cli_name, "--tag-keys", "a", "not-there")
    tags = aws("describe-secret", "--secret-id", cli_name, "--query", "Tags").json()
    assert tags == [{"Key": "b", "Value": "2"}]
    r = aws("tag-resource", "--secret-id", cli_name, "--tags", "Key=aws:x,Value=1", check=False)
    assert r.returncode != 0 and "InvalidParameterException" in r.stderr


def test_cli_delete_and_restore_secret(aws, cli_name):
    aws("create-secret", "--name", cli_name, "--secret-string", "v")
    d = aws("delete-secret", "--secret-id", cli_name, "--recovery-window-in-days", "7").json()
    assert d["Name"] == cli_name and "DeletionDate" in d
    r = aws("get-secret-value", "--secret-id", cli_name, check=False)
    assert r.returncode != 0 and "InvalidRequestException" in r.stderr
    listed = aws("list-secrets", "--filters", f"Key=name,Values={cli_name}", "--query", "SecretList[].Name").json()
    assert listed == []
    listed = aws("list-secrets", "--include-planned-deletion", "--filters", f"Key=name,Values={cli_name}",
                 "--query", "SecretList[].Name").json()
    assert listed == [cli_name]
    aws("restore-secret", "--secret-id", cli_name)
    assert aws("get-secret-value", "--secret-id", cli_name, "--query", "SecretString",
               output="text").stdout.strip() == "v"
    aws("delete-secret", "--secret-id", cli_name, "--force-delete-without-recovery")
    r = aws("describe-secret", "--secret-id", cli_name, check=False)
    assert r.returncode != 0 and "ResourceNotFoundException" in r.stderr


def test_cli_get_random_password(aws):
    p = aws("get-random-password", "--password-length", "40", "--exclude-punctuation",
            "--exclude-characters", "abcdef", "--query", "RandomPassword", output="text").stdout.rstrip("\n")
    assert len(p) == 40 and p.isalnum() and not set(p) & set("abcdef")
    p = aws("get-random-password", "--password-length", "12", "--exclude-uppercase", "--exclude-lowercase",
            "--exclude-punctuation", "--query", "RandomPassword", output="text").stdout.strip()
    assert len(p) == 12 and p.isdigit()
    p = aws("get-random-password", "--include-space", "--no-require-each-included-type",
            "--password-length", "64", "--query", "RandomPassword").json()
    assert len(p) == 64
    r = aws("get-random-password", "--exclude-uppercase", "--exclude-lowercase", "--exclude-numbers",
            "--exclude-punctuation", check=False)
    assert r.returncode != 0 and "InvalidParameterException" in r.stderr


def test_cli_wrong_secret_key_gets_invalid_signature(aws, coffer):
    env = client_env(coffer.access_key_id, coffer.secret_access_key + "x", coffer.region)
    r = aws("list-secrets", check=False, env=env)
    assert r.returncode != 0
    assert "InvalidSignatureException" in r.stderr, r.stderr
    env = client_env("AKIA" + "Z" * 16, coffer.secret_access_key, coffer.region)
    r = aws("list-secrets", check=False, env=env)
    assert r.returncode != 0 and "UnrecognizedClientException" in r.stderr, r.stderr


def test_cli_errors_name_the_exception(aws, cli_name):
    r = aws("get-secret-value", "--secret-id", cli_name, check=False)
    assert r.returncode != 0 and "ResourceNotFoundException" in r.stderr
    aws("create-secret", "--name", cli_name, "--secret-string", "v")
    r = aws("create-secret", "--name", cli_name, "--secret-string", "v", check=False)
    assert r.returncode != 0 and "ResourceExistsException" in r.stderr
    r = aws("delete-secret", "--secret-id", cli_name, "--recovery-window-in-days", "3", check=False)
    assert r.returncode != 0 and "InvalidParameterException" in r.stderr
