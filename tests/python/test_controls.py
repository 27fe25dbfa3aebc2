"""Detective and preventive controls (`coffer serve --controls-file`, `coffer controls`).

One server runs with a controls file; secrets are seeded with boto3 so that each control
fires on known secrets and others are clean. Ageing and rotation state are set honestly:
- a secret is made "100 days old" by creating it through a second node on the same data
  directory whose clock runs 100 days behind (`--test-clock-offset-secs`), with a boto3
  client whose signing clock agrees with that node;
- rotation is not implemented yet, so its state is written where the controls read it
  until it lands (`extra_json["rotation"]` of the secret row).
A third node on the same data directory runs a second controls file (rotation required,
customer-managed keys required) to show those controls, which no secret can pass today.
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import subprocess
import time
import uuid

import boto3
import botocore.auth
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import client_env, coffer_bin, make_client, start_server
from test_sts_expiry import start_node

ORG = "111111111111"
OUTSIDER = "999999999999"
PATTERN = "^(prod|dev)/[a-z0-9-]+(/[a-z0-9-]+)*$"
CONTROLS = {
    "required_tags": ["team", "env"],
    "name_pattern": PATTERN,
    "max_days_unused": 90,
    "organization_accounts": [ORG],
}
TAGS = [{"Key": "team", "Value": "payments"}, {"Key": "env", "Value": "prod"}]
DAYS_BACK = 100


def run_controls(server, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [coffer_bin(), "controls", "--endpoint", server.endpoint, *args],
        env=env or server.env(), capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60,
    )


def findings_of(p: subprocess.CompletedProcess) -> set[tuple[str, str]]:
    out = json.loads(p.stdout)
    return {(f["Control"], f["SecretName"]) for f in out["Findings"]}


def set_rotation(data_dir, name: str, rotation: dict) -> None:
    """Writes rotation state where the controls read it (rotation is not implemented yet)."""
    db = sqlite3.connect(data_dir / "coffer.db", timeout=30)
    try:
        with db:
            n = db.execute(
                "UPDATE secrets SET extra_json = json_set(extra_json, '$.rotation', json(?)) WHERE name = ?",
                (json.dumps(rotation), name),
            ).rowcount
        assert n == 1, name
    finally:
        db.close()


def grant(account_principal: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": account_principal}, "Action": "secretsmanager:GetSecretValue",
         "Resource": "*"}]})


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    d = tmp_path_factory.mktemp("controls")
    controls = d / "controls.json"
    controls.write_text(json.dumps(CONTROLS))
    server = start_server(d / "data", "--controls-file", str(controls))
    extra_procs = []
    try:
        sm = make_client(server.endpoint, server.access_key_id, server.secret_access_key, server.region)
        account = boto3.client(
            "sts", endpoint_url=server.endpoint, region_name=server.region,
            aws_access_key_id=server.access_key_id, aws_secret_access_key=server.secret_access_key,
        ).get_caller_identity()["Account"]

        def create(name, tags=TAGS, **kw):
            sm.create_secret(Name=name, SecretString="v", Tags=tags, **kw)

        create("prod/clean")
        create("dev/clean/shared")
        sm.put_resource_policy(SecretId="dev/clean/shared", ResourcePolicy=grant(ORG))
        create("prod/own-account")
        sm.put_resource_policy(SecretId="prod/own-account",
                               ResourcePolicy=grant(f"arn:aws:iam::{account}:root"))
        create("prod/no-tags", tags=[{"Key": "env", "Value": "prod"}])
        create("Bad_Name")
        create("prod/rotation-failed")
        set_rotation(server.data_dir, "prod/rotation-failed", {"enabled": True, "last_outcome": "failed"})
        set_rotation(server.data_dir, "prod/clean", {"enabled": True, "last_outcome": "succeeded"})
        create("prod/shared-outside")
        sm.put_resource_policy(SecretId="prod/shared-outside",
                               ResourcePolicy=grant(f"arn:aws:iam::{OUTSIDER}:role/reader"))
        create("prod/public")
        sm.put_resource_policy(SecretId="prod/public", ResourcePolicy=grant("*"), BlockPublicPolicy=False)
        create("prod/deleted", tags=[])
        sm.delete_secret(SecretId="prod/deleted", RecoveryWindowInDays=7)

        # "prod/old": created 100 days ago, by a node whose clock (and its client's) is behind.
        offset = DAYS_BACK * 86400
        proc, past = start_node(server.data_dir, f"--test-clock-offset-secs={-offset}")
        extra_procs.append(proc)
        real = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda: real() - datetime.timedelta(seconds=offset)
        try:
            old = make_client(past, server.access_key_id, server.secret_access_key, server.region)
            old.create_secret(Name="prod/old", SecretString="v", Tags=TAGS)
            old.create_secret(Name="prod/old-but-read", SecretString="v", Tags=TAGS)
        finally:
            botocore.auth.get_current_datetime = real
        # A secret read recently is not "unused", however old (the access date is written
        # in the background).
        sm.get_secret_value(SecretId="prod/old-but-read")
        deadline = time.monotonic() + 10
        while "LastAccessedDate" not in sm.describe_secret(SecretId="prod/old-but-read"):
            assert time.monotonic() < deadline, "LastAccessedDate never written"
            time.sleep(0.05)
        yield server, sm, account, d
    finally:
        for p in extra_procs:
            p.terminate()
            p.wait(timeout=15)
        server.stop()


EXPECTED = {
    ("required-tags", "prod/no-tags"),
    ("name-convention", "Bad_Name"),
    ("rotation-failed", "prod/rotation-failed"),
    ("not-accessed", "prod/old"),
    ("policy-outside-organization", "prod/shared-outside"),
    ("policy-outside-organization", "prod/public"),
}


def test_each_control_fires_on_its_secrets_only(world):
    server, _, _, _ = world
    p = run_controls(server, "--format", "json")
    assert p.returncode == 3, p.stderr
    out = json.loads(p.stdout)
    assert findings_of(p) == EXPECTED
    assert out["Evaluated"] == 10  # every secret but the one scheduled for deletion
    names = [(f["SecretName"], f["Control"]) for f in out["Findings"]]
    assert names == sorted(names)
    by = {(f["Control"], f["SecretName"]): f for f in out["Findings"]}
    assert by[("required-tags", "prod/no-tags")]["Detail"] == "missing required tags: team"
    assert by[("required-tags", "prod/no-tags")]["SecretArn"].startswith("arn:aws:secretsmanager:us-east-1:")
    assert OUTSIDER in by[("policy-outside-organization", "prod/shared-outside")]["Detail"]
    assert "public" in by[("policy-outside-organization", "prod/public")]["Detail"]
    assert "never accessed; created" in by[("not-accessed", "prod/old")]["Detail"]
    assert f"({DAYS_BACK} days ago; limit 90 days)" in by[("not-accessed", "prod/old")]["Detail"]


def test_table_output_and_exit_status(world):
    server, _, _, _ = world
    p = run_controls(server)
    assert p.returncode == 3, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["CONTROL", "SECRET", "DETAIL"]
    rows = {tuple(line.split()[:2]) for line in lines[1:-1]}
    assert rows == EXPECTED
    assert lines[-1] == "6 findings in 10 secrets evaluated"
    # Columns line up: every row's SECRET starts where the header's does.
    col = lines[0].index("SECRET")
    for line in lines[1:-1]:
        assert line[col - 2:col] == "  " and line[col] != " ", line


def test_clean_account_exits_zero(world):
    server, _, _, _ = world
    # Another account's secrets are not evaluated: a new account has none.
    out = subprocess.run(
        [coffer_bin(), "account", "create", "--endpoint", server.endpoint],
        env=server.env(), capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    keys = dict(line.strip().split("=", 1) for line in out.splitlines() if "=" in line)
    env = client_env(keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"])
    other = make_client(server.endpoint, keys["AWS_ACCESS_KEY_ID"], keys["AWS_SECRET_ACCESS_KEY"])
    other.create_secret(Name="prod/fine", SecretString="v", Tags=TAGS)
    p = run_controls(server, "--format", "json", env=env)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["Findings"] == []
    assert json.loads(p.stdout)["Evaluated"] == 1
    p = run_controls(server, env=env)
    assert p.returncode == 0
    assert p.stdout.splitlines()[-1] == "0 findings in 1 secret evaluated"
    # Another region of the same account is another scope.
    p = run_controls(server, "--format", "json", env=server.env(AWS_REGION="eu-west-1",
                                                                    AWS_DEFAULT_REGION="eu-west-1"))
    assert p.returncode == 0 and json.loads(p.stdout)["Evaluated"] == 0


def test_run_controls_needs_root_or_permission(world):
    server, _, _, _ = world
    iam = boto3.client("iam", endpoint_url=server.endpoint, region_name="us-east-1",
                       aws_access_key_id=server.access_key_id, aws_secret_access_key=server.secret_access_key,
                       config=Config(retries={"max_attempts": 1}))
    name = f"ctl{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    env = client_env(key["AccessKeyId"], key["SecretAccessKey"])
    p = run_controls(server, env=env)
    assert p.returncode == 1
    assert "AccessDeniedException" in p.stderr and "coffer:RunControls" in p.stderr, p.stderr
    iam.put_user_policy(UserName=name, PolicyName="controls", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "coffer:RunControls", "Resource": "*"}]}))
    p = run_controls(server, "--format", "json", env=env)
    assert p.returncode == 3, p.stderr
    assert findings_of(p) == EXPECTED


def test_rotation_and_key_controls_on_another_node(world):
    server, _, _, d = world
    strict = d / "strict.json"
    strict.write_text(json.dumps({"require_rotation": True, "require_customer_managed_key": True}))
    proc, endpoint = start_node(server.data_dir, "--controls-file", str(strict))
    try:
        p = subprocess.run([coffer_bin(), "controls", "--format", "json", "--endpoint", endpoint],
                           env=server.env(), capture_output=True, text=True, timeout=60)
        assert p.returncode == 3, p.stderr
        found = findings_of(p)
        names = {"prod/clean", "dev/clean/shared", "prod/own-account", "prod/no-tags", "Bad_Name",
                 "prod/rotation-failed", "prod/shared-outside", "prod/public", "prod/old", "prod/old-but-read"}
        # Rotation enabled (per the stand-in state) on prod/clean and prod/rotation-failed only.
        rotation_off = names - {"prod/clean", "prod/rotation-failed"}
        assert found == (
            {("rotation-not-enabled", n) for n in rotation_off}
            | {("not-customer-managed-key", n) for n in names}
            | {("rotation-failed", "prod/rotation-failed")}
        )
        assert set(json.loads(p.stdout)["Controls"]) == {
            "rotation-not-enabled", "rotation-failed", "not-customer-managed-key"}
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_bad_controls_file_refused_at_start(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"required_tags": ["team"], "name_patern": "^x"}))
    p = subprocess.run([coffer_bin(), "serve", "--dev", "--data-dir", str(tmp_path / "data"), "--listen",
                        "127.0.0.1:0", "--controls-file", str(bad)],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                       env={k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COFFER_"))})
    assert p.returncode != 0
    assert "unknown field `name_patern`" in p.stderr, p.stderr[-2000:]
    # Refused before the data directory is touched.
    assert not (tmp_path / "data").exists()
    bad.write_text(json.dumps({"name_pattern": "a" * 1025}))
    p = subprocess.run([coffer_bin(), "serve", "--dev", "--data-dir", str(tmp_path / "data"), "--listen",
                        "127.0.0.1:0", "--controls-file", str(bad)],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                       env={k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COFFER_"))})
    assert p.returncode != 0 and "limit is 1024" in p.stderr, p.stderr[-2000:]


@pytest.fixture(scope="module")
def enforcing(tmp_path_factory):
    d = tmp_path_factory.mktemp("enforce")
    controls = d / "controls.json"
    controls.write_text(json.dumps({**CONTROLS, "enforce_at_create": True}))
    server = start_server(d / "data", "--controls-file", str(controls))
    try:
        yield server, make_client(server.endpoint, server.access_key_id, server.secret_access_key, server.region)
    finally:
        server.stop()


def test_preventive_refusal_at_create(enforcing):
    _, sm = enforcing
    with pytest.raises(ClientError) as info:
        sm.create_secret(Name="prod/api", SecretString="v", Tags=[{"Key": "other", "Value": "x"}])
    err = info.value.response["Error"]
    assert err["Code"] == "AccessDeniedException"
    assert err["Message"] == "CreateSecret refused by a preventive control: missing required tags: team, env"
    with pytest.raises(ClientError) as info:
        sm.create_secret(Name="Prod_API", SecretString="v", Tags=TAGS)
    err = info.value.response["Error"]
    assert err["Code"] == "AccessDeniedException"
    assert "does not match the required pattern" in err["Message"] and "Prod_API" in err["Message"]
    # Nothing was written.
    names = {s["Name"] for s in sm.list_secrets(IncludePlannedDeletion=True)["SecretList"]}
    assert not names & {"prod/api", "Prod_API"}


def test_compliant_create_and_required_tags_stay(enforcing):
    server, sm = enforcing
    arn = sm.create_secret(Name="prod/api", SecretString="v", Tags=[*TAGS, {"Key": "cost", "Value": "1"}])["ARN"]
    with pytest.raises(ClientError) as info:
        sm.untag_resource(SecretId=arn, TagKeys=["cost", "team"])
    err = info.value.response["Error"]
    assert err["Code"] == "AccessDeniedException"
    assert err["Message"] == "UntagResource refused by a preventive control: required tags can't be removed: team"
    tags = {t["Key"] for t in sm.describe_secret(SecretId=arn)["Tags"]}
    assert tags == {"team", "env", "cost"}
    sm.untag_resource(SecretId=arn, TagKeys=["cost"])
    sm.tag_resource(SecretId=arn, Tags=[{"Key": "team", "Value": "billing"}])  # changing a value is fine
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=arn)["Tags"]}
    assert tags == {"team": "billing", "env": "prod"}
    p = run_controls(server, "--format", "json")
    assert p.returncode == 0, p.stdout + p.stderr
