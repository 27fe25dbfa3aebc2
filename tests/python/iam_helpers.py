"""Helpers shared by the IAM / STS / resource-policy end-to-end tests (not a test module).

`Scratch` wraps one account's root credentials: it creates users, roles, groups, managed
policies and secrets with unique names and removes all of them (best effort) afterwards.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from dataclasses import dataclass, field

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import coffer_bin

REGION = "us-east-1"
READ_ONLY = "arn:aws:iam::aws:policy/CofferSecretsManagerReadOnly"
READ_WRITE = "arn:aws:iam::aws:policy/SecretsManagerReadWrite"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"

# Codes a refused (unknown, inactive, deleted or forged) credential may get, by protocol:
# JSON services say UnrecognizedClientException, Query services InvalidClientTokenId.
BAD_CREDENTIAL_CODES = {"UnrecognizedClientException", "InvalidClientTokenId"}


def uid(n: int = 8) -> str:
    return uuid.uuid4().hex[:n]


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def code_of(e: ClientError) -> str:
    return e.response["Error"]["Code"]


def expect(code, fn, *args, status: int | None = None, **kwargs) -> ClientError:
    """Calls fn; asserts it fails with `code` (or one of a set of codes) and HTTP `status`."""
    codes = {code} if isinstance(code, str) else set(code)
    with pytest.raises(ClientError) as info:
        fn(*args, **kwargs)
    err = info.value.response
    assert err["Error"]["Code"] in codes, err
    assert err["Error"].get("Message"), f"empty message: {err}"
    if status is not None:
        assert err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    return info.value


def until(fn, timeout: float = 2.0, interval: float = 0.1):
    """Retries fn (which raises AssertionError or ClientError while not yet true) for up
    to `timeout` seconds; returns its result. Covers any small propagation delay."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except (AssertionError, ClientError, pytest.fail.Exception):
            if time.monotonic() >= deadline:
                raise
            time.sleep(interval)


def denied_message(principal_arn: str, action: str, resource: str) -> str:
    """AWS's message for a call no identity-based policy allows."""
    return (
        f"User: {principal_arn} is not authorized to perform: {action} on resource: {resource} "
        f"because no identity-based policy allows the {action} action"
    )


def boto_client(endpoint: str, service: str, key: str, secret: str, token: str | None = None,
                region: str = REGION, **kw):
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=30)
    session = boto3.session.Session(
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token, region_name=region
    )
    return session.client(service, endpoint_url=endpoint, config=cfg, **kw)


@dataclass
class Principal:
    """Credentials of a user, a role session or an account root, with clients for them."""

    endpoint: str
    key: str
    secret: str
    token: str | None = None
    arn: str = ""
    name: str = ""
    extra: dict = field(default_factory=dict)

    def client(self, service: str, region: str = REGION):
        return boto_client(self.endpoint, service, self.key, self.secret, self.token, region)

    @property
    def sm(self):
        return self.client("secretsmanager")

    @property
    def iam(self):
        return self.client("iam")

    @property
    def sts(self):
        return self.client("sts")

    def wait_usable(self) -> None:
        """Waits (≤ 2 s) until the server recognises these credentials."""
        until(lambda: self.sts.get_caller_identity())


def _quiet(fn, *args, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except ClientError:
        pass


class Scratch:
    """Creates IAM entities and secrets in one account and deletes them afterwards."""

    def __init__(self, endpoint: str, key: str, secret: str):
        self.endpoint = endpoint
        self.root = Principal(endpoint, key, secret)
        self.iam = self.root.iam
        self.sm = self.root.sm
        ident = self.root.sts.get_caller_identity()
        self.account_id = ident["Account"]
        self.root.arn = ident["Arn"]
        self.users: list[str] = []
        self.roles: list[str] = []
        self.groups: list[str] = []
        self.policies: list[str] = []
        self.secrets: list[tuple[str, str]] = []  # (region, id)
        self._sm_by_region = {REGION: self.sm}

    def sm_in(self, region: str):
        if region not in self._sm_by_region:
            self._sm_by_region[region] = self.root.client("secretsmanager", region)
        return self._sm_by_region[region]

    # ---------------------------------------------------------------- creation

    def user(self, label: str = "u", inline: str | None = None, managed=(), tags=None, key: bool = True,
             path: str = "/") -> Principal:
        """A new user with an optional inline policy ("inline"), managed policies and tags;
        with an access key (waited for) unless key=False."""
        name = f"pt-{label}-{uid()}"
        kw = {"Tags": tags} if tags else {}
        user = self.iam.create_user(UserName=name, Path=path, **kw)["User"]
        self.users.append(name)
        if inline:
            self.iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=inline)
        for arn in managed:
            self.iam.attach_user_policy(UserName=name, PolicyArn=arn)
        p = Principal(self.endpoint, "", "", arn=user["Arn"], name=name, extra={"User": user})
        if key:
            k = self.iam.create_access_key(UserName=name)["AccessKey"]
            p.key, p.secret = k["AccessKeyId"], k["SecretAccessKey"]
            p.wait_usable()
        return p

    def role(self, label: str, trust: str, inline: str | None = None, **kw) -> dict:
        name = f"pt-{label}-{uid()}"
        role = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, **kw)["Role"]
        self.roles.append(name)
        if inline:
            self.iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=inline)
        return role

    def group(self, label: str = "g") -> dict:
        name = f"pt-{label}-{uid()}"
        g = self.iam.create_group(GroupName=name)["Group"]
        self.groups.append(name)
        return g

    def managed_policy(self, label: str, document: str) -> dict:
        p = self.iam.create_policy(PolicyName=f"pt-{label}-{uid()}", PolicyDocument=document)["Policy"]
        self.policies.append(p["Arn"])
        return p

    def secret(self, name: str, value: str = "value", tags=None, region: str = REGION) -> str:
        kw = {"Tags": tags} if tags else {}
        arn = self.sm_in(region).create_secret(Name=name, SecretString=value, **kw)["ARN"]
        self.secrets.append((region, name))
        return arn

    def secret_arn_pattern(self, name_pattern: str, region: str = REGION) -> str:
        return f"arn:aws:secretsmanager:{region}:{self.account_id}:secret:{name_pattern}"

    # ---------------------------------------------------------------- cleanup

    def delete_user(self, name: str) -> None:
        iam = self.iam
        try:
            for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                _quiet(iam.delete_access_key, UserName=name, AccessKeyId=k["AccessKeyId"])
            for p in iam.list_user_policies(UserName=name)["PolicyNames"]:
                _quiet(iam.delete_user_policy, UserName=name, PolicyName=p)
            for p in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
                _quiet(iam.detach_user_policy, UserName=name, PolicyArn=p["PolicyArn"])
            for g in iam.list_groups_for_user(UserName=name)["Groups"]:
                _quiet(iam.remove_user_from_group, UserName=name, GroupName=g["GroupName"])
        except ClientError:
            pass
        _quiet(iam.delete_user_permissions_boundary, UserName=name)
        _quiet(iam.delete_user, UserName=name)

    def delete_role(self, name: str) -> None:
        iam = self.iam
        try:
            for p in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                _quiet(iam.delete_role_policy, RoleName=name, PolicyName=p)
            for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                _quiet(iam.detach_role_policy, RoleName=name, PolicyArn=p["PolicyArn"])
        except ClientError:
            pass
        _quiet(iam.delete_role_permissions_boundary, RoleName=name)
        _quiet(iam.delete_role, RoleName=name)

    def delete_group(self, name: str) -> None:
        iam = self.iam
        try:
            for u in iam.get_group(GroupName=name)["Users"]:
                _quiet(iam.remove_user_from_group, GroupName=name, UserName=u["UserName"])
            for p in iam.list_group_policies(GroupName=name)["PolicyNames"]:
                _quiet(iam.delete_group_policy, GroupName=name, PolicyName=p)
            for p in iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]:
                _quiet(iam.detach_group_policy, GroupName=name, PolicyArn=p["PolicyArn"])
        except ClientError:
            pass
        _quiet(iam.delete_group, GroupName=name)

    def cleanup(self) -> None:
        for region, sid in self.secrets:
            _quiet(self.sm_in(region).delete_secret, SecretId=sid, ForceDeleteWithoutRecovery=True)
        for n in self.users:
            self.delete_user(n)
        for n in self.roles:
            self.delete_role(n)
        for n in self.groups:
            self.delete_group(n)
        for arn in self.policies:
            _quiet(self.iam.delete_policy, PolicyArn=arn)


# -------------------------------------------------------------------- second accounts


def run_coffer(*args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [coffer_bin(), *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout
    )


def create_account(coffer) -> dict:
    """A new account via `coffer account create` (root key of the admin account):
    {"account_id", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}."""
    r = run_coffer("account", "create", "--endpoint", coffer.endpoint, env=coffer.env())
    assert r.returncode == 0, r.stderr
    m = re.search(r"Account (\d{12}) created", r.stdout)
    keys = dict(re.findall(r"^\s*(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY)=(\S+)\s*$", r.stdout, re.M))
    assert m and len(keys) == 2, r.stdout
    return {"account_id": m.group(1), **keys}
