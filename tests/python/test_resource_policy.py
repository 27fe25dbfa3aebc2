"""Secret resource policies against a real Coffer process: Put/Get/Delete/Validate,
BlockPublicPolicy, same-account grants and denies, and cross-account access (which needs
both the other account's identity policy and this secret's resource policy)."""

from __future__ import annotations

import json

import pytest

from iam_helpers import READ_WRITE, Scratch, allow, create_account, expect, policy, uid, until


@pytest.fixture
def scratch(coffer):
    s = Scratch(coffer.endpoint, coffer.access_key_id, coffer.secret_access_key)
    yield s
    s.cleanup()


@pytest.fixture(scope="module")
def account2(coffer):
    return create_account(coffer)


@pytest.fixture
def scratch2(coffer, account2):
    s = Scratch(coffer.endpoint, account2["AWS_ACCESS_KEY_ID"], account2["AWS_SECRET_ACCESS_KEY"])
    assert s.account_id == account2["account_id"]
    yield s
    s.cleanup()


def grant(principal, actions=("secretsmanager:GetSecretValue",), effect="Allow", **extra) -> dict:
    principal = principal if isinstance(principal, (str, dict)) else list(principal)
    if principal != "*":
        principal = {"AWS": principal}
    return {"Effect": effect, "Principal": principal, "Action": list(actions), "Resource": "*", **extra}


def stored_policy(sm, secret_id):
    r = sm.get_resource_policy(SecretId=secret_id)
    return json.loads(r["ResourcePolicy"]) if "ResourcePolicy" in r else None


# ------------------------------------------------------------------------------ put / get / delete


def test_block_public_policy(scratch):
    sm = scratch.sm
    name = f"pt{uid()}/public"
    arn = scratch.secret(name, "public-ish")
    public = policy(grant("*"))
    pinned = policy(grant("*", Condition={"StringEquals": {"aws:PrincipalAccount": scratch.account_id}}))

    r = sm.get_resource_policy(SecretId=arn)
    assert r["ARN"] == arn and r["Name"] == name and "ResourcePolicy" not in r
    expect("PublicPolicyException", sm.put_resource_policy, SecretId=arn, ResourcePolicy=public,
           BlockPublicPolicy=True, status=400)
    assert stored_policy(sm, arn) is None

    r = sm.put_resource_policy(SecretId=name, ResourcePolicy=pinned, BlockPublicPolicy=True)
    assert r["ARN"] == arn and r["Name"] == name
    assert stored_policy(sm, arn) == json.loads(pinned)
    # A refused Put leaves the stored policy alone.
    expect("PublicPolicyException", sm.put_resource_policy, SecretId=arn, ResourcePolicy=public,
           BlockPublicPolicy=True)
    assert stored_policy(sm, name) == json.loads(pinned)

    # The pinned "*" grant works for a user of this account with no identity policy.
    u = scratch.user("pinned")
    assert until(lambda: u.sm.get_secret_value(SecretId=arn))["SecretString"] == "public-ish"

    # Without BlockPublicPolicy the public policy is accepted.
    sm.put_resource_policy(SecretId=arn, ResourcePolicy=public)
    assert stored_policy(sm, arn) == json.loads(public)
    sm.put_resource_policy(SecretId=arn, ResourcePolicy=public, BlockPublicPolicy=False)

    r = sm.delete_resource_policy(SecretId=arn)
    assert r["ARN"] == arn and r["Name"] == name
    assert stored_policy(sm, arn) is None
    sm.delete_resource_policy(SecretId=arn)  # deleting nothing is fine
    until(lambda: expect("AccessDeniedException", u.sm.get_secret_value, SecretId=arn))
    expect("ResourceNotFoundException", sm.get_resource_policy, SecretId=f"pt{uid()}/missing")


def test_validate_and_malformed_policies(scratch):
    sm = scratch.sm
    arn = scratch.secret(f"pt{uid()}/validate")
    u = scratch.user("v", key=False)
    good = policy(grant(u.arn))
    r = sm.validate_resource_policy(ResourcePolicy=good)
    assert r["PolicyValidationPassed"] is True and r.get("ValidationErrors", []) == []
    r = sm.validate_resource_policy(SecretId=arn, ResourcePolicy=good)
    assert r["PolicyValidationPassed"] is True

    for bad in ("{not json", policy({"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"})):
        r = sm.validate_resource_policy(SecretId=arn, ResourcePolicy=bad)
        assert r["PolicyValidationPassed"] is False, r
        assert r["ValidationErrors"], r
        assert all(e.get("ErrorMessage") for e in r["ValidationErrors"]), r
        expect("MalformedPolicyDocumentException", sm.put_resource_policy, SecretId=arn, ResourcePolicy=bad,
               status=400)
    assert stored_policy(sm, arn) is None
    sm.put_resource_policy(SecretId=arn, ResourcePolicy=good)
    assert stored_policy(sm, arn) == json.loads(good)


# ------------------------------------------------------------------------------ same account


def test_same_account_resource_policy_grants_and_denies(scratch):
    arn = scratch.secret(f"pt{uid()}/same", "same account")
    reader = scratch.user("rp-only")  # no identity policy at all
    writer = scratch.user("rw", managed=[READ_WRITE])
    expect("AccessDeniedException", reader.sm.get_secret_value, SecretId=arn)
    assert writer.sm.get_secret_value(SecretId=arn)["SecretString"] == "same account"

    scratch.sm.put_resource_policy(SecretId=arn, ResourcePolicy=policy(
        grant(reader.arn),
        grant(writer.arn, effect="Deny"),
    ))
    # In one account, an Allow in either the identity or the resource policy suffices.
    assert until(lambda: reader.sm.get_secret_value(SecretId=arn))["SecretString"] == "same account"
    expect("AccessDeniedException", reader.sm.describe_secret, SecretId=arn)  # not granted
    # An explicit Deny in the resource policy beats the identity policy's Allow.
    e = until(lambda: expect("AccessDeniedException", writer.sm.get_secret_value, SecretId=arn, status=400))
    assert "explicit deny in a resource-based policy" in e.response["Error"]["Message"]
    assert writer.sm.describe_secret(SecretId=arn)["ARN"] == arn


# ------------------------------------------------------------------------------ cross account


def test_cross_account_needs_both_policies(scratch, scratch2):
    arn = scratch.secret(f"pt{uid()}/shared", "shared value")
    x2 = scratch2.user("x2", inline=policy(allow("secretsmanager:GetSecretValue", arn)))
    y2 = scratch2.user("y2")  # no identity policy
    assert x2.arn.startswith(f"arn:aws:iam::{scratch2.account_id}:user/")

    # Identity policy alone: refused.
    expect("AccessDeniedException", x2.sm.get_secret_value, SecretId=arn, status=400)

    # The resource policy names the user: allowed, but only what both policies allow.
    scratch.sm.put_resource_policy(SecretId=arn, ResourcePolicy=policy(
        grant(x2.arn, ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"])))
    assert until(lambda: x2.sm.get_secret_value(SecretId=arn))["SecretString"] == "shared value"
    expect("AccessDeniedException", x2.sm.describe_secret, SecretId=arn)  # identity policy lacks it
    expect("AccessDeniedException", x2.sm.put_secret_value, SecretId=arn, SecretString="x")
    expect("AccessDeniedException", y2.sm.get_secret_value, SecretId=arn)

    # Naming account 2 (its root) delegates to account 2's identity policies.
    scratch.sm.put_resource_policy(SecretId=arn, ResourcePolicy=policy(
        grant(f"arn:aws:iam::{scratch2.account_id}:root")))
    assert until(lambda: x2.sm.get_secret_value(SecretId=arn))["SecretString"] == "shared value"
    # Resource policy only, no identity policy: still refused.
    expect("AccessDeniedException", y2.sm.get_secret_value, SecretId=arn, status=400)
    # Account 2's root has every identity permission in its account.
    assert scratch2.sm.get_secret_value(SecretId=arn)["SecretString"] == "shared value"

    # Another account's identity policy cannot stretch to anything else of account 1.
    other = scratch.secret(f"pt{uid()}/not-shared", "private")
    expect("AccessDeniedException", scratch2.sm.get_secret_value, SecretId=other)

    scratch.sm.delete_resource_policy(SecretId=arn)
    until(lambda: expect("AccessDeniedException", x2.sm.get_secret_value, SecretId=arn))
    expect("AccessDeniedException", scratch2.sm.get_secret_value, SecretId=arn)
    assert scratch.sm.get_secret_value(SecretId=arn)["SecretString"] == "shared value"
