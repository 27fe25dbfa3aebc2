"""Roles and STS against a real Coffer process: role CRUD, AssumeRole (trust policies,
session tags and ABAC, session policies, durations), temporary credentials,
GetSessionToken, and the migration guide's ABAC identity policy used verbatim."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from iam_helpers import (
    BAD_CREDENTIAL_CODES, READ_ONLY, Principal, Scratch, allow, expect, policy, uid, until,
)

DATA = Path(__file__).resolve().parent / "data"
UTC = dt.timezone.utc


@pytest.fixture
def scratch(coffer):
    s = Scratch(coffer.endpoint, coffer.access_key_id, coffer.secret_access_key)
    yield s
    s.cleanup()


def trust(principal_arn: str, *actions: str) -> str:
    return policy({"Effect": "Allow", "Principal": {"AWS": principal_arn},
                   "Action": list(actions) or ["sts:AssumeRole"]})


def team_tags(team: str) -> list[dict]:
    return [{"Key": "team", "Value": team}]


def session_of(endpoint: str, r: dict) -> Principal:
    c = r["Credentials"]
    arn = r["AssumedRoleUser"]["Arn"] if "AssumedRoleUser" in r else ""
    return Principal(endpoint, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"], arn=arn)


def assert_expires_in(creds: dict, seconds: int, since: dt.datetime) -> None:
    exp = creds["Expiration"].astimezone(UTC)
    expected = since + dt.timedelta(seconds=seconds)
    assert abs((exp - expected).total_seconds()) < 60, (exp, expected)


def assert_temporary(creds: dict) -> None:
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20, creds
    assert creds["SecretAccessKey"] and creds["SessionToken"]


# ------------------------------------------------------------------------------ role CRUD


def test_role_crud(scratch):
    iam = scratch.iam
    path = f"/pt{uid()}/"
    doc = trust(f"arn:aws:iam::{scratch.account_id}:root")
    role = scratch.role("crud", doc, Path=path, MaxSessionDuration=7200, PermissionsBoundary=READ_ONLY,
                        Description="e2e role", Tags=[{"Key": "team", "Value": "red"}])
    name = role["RoleName"]
    assert role["RoleId"].startswith("AROA")
    assert role["Arn"] == f"arn:aws:iam::{scratch.account_id}:role{path}{name}"
    got = iam.get_role(RoleName=name)["Role"]
    assert got["AssumeRolePolicyDocument"] == json.loads(doc)
    assert got["MaxSessionDuration"] == 7200 and got["Description"] == "e2e role"
    assert got["PermissionsBoundary"] == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": READ_ONLY}
    assert got["Tags"] == [{"Key": "team", "Value": "red"}]
    assert [r["RoleName"] for r in iam.list_roles(PathPrefix=path)["Roles"]] == [name]

    iam.tag_role(RoleName=name, Tags=[{"Key": "env", "Value": "dev"}])
    iam.untag_role(RoleName=name, TagKeys=["team"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "env", "Value": "dev"}]

    inline = policy(allow("secretsmanager:ListSecrets"))
    iam.put_role_policy(RoleName=name, PolicyName="list", PolicyDocument=inline)
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["list"]
    assert iam.get_role_policy(RoleName=name, PolicyName="list")["PolicyDocument"] == json.loads(inline)
    iam.attach_role_policy(RoleName=name, PolicyArn=READ_ONLY)
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]] == [READ_ONLY]

    doc2 = trust(f"arn:aws:iam::{scratch.account_id}:root", "sts:AssumeRole", "sts:TagSession")
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=doc2)
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == json.loads(doc2)
    iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=READ_ONLY)
    iam.delete_role_permissions_boundary(RoleName=name)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]

    expect("EntityAlreadyExists", iam.create_role, RoleName=name, AssumeRolePolicyDocument=doc, status=409)
    expect("MalformedPolicyDocument", iam.create_role, RoleName=f"pt-bad-{uid()}",
           AssumeRolePolicyDocument="{not json", status=400)
    expect("MalformedPolicyDocument", iam.update_assume_role_policy, RoleName=name,
           PolicyDocument="{not json", status=400)
    expect("DeleteConflict", iam.delete_role, RoleName=name, status=409)
    iam.delete_role_policy(RoleName=name, PolicyName="list")
    iam.detach_role_policy(RoleName=name, PolicyArn=READ_ONLY)
    iam.delete_role(RoleName=name)
    expect("NoSuchEntity", iam.get_role, RoleName=name, status=404)


# ------------------------------------------------------------------------------ AssumeRole


@pytest.fixture
def abac(scratch):
    """A user named (by ARN) in the trust policy of a role whose policy grants reads of
    secrets whose `team` tag equals the session's `team` tag; red and blue secrets."""
    t = f"pt{uid()}"
    red = scratch.secret(f"{t}/red", "red secret", tags=team_tags("red"))
    red2 = scratch.secret(f"{t}/red2", "red secret 2", tags=team_tags("red"))
    blue = scratch.secret(f"{t}/blue", "blue secret", tags=team_tags("blue"))
    user = scratch.user("assumer")  # no identity policy: the trust policy names the user
    role_policy = policy(allow(
        ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], "*",
        Condition={"StringEquals": {"secretsmanager:ResourceTag/team": "${aws:PrincipalTag/team}"}},
    ))
    role = scratch.role("abac", trust(user.arn, "sts:AssumeRole", "sts:TagSession"), inline=role_policy,
                        MaxSessionDuration=3600)
    return {"user": user, "role": role, "red": red, "red2": red2, "blue": blue}


def test_assume_role_with_session_tags_reads_only_its_team(scratch, abac):
    user, role = abac["user"], abac["role"]
    session = f"s-{uid()}"
    since = dt.datetime.now(UTC)
    r = until(lambda: user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName=session, DurationSeconds=900,
                                           Tags=team_tags("red")))
    assert_temporary(r["Credentials"])
    assert_expires_in(r["Credentials"], 900, since)
    assumed = f"arn:aws:sts::{scratch.account_id}:assumed-role/{role['RoleName']}/{session}"
    assert r["AssumedRoleUser"] == {"Arn": assumed, "AssumedRoleId": f"{role['RoleId']}:{session}"}

    s = session_of(scratch.endpoint, r)
    ident = s.sts.get_caller_identity()
    assert ident == {"Account": scratch.account_id, "Arn": assumed, "UserId": f"{role['RoleId']}:{session}",
                     "ResponseMetadata": ident["ResponseMetadata"]}
    assert s.sm.get_secret_value(SecretId=abac["red"])["SecretString"] == "red secret"
    assert s.sm.describe_secret(SecretId=abac["red2"])["ARN"] == abac["red2"]
    e = expect("AccessDeniedException", s.sm.get_secret_value, SecretId=abac["blue"], status=400)
    assert e.response["Error"]["Message"].startswith(
        f"User: {assumed} is not authorized to perform: secretsmanager:GetSecretValue on resource: ")
    # The session has only the role's permissions, not the user's or the account's.
    expect("AccessDeniedException", s.sm.put_secret_value, SecretId=abac["red"], SecretString="x")
    expect("AccessDenied", s.iam.list_users, status=403)

    blue = session_of(scratch.endpoint, user.sts.assume_role(
        RoleArn=role["Arn"], RoleSessionName="blue", Tags=team_tags("blue")))
    assert blue.sm.get_secret_value(SecretId=abac["blue"])["SecretString"] == "blue secret"
    expect("AccessDeniedException", blue.sm.get_secret_value, SecretId=abac["red"])
    # Without a team tag nothing matches.
    untagged = session_of(scratch.endpoint, user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="none"))
    expect("AccessDeniedException", untagged.sm.get_secret_value, SecretId=abac["red"])


def test_default_duration_and_duration_limits(scratch, abac):
    user, role = abac["user"], abac["role"]
    since = dt.datetime.now(UTC)
    r = user.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="default")
    assert_expires_in(r["Credentials"], 3600, since)
    # Above the role's MaxSessionDuration (3600).
    expect("ValidationError", user.sts.assume_role, RoleArn=role["Arn"], RoleSessionName="long",
           DurationSeconds=7200, status=400)
    expect("ValidationError", user.sts.assume_role, RoleArn=role["Arn"], RoleSessionName="long",
           DurationSeconds=3601, status=400)
    longer = scratch.role("long", trust(user.arn), MaxSessionDuration=7200)
    since = dt.datetime.now(UTC)
    r = until(lambda: user.sts.assume_role(RoleArn=longer["Arn"], RoleSessionName="long", DurationSeconds=7200))
    assert_expires_in(r["Credentials"], 7200, since)


def test_session_policy_narrows_and_cannot_widen(scratch, abac):
    user, role = abac["user"], abac["role"]
    narrow = policy(allow("secretsmanager:GetSecretValue", abac["red"]))
    s = session_of(scratch.endpoint, user.sts.assume_role(
        RoleArn=role["Arn"], RoleSessionName="narrow", Tags=team_tags("red"), Policy=narrow))
    assert s.sm.get_secret_value(SecretId=abac["red"])["SecretString"] == "red secret"
    expect("AccessDeniedException", s.sm.get_secret_value, SecretId=abac["red2"])  # the role alone allows it
    wide = policy(allow("*", "*"))
    s = session_of(scratch.endpoint, user.sts.assume_role(
        RoleArn=role["Arn"], RoleSessionName="wide", Tags=team_tags("red"), Policy=wide))
    assert s.sm.get_secret_value(SecretId=abac["red2"])["SecretString"] == "red secret 2"
    expect("AccessDeniedException", s.sm.get_secret_value, SecretId=abac["blue"])
    expect("AccessDeniedException", s.sm.put_secret_value, SecretId=abac["red"], SecretString="x")
    expect("MalformedPolicyDocument", user.sts.assume_role, RoleArn=role["Arn"], RoleSessionName="bad",
           Policy="{not json", status=400)


def test_who_may_assume(scratch, abac):
    role = abac["role"]
    # Neither named in the trust policy nor allowed by an identity policy.
    stranger = scratch.user("stranger")
    e = expect("AccessDenied", stranger.sts.assume_role, RoleArn=role["Arn"], RoleSessionName="stranger", status=403)
    assert e.response["Error"]["Message"].startswith(
        f"User: {stranger.arn} is not authorized to perform: sts:AssumeRole on resource: {role['Arn']}")
    # The account root may not assume roles.
    expect("AccessDenied", scratch.root.sts.assume_role, RoleArn=role["Arn"], RoleSessionName="root", status=403)
    # Session tags need sts:TagSession in the trust policy.
    scratch.iam.update_assume_role_policy(RoleName=role["RoleName"], PolicyDocument=trust(abac["user"].arn))
    until(lambda: expect("AccessDenied", abac["user"].sts.assume_role, RoleArn=role["Arn"],
                         RoleSessionName="tagged", Tags=team_tags("red"), status=403))
    assert abac["user"].sts.assume_role(RoleArn=role["Arn"], RoleSessionName="plain")["Credentials"]

    # A trust policy naming the account delegates to identity policies.
    delegated = scratch.role("acct", trust(f"arn:aws:iam::{scratch.account_id}:root"),
                             inline=policy(allow("secretsmanager:ListSecrets")))
    expect("AccessDenied", stranger.sts.assume_role, RoleArn=delegated["Arn"], RoleSessionName="stranger", status=403)
    allowed = scratch.user("allowed", inline=policy(allow("sts:AssumeRole", delegated["Arn"])))
    r = until(lambda: allowed.sts.assume_role(RoleArn=delegated["Arn"], RoleSessionName="delegated"))
    assert session_of(scratch.endpoint, r).sm.list_secrets(MaxResults=1) is not None


def test_forged_or_missing_session_token_is_refused(scratch, abac):
    r = abac["user"].sts.assume_role(RoleArn=abac["role"]["Arn"], RoleSessionName="tampered", Tags=team_tags("red"))
    good = session_of(scratch.endpoint, r)
    assert good.sm.get_secret_value(SecretId=abac["red"])
    tok = good.token
    i = len(tok) // 2
    tampered = tok[:i] + ("A" if tok[i] != "A" else "B") + tok[i + 1:]
    for token in (tampered, "garbage", None):
        bad = Principal(scratch.endpoint, good.key, good.secret, token)
        expect(BAD_CREDENTIAL_CODES, bad.sm.get_secret_value, SecretId=abac["red"])
        expect(BAD_CREDENTIAL_CODES, bad.sts.get_caller_identity)
    # Another session's token with these keys is refused as well.
    other = session_of(scratch.endpoint, abac["user"].sts.assume_role(RoleArn=abac["role"]["Arn"],
                                                                       RoleSessionName="other"))
    swapped = Principal(scratch.endpoint, good.key, good.secret, other.token)
    expect(BAD_CREDENTIAL_CODES | {"InvalidSignatureException"}, swapped.sm.get_secret_value, SecretId=abac["red"])


def test_get_session_token(scratch):
    u = scratch.user("gst", inline=policy(allow("secretsmanager:ListSecrets")))
    since = dt.datetime.now(UTC)
    r = u.sts.get_session_token(DurationSeconds=900)
    assert_temporary(r["Credentials"])
    assert_expires_in(r["Credentials"], 900, since)
    s = session_of(scratch.endpoint, r)
    assert s.sts.get_caller_identity()["Arn"] == u.arn
    assert "SecretList" in s.sm.list_secrets(MaxResults=1)
    refused = f"pt-gst-{uid()}"
    scratch.secrets.append(("us-east-1", refused))
    expect("AccessDeniedException", s.sm.create_secret, Name=refused, SecretString="x")


# ------------------------------------------------------------------------------ ABAC (migration guide)


def test_abac_identity_policy_from_the_migration_guide(scratch):
    """The guide's policy, verbatim: its Resource names region ap-southeast-2."""
    region = "ap-southeast-2"
    doc = (DATA / "abac-identity-policy.json").read_text()
    tags = {"name": f"pt{uid(6)}", "appid": "app1", "appfunc": "web", "appenv": "dev"}
    tag_list = [{"Key": k, "Value": v} for k, v in tags.items()]
    u = scratch.user("abac", inline=doc, tags=tag_list)
    sm = u.client("secretsmanager", region)
    prefix = "/".join(tags[k] for k in ("name", "appid", "appfunc", "appenv"))

    def refused_create(name, tag_list=None):
        scratch.secrets.append((region, name))  # removed afterwards should it be created anyway
        kw = {"Tags": tag_list} if tag_list else {}
        expect("AccessDeniedException", sm.create_secret, Name=name, SecretString="x", status=400, **kw)

    name = f"{prefix}/db-credentials"
    scratch.secrets.append((region, name))
    arn = sm.create_secret(Name=name, SecretString="s1", Tags=tag_list)["ARN"]
    assert arn.startswith(f"arn:aws:secretsmanager:{region}:{scratch.account_id}:secret:{name}-")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "s1"
    sm.put_secret_value(SecretId=name, SecretString="s2")
    sm.update_secret(SecretId=arn, Description="updated by the app")
    assert sm.get_secret_value(SecretId=arn)["SecretString"] == "s2"
    assert scratch.sm_in(region).describe_secret(SecretId=name)["Description"] == "updated by the app"
    expect("AccessDeniedException", sm.describe_secret, SecretId=name)  # not in the policy

    refused_create(f"{prefix}/untagged")
    refused_create(f"{prefix}/wrong-env", [t if t["Key"] != "appenv" else {"Key": "appenv", "Value": "prod"}
                                           for t in tag_list])
    refused_create(f"{prefix}/three-tags", [t for t in tag_list if t["Key"] != "appfunc"])
    refused_create(f"{tags['name']}/other/{uid()}", tag_list)  # right tags, name outside the prefix

    other = scratch.secret(f"{prefix}/other-env", "other", region=region,
                           tags=[t if t["Key"] != "appenv" else {"Key": "appenv", "Value": "prod"} for t in tag_list])
    expect("AccessDeniedException", sm.get_secret_value, SecretId=other, status=400)
    expect("AccessDeniedException", sm.put_secret_value, SecretId=other, SecretString="x")
    # Same name and tags in another region: the policy's Resource is ap-southeast-2 only.
    us = scratch.secret(f"{prefix}/in-us-east-1", "us", tags=tag_list)
    expect("AccessDeniedException", u.sm.get_secret_value, SecretId=us)

    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    expect("ResourceNotFoundException", scratch.sm_in(region).describe_secret, SecretId=name)
