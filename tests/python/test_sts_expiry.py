"""Temporary credentials expire: two server processes on one data directory (two stateless
nodes), the second running its clock 20 minutes ahead, so a 15-minute session issued by the
first node is past its expiry on the second while a one-hour session still works."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import coffer_bin, start_server

CFG = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)


def client(endpoint, service, key, secret, token=None):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key,
                        aws_secret_access_key=secret, aws_session_token=token, config=CFG)


def start_node(data_dir, *extra):
    """Another `coffer serve --dev` on an existing data directory; returns (proc, endpoint)."""
    log = data_dir.parent / f"node-{uuid.uuid4().hex[:6]}.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COFFER_"))}
    with open(log, "wb") as out:
        proc = subprocess.Popen([coffer_bin(), "serve", "--dev", "--data-dir", str(data_dir), "--listen",
                                 "127.0.0.1:0", *extra], stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if "Coffer listening on " in line:
                return proc, line.split("Coffer listening on ", 1)[1].split()[0]
        if proc.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace")[-3000:])
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("second node did not start")


def test_expired_session_refused_on_another_node(tmp_path):
    a = start_server(tmp_path / "data")
    b_proc = None
    try:
        iam = client(a.endpoint, "iam", a.access_key_id, a.secret_access_key)
        name = f"exp{uuid.uuid4().hex[:8]}"
        user = iam.create_user(UserName=name)["User"]
        iam.put_user_policy(UserName=name, PolicyName="assume", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Resource": "*"}]}))
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": user["Arn"]}, "Action": "sts:AssumeRole"}]}
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        iam.put_role_policy(RoleName=name, PolicyName="list", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:ListSecrets",
                                                     "Resource": "*"}]}))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        sts = client(a.endpoint, "sts", key["AccessKeyId"], key["SecretAccessKey"])
        short = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="short", DurationSeconds=900)["Credentials"]
        long_ = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="long", DurationSeconds=3600)["Credentials"]
        assert short["AccessKeyId"].startswith("ASIA")

        def sm(endpoint, c):
            return client(endpoint, "secretsmanager", c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])

        sm(a.endpoint, short).list_secrets()  # valid now, on the issuing node

        b_proc, b = start_node(a.data_dir, "--test-clock-offset-secs", "1200", "--max-skew-secs", "1800")
        sm(b, long_).list_secrets()  # any node verifies a session; 20 minutes on, one hour still valid
        with pytest.raises(ClientError) as info:
            sm(b, short).list_secrets()
        err = info.value.response["Error"]
        assert err["Code"] == "ExpiredTokenException", err
        assert "expired" in err["Message"]
        with pytest.raises(ClientError) as info:
            client(b, "sts", short["AccessKeyId"], short["SecretAccessKey"], short["SessionToken"]).get_caller_identity()
        assert info.value.response["Error"]["Code"] == "ExpiredTokenException"
        # The first node (real time) still accepts it: expiry is judged by the clock, nothing is stored.
        sm(a.endpoint, short).list_secrets()
    finally:
        if b_proc is not None:
            b_proc.terminate()
            b_proc.wait(timeout=15)
        a.stop()
