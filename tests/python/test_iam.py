"""IAM against a real Coffer process: users, groups, managed and inline policies, access
keys, permissions boundaries, SimulatePrincipalPolicy, and their effect on Secrets Manager."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import client_env
from iam_helpers import (
    ADMIN, BAD_CREDENTIAL_CODES, READ_ONLY, READ_WRITE, Principal, Scratch, allow, deny, denied_message,
    expect, policy, uid, until,
)


@pytest.fixture
def scratch(coffer):
    s = Scratch(coffer.endpoint, coffer.access_key_id, coffer.secret_access_key)
    yield s
    s.cleanup()


@pytest.fixture
def two_secrets(scratch):
    """Secrets `<p>-prefix-a/x` and `<p>-prefix-b/y` (root-created) and the prefix."""
    p = f"pt{uid()}"
    a = scratch.secret(f"{p}-prefix-a/x", "value-a")
    b = scratch.secret(f"{p}-prefix-b/y", "value-b")
    return {"p": p, "a": a, "b": b}


# ------------------------------------------------------------------------------ identities


def test_root_caller_identity(scratch):
    ident = scratch.root.sts.get_caller_identity()
    assert len(ident["Account"]) == 12 and ident["Account"].isdigit()
    assert ident["Arn"] == f"arn:aws:iam::{ident['Account']}:root"


def test_user_crud_tags_and_errors(scratch):
    iam = scratch.iam
    path = f"/pt{uid()}/"
    u = scratch.user("crud", path=path, tags=[{"Key": "team", "Value": "red"}], key=False)
    user = u.extra["User"]
    assert user["Arn"] == f"arn:aws:iam::{scratch.account_id}:user{path}{u.name}"
    assert user["UserId"].startswith("AIDA") and user["Path"] == path
    got = iam.get_user(UserName=u.name)["User"]
    assert got["UserId"] == user["UserId"] and got["Arn"] == user["Arn"]
    assert got["Tags"] == [{"Key": "team", "Value": "red"}]
    u2 = scratch.user("crud2", path=path, key=False)
    listed = [x["UserName"] for x in iam.list_users(PathPrefix=path)["Users"]]
    assert sorted(listed) == sorted([u.name, u2.name])

    iam.tag_user(UserName=u.name, Tags=[{"Key": "env", "Value": "dev"}, {"Key": "team", "Value": "blue"}])
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=u.name)["Tags"]}
    assert tags == {"team": "blue", "env": "dev"}
    iam.untag_user(UserName=u.name, TagKeys=["team"])
    assert iam.list_user_tags(UserName=u.name)["Tags"] == [{"Key": "env", "Value": "dev"}]

    expect("EntityAlreadyExists", iam.create_user, UserName=u.name, status=409)
    expect("NoSuchEntity", iam.get_user, UserName=f"nobody-{uid()}", status=404)
    expect("NoSuchEntity", iam.delete_user, UserName=f"nobody-{uid()}", status=404)
    expect("MalformedPolicyDocument", iam.put_user_policy, UserName=u.name, PolicyName="p",
           PolicyDocument="{not json", status=400)
    expect("MalformedPolicyDocument", iam.put_user_policy, UserName=u.name, PolicyName="p",
           PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Action": "*", "Resource": "*"}]}),
           status=400)

    doc = policy(allow("secretsmanager:ListSecrets"))
    iam.put_user_policy(UserName=u.name, PolicyName="p1", PolicyDocument=doc)
    assert iam.list_user_policies(UserName=u.name)["PolicyNames"] == ["p1"]
    assert iam.get_user_policy(UserName=u.name, PolicyName="p1")["PolicyDocument"] == json.loads(doc)
    expect("DeleteConflict", iam.delete_user, UserName=u.name, status=409)
    iam.delete_user_policy(UserName=u.name, PolicyName="p1")
    expect("NoSuchEntity", iam.get_user_policy, UserName=u.name, PolicyName="p1", status=404)
    iam.delete_user(UserName=u.name)
    expect("NoSuchEntity", iam.get_user, UserName=u.name, status=404)


def test_managed_policies_create_attach_list_delete(scratch):
    iam = scratch.iam
    doc = policy(allow(["secretsmanager:DescribeSecret", "secretsmanager:ListSecrets"]))
    p = scratch.managed_policy("mp", doc)
    assert p["Arn"] == f"arn:aws:iam::{scratch.account_id}:policy/{p['PolicyName']}"
    assert p["PolicyId"].startswith("ANPA") and p["DefaultVersionId"] == "v1"
    assert iam.get_policy(PolicyArn=p["Arn"])["Policy"]["PolicyName"] == p["PolicyName"]
    ver = iam.get_policy_version(PolicyArn=p["Arn"], VersionId="v1")["PolicyVersion"]
    assert ver["Document"] == json.loads(doc) and ver["IsDefaultVersion"] is True

    local = [x["Arn"] for x in iam.get_paginator("list_policies").paginate(Scope="Local").build_full_result()["Policies"]]
    assert p["Arn"] in local
    aws = [x["Arn"] for x in iam.get_paginator("list_policies").paginate(Scope="AWS").build_full_result()["Policies"]]
    assert {READ_ONLY, READ_WRITE, ADMIN} <= set(aws)
    assert p["Arn"] not in aws

    u = scratch.user("mp", key=False)
    iam.attach_user_policy(UserName=u.name, PolicyArn=p["Arn"])
    iam.attach_user_policy(UserName=u.name, PolicyArn=READ_ONLY)
    attached = {x["PolicyArn"] for x in iam.list_attached_user_policies(UserName=u.name)["AttachedPolicies"]}
    assert attached == {p["Arn"], READ_ONLY}
    assert iam.get_policy(PolicyArn=p["Arn"])["Policy"]["AttachmentCount"] == 1
    expect("DeleteConflict", iam.delete_policy, PolicyArn=p["Arn"], status=409)
    iam.detach_user_policy(UserName=u.name, PolicyArn=p["Arn"])
    expect("NoSuchEntity", iam.detach_user_policy, UserName=u.name, PolicyArn=p["Arn"], status=404)
    iam.delete_policy(PolicyArn=p["Arn"])
    expect("NoSuchEntity", iam.get_policy, PolicyArn=p["Arn"], status=404)
    expect("NoSuchEntity", iam.attach_user_policy, UserName=u.name,
           PolicyArn="arn:aws:iam::aws:policy/NoSuchManagedPolicy", status=404)


# ------------------------------------------------------------------------------ authorization


def test_inline_policy_scopes_reads_to_a_prefix(scratch, two_secrets):
    p = two_secrets["p"]
    a = scratch.user("a", inline=policy(allow("secretsmanager:GetSecretValue",
                                              scratch.secret_arn_pattern(f"{p}-prefix-a/*"))))
    sm = a.sm
    assert sm.get_secret_value(SecretId=f"{p}-prefix-a/x")["SecretString"] == "value-a"
    assert sm.get_secret_value(SecretId=two_secrets["a"])["SecretString"] == "value-a"
    e = expect("AccessDeniedException", sm.get_secret_value, SecretId=two_secrets["b"], status=400)
    assert e.response["Error"]["Message"] == denied_message(a.arn, "secretsmanager:GetSecretValue", two_secrets["b"])
    expect("AccessDeniedException", sm.get_secret_value, SecretId=f"{p}-prefix-b/y", status=400)
    # Only GetSecretValue was granted.
    expect("AccessDeniedException", sm.describe_secret, SecretId=two_secrets["a"], status=400)
    expect("AccessDeniedException", sm.put_secret_value, SecretId=two_secrets["a"], SecretString="x", status=400)
    # Nothing on IAM either: the Query protocol's code is AccessDenied, HTTP 403.
    expect("AccessDenied", a.iam.list_users, status=403)


def test_read_only_managed_policy(scratch, two_secrets):
    b = scratch.user("ro", managed=[READ_ONLY])
    sm = b.sm
    d = sm.describe_secret(SecretId=two_secrets["a"])
    assert d["ARN"] == two_secrets["a"]
    listed = sm.list_secrets(Filters=[{"Key": "name", "Values": [two_secrets["p"]]}])["SecretList"]
    assert sorted(s["ARN"] for s in listed) == sorted([two_secrets["a"], two_secrets["b"]])
    assert sm.get_secret_value(SecretId=two_secrets["b"])["SecretString"] == "value-b"
    batch = sm.batch_get_secret_value(SecretIdList=[two_secrets["a"], two_secrets["b"]])
    assert len(batch["SecretValues"]) == 2
    e = expect("AccessDeniedException", sm.put_secret_value, SecretId=two_secrets["a"], SecretString="no",
               status=400)
    assert "secretsmanager:PutSecretValue" in e.response["Error"]["Message"]
    scratch.secrets.append(("us-east-1", f"{two_secrets['p']}-ro-new"))  # should it be created anyway
    expect("AccessDeniedException", sm.create_secret, Name=f"{two_secrets['p']}-ro-new", SecretString="x")
    expect("AccessDeniedException", sm.delete_secret, SecretId=two_secrets["a"], ForceDeleteWithoutRecovery=True)
    assert scratch.sm.get_secret_value(SecretId=two_secrets["a"])["SecretString"] == "value-a"


def test_user_without_policy_is_refused_everything(scratch, two_secrets):
    n = scratch.user("none")
    e = expect("AccessDeniedException", n.sm.list_secrets, status=400)
    assert e.response["Error"]["Message"].startswith(f"User: {n.arn} is not authorized to perform: "
                                                     "secretsmanager:ListSecrets")
    expect("AccessDeniedException", n.sm.get_secret_value, SecretId=two_secrets["a"])
    # GetCallerIdentity needs no permission.
    assert n.sts.get_caller_identity()["Arn"] == n.arn


def test_explicit_deny_beats_managed_allow(scratch, two_secrets):
    c = scratch.user("deny", managed=[READ_WRITE],
                     inline=policy(deny("secretsmanager:GetSecretValue", two_secrets["b"])))
    assert c.sm.get_secret_value(SecretId=two_secrets["a"])["SecretString"] == "value-a"
    e = expect("AccessDeniedException", c.sm.get_secret_value, SecretId=two_secrets["b"], status=400)
    msg = e.response["Error"]["Message"]
    assert msg.startswith(f"User: {c.arn} is not authorized to perform: secretsmanager:GetSecretValue")
    assert "explicit deny" in msg
    # Other actions on b are still allowed by the managed policy.
    assert c.sm.describe_secret(SecretId=two_secrets["b"])["ARN"] == two_secrets["b"]


def test_group_policies_apply_to_members(scratch, two_secrets):
    iam = scratch.iam
    g = scratch.group()
    gname = g["GroupName"]
    assert g["GroupId"].startswith("AGPA") and g["Arn"].endswith(f":group/{gname}")
    iam.put_group_policy(GroupName=gname, PolicyName="read-a",
                         PolicyDocument=policy(allow("secretsmanager:GetSecretValue", two_secrets["a"])))
    assert iam.list_group_policies(GroupName=gname)["PolicyNames"] == ["read-a"]
    iam.attach_group_policy(GroupName=gname, PolicyArn=READ_ONLY)
    assert [x["PolicyArn"] for x in iam.list_attached_group_policies(GroupName=gname)["AttachedPolicies"]] == [READ_ONLY]
    iam.detach_group_policy(GroupName=gname, PolicyArn=READ_ONLY)

    u = scratch.user("member")
    expect("AccessDeniedException", u.sm.get_secret_value, SecretId=two_secrets["a"])
    iam.add_user_to_group(GroupName=gname, UserName=u.name)
    assert [x["UserName"] for x in iam.get_group(GroupName=gname)["Users"]] == [u.name]
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName=u.name)["Groups"]] == [gname]
    assert until(lambda: u.sm.get_secret_value(SecretId=two_secrets["a"]))["SecretString"] == "value-a"
    expect("AccessDeniedException", u.sm.get_secret_value, SecretId=two_secrets["b"])

    expect("DeleteConflict", iam.delete_group, GroupName=gname, status=409)
    iam.remove_user_from_group(GroupName=gname, UserName=u.name)
    assert iam.list_groups_for_user(UserName=u.name)["Groups"] == []
    until(lambda: expect("AccessDeniedException", u.sm.get_secret_value, SecretId=two_secrets["a"]))
    expect("DeleteConflict", iam.delete_group, GroupName=gname, status=409)  # still has a policy
    iam.delete_group_policy(GroupName=gname, PolicyName="read-a")
    iam.delete_group(GroupName=gname)
    expect("NoSuchEntity", iam.get_group, GroupName=gname, status=404)
    assert gname not in [x["GroupName"] for x in iam.get_paginator("list_groups").paginate().build_full_result()["Groups"]]


def test_permissions_boundary_caps_an_admin_user(scratch, two_secrets):
    iam = scratch.iam
    u = scratch.user("bound", managed=[ADMIN])
    u.sm.put_secret_value(SecretId=two_secrets["a"], SecretString="by admin")
    iam.put_user_permissions_boundary(UserName=u.name, PermissionsBoundary=READ_ONLY)
    b = iam.get_user(UserName=u.name)["User"]["PermissionsBoundary"]
    assert b == {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": READ_ONLY}
    assert u.sm.get_secret_value(SecretId=two_secrets["a"])["SecretString"] == "by admin"
    expect("AccessDeniedException", u.sm.put_secret_value, SecretId=two_secrets["a"], SecretString="capped")
    expect("AccessDenied", u.iam.list_users, status=403)
    iam.delete_user_permissions_boundary(UserName=u.name)
    assert "PermissionsBoundary" not in iam.get_user(UserName=u.name)["User"]
    u.sm.put_secret_value(SecretId=two_secrets["a"], SecretString="free again")
    # An admin user may use IAM itself.
    assert any(x["UserName"] == u.name for x in
               u.iam.get_paginator("list_users").paginate().build_full_result()["Users"])


# ------------------------------------------------------------------------------ access keys


def test_access_key_lifecycle(scratch, two_secrets):
    iam = scratch.iam
    u = scratch.user("keys", inline=policy(allow("secretsmanager:ListSecrets")))
    key1 = u.key
    flt = [{"Key": "name", "Values": [two_secrets["p"]]}]
    assert key1.startswith("AKIA") and len(key1) == 20
    assert len(u.sm.list_secrets(Filters=flt)["SecretList"]) == 2

    def last_used_sm():
        r = iam.get_access_key_last_used(AccessKeyId=key1)
        assert r["UserName"] == u.name
        assert r["AccessKeyLastUsed"]["ServiceName"] == "secretsmanager", r
        assert r["AccessKeyLastUsed"]["Region"] == "us-east-1"
        assert "LastUsedDate" in r["AccessKeyLastUsed"]
    until(last_used_sm)

    iam.update_access_key(UserName=u.name, AccessKeyId=key1, Status="Inactive")
    meta = iam.list_access_keys(UserName=u.name)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in meta] == [(key1, "Inactive")]

    def refused():
        expect(BAD_CREDENTIAL_CODES, u.sm.list_secrets, Filters=flt)
    until(refused)
    expect(BAD_CREDENTIAL_CODES, u.sts.get_caller_identity)

    iam.update_access_key(UserName=u.name, AccessKeyId=key1, Status="Active")
    assert len(until(lambda: u.sm.list_secrets(Filters=flt))["SecretList"]) == 2

    k2 = iam.create_access_key(UserName=u.name)["AccessKey"]
    assert k2["Status"] == "Active" and k2["UserName"] == u.name and k2["AccessKeyId"] != key1
    unused = iam.get_access_key_last_used(AccessKeyId=k2["AccessKeyId"])["AccessKeyLastUsed"]
    assert unused["ServiceName"] == "N/A" and "LastUsedDate" not in unused
    expect("LimitExceeded", iam.create_access_key, UserName=u.name, status=409)
    expect("DeleteConflict", iam.delete_user, UserName=u.name, status=409)

    second = Principal(u.endpoint, k2["AccessKeyId"], k2["SecretAccessKey"])
    assert until(lambda: second.sts.get_caller_identity())["Arn"] == u.arn
    iam.delete_access_key(UserName=u.name, AccessKeyId=k2["AccessKeyId"])
    until(lambda: expect(BAD_CREDENTIAL_CODES, second.sm.list_secrets))
    expect("NoSuchEntity", iam.delete_access_key, UserName=u.name, AccessKeyId=k2["AccessKeyId"], status=404)
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName=u.name)["AccessKeyMetadata"]] == [key1]


# ------------------------------------------------------------------------------ simulation


def test_simulate_principal_policy(scratch):
    p = f"pt{uid()}"
    doc = policy(
        allow("secretsmanager:GetSecretValue", scratch.secret_arn_pattern(f"{p}-prefix-a/*"), Sid="ReadA"),
        deny("secretsmanager:GetSecretValue", scratch.secret_arn_pattern(f"{p}-prefix-a/blocked-*"), Sid="NoBlocked"),
    )
    u = scratch.user("sim", inline=doc, key=False)
    ok = scratch.secret_arn_pattern(f"{p}-prefix-a/x-AbCdEf")
    other = scratch.secret_arn_pattern(f"{p}-prefix-b/y-AbCdEf")
    blocked = scratch.secret_arn_pattern(f"{p}-prefix-a/blocked-1-AbCdEf")

    def simulate(resource, action="secretsmanager:GetSecretValue"):
        r = scratch.iam.simulate_principal_policy(PolicySourceArn=u.arn, ActionNames=[action],
                                                  ResourceArns=[resource])
        [res] = r["EvaluationResults"]
        assert res["EvalActionName"] == action and res["EvalResourceName"] == resource
        return res

    def sources(r):
        # AWS names the policy; Coffer may qualify an inline one with its owner (user/NAME/POLICY).
        return [m["SourcePolicyId"].rsplit("/", 1)[-1] for m in r["MatchedStatements"]]

    r = simulate(ok)
    assert r["EvalDecision"] == "allowed"
    assert r["MatchedStatements"] and sources(r)[0] == "inline"
    r = simulate(other)
    assert r["EvalDecision"] == "implicitDeny" and r["MatchedStatements"] == []
    r = simulate(blocked)
    assert r["EvalDecision"] == "explicitDeny"
    assert "inline" in sources(r)
    assert simulate(ok, "secretsmanager:DeleteSecret")["EvalDecision"] == "implicitDeny"

    # Managed policies count too; the policy's name is the SourcePolicyId.
    scratch.iam.attach_user_policy(UserName=u.name, PolicyArn=READ_WRITE)
    r = simulate(other)
    assert r["EvalDecision"] == "allowed"
    assert "SecretsManagerReadWrite" in sources(r)
    assert simulate(blocked)["EvalDecision"] == "explicitDeny"

    expect("NoSuchEntity", scratch.iam.simulate_principal_policy,
           PolicySourceArn=f"arn:aws:iam::{scratch.account_id}:user/nobody-{uid()}",
           ActionNames=["secretsmanager:GetSecretValue"], status=404)


# ------------------------------------------------------------------------------ aws CLI


def test_aws_cli_iam_and_sts(aws, scratch):
    def run(*args, env):
        p = subprocess.run([aws.exe, "--endpoint-url", aws.endpoint, "--output", "json", *args], env=env,
                           capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
        assert p.returncode == 0, f"aws {' '.join(args)}: {p.stderr}"
        return json.loads(p.stdout)

    name = f"pt-cli-{uid()}"
    scratch.users.append(name)
    user = run("iam", "create-user", "--user-name", name, env=aws.env)["User"]
    assert user["UserName"] == name and user["Arn"] == f"arn:aws:iam::{scratch.account_id}:user/{name}"
    key = run("iam", "create-access-key", "--user-name", name, env=aws.env)["AccessKey"]
    env = client_env(key["AccessKeyId"], key["SecretAccessKey"])
    ident = until(lambda: run("sts", "get-caller-identity", env=env))
    assert ident["Arn"] == user["Arn"] and ident["Account"] == scratch.account_id
    assert run("sts", "get-caller-identity", env=aws.env)["Arn"] == f"arn:aws:iam::{scratch.account_id}:root"


def test_coffer_iam_explain(scratch, coffer):
    """`coffer iam explain` names the deciding statement and the failing condition."""
    from iam_helpers import run_coffer

    p = f"pt{uid()}"
    doc = policy(
        allow("secretsmanager:GetSecretValue", scratch.secret_arn_pattern(f"{p}/*"), Sid="ReadMine",
              Condition={"StringEquals": {"aws:SourceIp": "10.1.2.3"}}),
        deny("secretsmanager:GetSecretValue", scratch.secret_arn_pattern(f"{p}/locked-*"), Sid="Locked"),
    )
    u = scratch.user("explain", inline=doc, key=False)
    env = dict(os.environ, AWS_ACCESS_KEY_ID=coffer.access_key_id,
               AWS_SECRET_ACCESS_KEY=coffer.secret_access_key, AWS_DEFAULT_REGION=coffer.region)
    base = ["iam", "explain", "--endpoint", coffer.endpoint, "--principal", u.arn,
            "--action", "secretsmanager:GetSecretValue"]

    ok = run_coffer(*base, "--resource", scratch.secret_arn_pattern(f"{p}/db-AbCdEf"),
                    "--context", "aws:SourceIp=10.1.2.3", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "Allow" in ok.stdout and "ReadMine" in ok.stdout

    wrong_ip = run_coffer(*base, "--resource", scratch.secret_arn_pattern(f"{p}/db-AbCdEf"),
                          "--context", "aws:SourceIp=192.0.2.1", env=env)
    assert wrong_ip.returncode == 0, wrong_ip.stderr
    assert "ImplicitDeny" in wrong_ip.stdout and "aws:SourceIp" in wrong_ip.stdout

    locked = run_coffer(*base, "--resource", scratch.secret_arn_pattern(f"{p}/locked-1-AbCdEf"),
                        "--context", "aws:SourceIp=10.1.2.3", env=env)
    assert "ExplicitDeny" in locked.stdout and "Locked" in locked.stdout


def test_list_paging_and_boundary_in_use(scratch):
    """ListUsers/ListPolicies page with MaxItems/Marker (boto3's paginator follows them), and
    a policy in use as a permissions boundary cannot be deleted."""
    path = f"/pg{uid()}/"
    names = sorted(scratch.user("pg", key=False, path=path).name for _ in range(5))
    iam = scratch.iam
    first = iam.list_users(PathPrefix=path, MaxItems=2)
    assert first["IsTruncated"] and len(first["Users"]) == 2 and first["Marker"]
    seen = [u["UserName"] for u in first["Users"]]
    rest = iam.list_users(PathPrefix=path, MaxItems=2, Marker=first["Marker"])
    seen += [u["UserName"] for u in rest["Users"]]
    paged = [u["UserName"] for page in iam.get_paginator("list_users").paginate(
        PathPrefix=path, PaginationConfig={"PageSize": 2}) for u in page["Users"]]
    assert sorted(paged, key=str.lower) == sorted(names, key=str.lower) and len(seen) == 4
    expect("InvalidInput", iam.list_users, Marker="!!not-a-marker!!")
    local = [p["Arn"] for page in iam.get_paginator("list_policies").paginate(
        Scope="AWS", PaginationConfig={"PageSize": 1}) for p in page["Policies"]]
    assert "arn:aws:iam::aws:policy/SecretsManagerReadWrite" in local and len(local) == len(set(local))

    b = scratch.managed_policy("bnd", policy(allow("secretsmanager:*")))
    u = scratch.user("bnd", key=False)
    iam.put_user_permissions_boundary(UserName=u.name, PermissionsBoundary=b["Arn"])
    expect("DeleteConflict", iam.delete_policy, PolicyArn=b["Arn"], status=409)
    iam.delete_user_permissions_boundary(UserName=u.name)
    iam.delete_policy(PolicyArn=b["Arn"])
    scratch.policies.remove(b["Arn"])
