"""KMS (TrentService JSON 1.1) against a real Coffer process: key lifecycle, aliases,
rotation, encryption with context, key policies with KMS semantics (the key policy must
allow, directly or by delegating to the account and IAM), and secrets under customer keys."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from iam_helpers import READ_WRITE, Scratch, allow, expect, policy, uid

REFERENCE_POLICY = Path(__file__).resolve().parents[3] / "shared/reference/policies/kms-key-policy.json"


@pytest.fixture
def scratch(coffer):
    s = Scratch(coffer.endpoint, coffer.access_key_id, coffer.secret_access_key)
    yield s
    s.cleanup()


@pytest.fixture
def kms(scratch):
    return scratch.root.client("kms")


@pytest.fixture
def kms_raw(scratch):
    """A KMS client without botocore's parameter validation (server-side limits)."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(aws_access_key_id=scratch.root.key, aws_secret_access_key=scratch.root.secret,
                                    region_name="us-east-1")
    cfg = Config(retries={"max_attempts": 1}, parameter_validation=False)
    return session.client("kms", endpoint_url=scratch.endpoint, config=cfg)


def new_key(kms, **kw) -> dict:
    return kms.create_key(Description=kw.pop("Description", f"test {uid()}"), **kw)["KeyMetadata"]


# ------------------------------------------------------------------------- lifecycle


def test_create_describe_list(kms, scratch):
    md = new_key(kms, Description="payments", Tags=[{"TagKey": "team", "TagValue": "pay"}])
    assert md["KeyManager"] == "CUSTOMER" and md["KeyState"] == "Enabled" and md["Enabled"]
    assert md["KeySpec"] == "SYMMETRIC_DEFAULT" and md["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert md["Origin"] == "AWS_KMS" and md["MultiRegion"] is False
    assert md["EncryptionAlgorithms"] == ["SYMMETRIC_DEFAULT"]
    assert md["AWSAccountId"] == scratch.account_id
    assert md["Arn"] == f"arn:aws:kms:us-east-1:{scratch.account_id}:key/{md['KeyId']}"
    for ref in (md["KeyId"], md["Arn"]):
        assert kms.describe_key(KeyId=ref)["KeyMetadata"]["Description"] == "payments"
    ids = [k["KeyId"] for k in kms.get_paginator("list_keys").paginate().build_full_result()["Keys"]]
    assert md["KeyId"] in ids
    new_key(kms)
    page1 = kms.list_keys(Limit=1)
    assert len(page1["Keys"]) == 1 and page1["Truncated"] and page1["NextMarker"]
    expect("InvalidMarkerException", kms.list_keys, Marker="not-a-marker")
    tags = kms.list_resource_tags(KeyId=md["KeyId"])["Tags"]
    assert tags == [{"TagKey": "team", "TagValue": "pay"}]
    expect("NotFoundException", kms.describe_key, KeyId="00000000-0000-4000-8000-000000000000")
    # Keys are regional.
    west = scratch.root.client("kms", region="eu-west-1")
    expect("NotFoundException", west.describe_key, KeyId=md["Arn"])
    blob = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    expect("InvalidCiphertextException", west.decrypt, CiphertextBlob=blob)
    expect("ValidationException", kms.create_key, KeyUsage="SIGN_VERIFY", KeySpec="SYMMETRIC_DEFAULT")
    expect("MalformedPolicyDocumentException", kms.create_key, Policy="{not json")


def test_default_policy_and_put_policy(kms, scratch):
    md = new_key(kms)
    got = kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")
    doc = json.loads(got["Policy"])
    st = doc["Statement"][0]
    assert st["Sid"] == "Enable IAM User Permissions"
    assert st["Principal"] == {"AWS": f"arn:aws:iam::{scratch.account_id}:root"} and st["Action"] == "kms:*"
    new = policy({"Sid": "root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{scratch.account_id}:root"},
                  "Action": "kms:*", "Resource": "*"})
    kms.put_key_policy(KeyId=md["KeyId"], PolicyName="default", Policy=new)
    assert json.loads(kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")["Policy"]) == json.loads(new)
    expect("MalformedPolicyDocumentException", kms.put_key_policy, KeyId=md["KeyId"], PolicyName="default",
           Policy='{"Statement": 5}')
    expect("NotFoundException", kms.get_key_policy, KeyId=md["KeyId"], PolicyName="other")
    expect("ValidationException", kms.put_key_policy, KeyId=md["KeyId"], PolicyName="default",
           Policy="x" * 32769)


def test_enable_disable_schedule_cancel(kms):
    kid = new_key(kms)["KeyId"]
    blob = kms.encrypt(KeyId=kid, Plaintext=b"hi")["CiphertextBlob"]
    kms.disable_key(KeyId=kid)
    assert kms.describe_key(KeyId=kid)["KeyMetadata"]["KeyState"] == "Disabled"
    expect("DisabledException", kms.encrypt, KeyId=kid, Plaintext=b"x")
    expect("DisabledException", kms.decrypt, CiphertextBlob=blob)
    kms.enable_key(KeyId=kid)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"hi"
    expect("ValidationException", kms.schedule_key_deletion, KeyId=kid, PendingWindowInDays=6)
    expect("ValidationException", kms.schedule_key_deletion, KeyId=kid, PendingWindowInDays=31)
    out = kms.schedule_key_deletion(KeyId=kid)
    assert out["KeyState"] == "PendingDeletion" and out["PendingWindowInDays"] == 30
    md = kms.describe_key(KeyId=kid)["KeyMetadata"]
    assert md["KeyState"] == "PendingDeletion" and "DeletionDate" in md
    expect("KMSInvalidStateException", kms.encrypt, KeyId=kid, Plaintext=b"x")
    expect("KMSInvalidStateException", kms.enable_key, KeyId=kid)
    expect("KMSInvalidStateException", kms.schedule_key_deletion, KeyId=kid)
    kms.cancel_key_deletion(KeyId=kid)
    md = kms.describe_key(KeyId=kid)["KeyMetadata"]
    assert md["KeyState"] == "Disabled" and "DeletionDate" not in md
    expect("KMSInvalidStateException", kms.cancel_key_deletion, KeyId=kid)
    kms.enable_key(KeyId=kid)
    out = kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
    assert out["PendingWindowInDays"] == 7


def test_aliases(kms, scratch):
    a, b = new_key(kms), new_key(kms)
    name = f"alias/test-{uid()}"
    second = f"alias/test-{uid()}"
    kms.create_alias(AliasName=name, TargetKeyId=a["KeyId"])
    kms.create_alias(AliasName=second, TargetKeyId=a["Arn"])
    expect("AlreadyExistsException", kms.create_alias, AliasName=name, TargetKeyId=b["KeyId"])
    expect("InvalidAliasNameException", kms.create_alias, AliasName="alias/aws/mine", TargetKeyId=a["KeyId"])
    expect("InvalidAliasNameException", kms.create_alias, AliasName="alias/bad name", TargetKeyId=a["KeyId"])
    expect("ValidationException", kms.create_alias, AliasName=f"alias/x-{uid()}", TargetKeyId=name)
    alias_arn = f"arn:aws:kms:us-east-1:{scratch.account_id}:{name}"
    for ref in (name, alias_arn):
        assert kms.describe_key(KeyId=ref)["KeyMetadata"]["KeyId"] == a["KeyId"]
    mine = kms.list_aliases(KeyId=a["KeyId"])["Aliases"]
    assert sorted(x["AliasName"] for x in mine) == sorted([name, second])
    assert all(x["TargetKeyId"] == a["KeyId"] for x in mine)
    kms.update_alias(AliasName=name, TargetKeyId=b["KeyId"])
    assert kms.describe_key(KeyId=name)["KeyMetadata"]["KeyId"] == b["KeyId"]
    kms.delete_alias(AliasName=name)
    expect("NotFoundException", kms.describe_key, KeyId=name)
    expect("NotFoundException", kms.delete_alias, AliasName=name)
    expect("NotFoundException", kms.update_alias, AliasName=f"alias/none-{uid()}", TargetKeyId=b["KeyId"])


def test_alias_needs_iam_on_the_alias(kms, scratch):
    md = new_key(kms)
    own = f"alias/team-a/{uid()}"
    user = scratch.user("aliasuser", inline=policy(
        allow(["kms:DescribeKey", "kms:ListAliases"]),
        allow("kms:CreateAlias", f"arn:aws:kms:us-east-1:{scratch.account_id}:alias/team-a/*"),
        allow("kms:CreateAlias", md["Arn"]),
    ))
    uk = user.client("kms")
    uk.create_alias(AliasName=own, TargetKeyId=md["KeyId"])
    expect("AccessDeniedException", uk.create_alias, AliasName=f"alias/team-b/{uid()}", TargetKeyId=md["KeyId"])
    expect("AccessDeniedException", uk.delete_alias, AliasName=own)
    kms.delete_alias(AliasName=own)


def test_aws_managed_key(kms, scratch):
    scratch.secret(f"kms/managed/{uid()}")  # makes sure aws/secretsmanager exists
    md = kms.describe_key(KeyId="alias/aws/secretsmanager")["KeyMetadata"]
    assert md["KeyManager"] == "AWS" and md["KeyState"] == "Enabled"
    names = [a["AliasName"] for a in kms.list_aliases()["Aliases"]]
    assert "alias/aws/secretsmanager" in names
    expect("AccessDeniedException", kms.disable_key, KeyId=md["KeyId"])
    expect("AccessDeniedException", kms.schedule_key_deletion, KeyId=md["KeyId"])
    expect("AccessDeniedException", kms.put_key_policy, KeyId=md["KeyId"], PolicyName="default",
           Policy=policy(allow("kms:*")))
    # Its policy allows use only through Secrets Manager.
    expect("AccessDeniedException", kms.encrypt, KeyId=md["KeyId"], Plaintext=b"x")
    expect("InvalidAliasNameException", kms.delete_alias, AliasName="alias/aws/secretsmanager")


def test_rotation(kms, kms_raw):
    kid = new_key(kms)["KeyId"]
    st = kms.get_key_rotation_status(KeyId=kid)
    assert st["KeyRotationEnabled"] is False
    expect("ValidationException", kms_raw.enable_key_rotation, KeyId=kid, RotationPeriodInDays=89)
    expect("ValidationException", kms_raw.enable_key_rotation, KeyId=kid, RotationPeriodInDays=2561)
    kms.enable_key_rotation(KeyId=kid)
    st = kms.get_key_rotation_status(KeyId=kid)
    assert st["KeyRotationEnabled"] is True and st["RotationPeriodInDays"] == 365 and "NextRotationDate" in st
    kms.enable_key_rotation(KeyId=kid, RotationPeriodInDays=90)
    assert kms.get_key_rotation_status(KeyId=kid)["RotationPeriodInDays"] == 90
    kms.disable_key_rotation(KeyId=kid)
    assert kms.get_key_rotation_status(KeyId=kid)["KeyRotationEnabled"] is False
    old = kms.encrypt(KeyId=kid, Plaintext=b"before")["CiphertextBlob"]
    kms.rotate_key_on_demand(KeyId=kid)
    rots = kms.list_key_rotations(KeyId=kid)["Rotations"]
    assert len(rots) == 1 and rots[0]["RotationType"] == "ON_DEMAND"
    new = kms.encrypt(KeyId=kid, Plaintext=b"after")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"before"
    assert kms.decrypt(CiphertextBlob=new)["Plaintext"] == b"after"


def test_tags(kms):
    kid = new_key(kms)["KeyId"]
    kms.tag_resource(KeyId=kid, Tags=[{"TagKey": "a", "TagValue": "1"}, {"TagKey": "b", "TagValue": "2"}])
    kms.tag_resource(KeyId=kid, Tags=[{"TagKey": "a", "TagValue": "3"}])
    kms.untag_resource(KeyId=kid, TagKeys=["b"])
    assert kms.list_resource_tags(KeyId=kid)["Tags"] == [{"TagKey": "a", "TagValue": "3"}]
    expect("TagException", kms.tag_resource, KeyId=kid, Tags=[{"TagKey": "aws:x", "TagValue": "1"}])


# ------------------------------------------------------------------------ cryptography


def test_encrypt_decrypt_context(kms):
    md = new_key(kms)
    ctx = {"purpose": "test", "app": "pay"}
    out = kms.encrypt(KeyId=md["KeyId"], Plaintext=b"secret", EncryptionContext=ctx)
    assert out["KeyId"] == md["Arn"] and out["EncryptionAlgorithm"] == "SYMMETRIC_DEFAULT"
    blob = out["CiphertextBlob"]
    got = kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)
    assert got["Plaintext"] == b"secret" and got["KeyId"] == md["Arn"]
    # Decrypt with the key named explicitly; with another key: IncorrectKeyException.
    assert kms.decrypt(CiphertextBlob=blob, EncryptionContext=ctx, KeyId=md["Arn"])["Plaintext"] == b"secret"
    other = new_key(kms)
    expect("IncorrectKeyException", kms.decrypt, CiphertextBlob=blob, EncryptionContext=ctx, KeyId=other["KeyId"])
    for bad in ({}, {"purpose": "test"}, {"purpose": "test", "app": "PAY"}, {**ctx, "x": "y"}):
        expect("InvalidCiphertextException", kms.decrypt, CiphertextBlob=blob, EncryptionContext=bad)
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    expect("InvalidCiphertextException", kms.decrypt, CiphertextBlob=bytes(tampered), EncryptionContext=ctx)
    expect("InvalidCiphertextException", kms.decrypt, CiphertextBlob=b"garbage-blob")
    expect("ValidationException", kms.encrypt, KeyId=md["KeyId"], Plaintext=b"x" * 4097)
    expect("ValidationException", kms.encrypt, KeyId=md["KeyId"], Plaintext=b"x",
           EncryptionContext={"k": "v" * 9000})


def test_generate_data_key_and_reencrypt(kms):
    a, b = new_key(kms), new_key(kms)
    dk = kms.generate_data_key(KeyId=a["KeyId"], KeySpec="AES_256", EncryptionContext={"f": "1"})
    assert len(dk["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext={"f": "1"})["Plaintext"] == dk["Plaintext"]
    assert len(kms.generate_data_key(KeyId=a["KeyId"], KeySpec="AES_128")["Plaintext"]) == 16
    assert len(kms.generate_data_key(KeyId=a["KeyId"], NumberOfBytes=7)["Plaintext"]) == 7
    expect("ValidationException", kms.generate_data_key, KeyId=a["KeyId"])
    expect("ValidationException", kms.generate_data_key, KeyId=a["KeyId"], NumberOfBytes=1025)
    np = kms.generate_data_key_without_plaintext(KeyId=a["KeyId"], KeySpec="AES_256")
    assert "Plaintext" not in np
    assert len(kms.decrypt(CiphertextBlob=np["CiphertextBlob"])["Plaintext"]) == 32
    re = kms.re_encrypt(CiphertextBlob=dk["CiphertextBlob"], SourceEncryptionContext={"f": "1"},
                        DestinationKeyId=b["Arn"], DestinationEncryptionContext={"g": "2"})
    assert re["SourceKeyId"] == a["Arn"] and re["KeyId"] == b["Arn"]
    got = kms.decrypt(CiphertextBlob=re["CiphertextBlob"], EncryptionContext={"g": "2"})
    assert got["Plaintext"] == dk["Plaintext"] and got["KeyId"] == b["Arn"]


# ------------------------------------------------------------------------ key policies


def test_key_policy_must_delegate(kms, scratch):
    user = scratch.user("kmsuser", inline=policy(allow("kms:*")))
    ukms = user.client("kms")
    # Default policy: delegation to the account, so the user's IAM policy applies.
    delegating = new_key(kms)
    blob = ukms.encrypt(KeyId=delegating["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert ukms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"
    # A key policy naming only the root... user: no delegation → IAM alone is not enough.
    admin_only = policy({"Effect": "Allow", "Principal": {"AWS": scratch.root.arn.replace(":root", ":user/nobody")},
                         "Action": "kms:*", "Resource": "*"})
    # The lockout safety check refuses it unless bypassed.
    expect("MalformedPolicyDocumentException", kms.create_key, Policy=admin_only)
    closed = new_key(kms, Policy=admin_only, BypassPolicyLockoutSafetyCheck=True)
    expect("MalformedPolicyDocumentException", kms.put_key_policy, KeyId=delegating["KeyId"], PolicyName="default",
           Policy=admin_only)
    e = expect("AccessDeniedException", ukms.encrypt, KeyId=closed["KeyId"], Plaintext=b"x")
    assert "kms:Encrypt" in str(e)
    expect("AccessDeniedException", ukms.describe_key, KeyId=closed["KeyId"])
    # Not even the account root.
    expect("AccessDeniedException", kms.describe_key, KeyId=closed["KeyId"])
    # A user without IAM permissions cannot use a delegating key either.
    nobody = scratch.user("nokms")
    expect("AccessDeniedException", nobody.client("kms").encrypt, KeyId=delegating["KeyId"], Plaintext=b"x")
    # Key policy granting the user directly: no IAM policy needed; conditions on context.
    direct = policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{scratch.account_id}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": nobody.arn}, "Action": ["kms:Encrypt", "kms:Decrypt"],
         "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:app": "pay"}}},
    )
    k = new_key(kms, Policy=direct)
    nk = nobody.client("kms")
    blob = nk.encrypt(KeyId=k["KeyId"], Plaintext=b"y", EncryptionContext={"app": "pay"})["CiphertextBlob"]
    assert nk.decrypt(CiphertextBlob=blob, EncryptionContext={"app": "pay"})["Plaintext"] == b"y"
    expect("AccessDeniedException", nk.encrypt, KeyId=k["KeyId"], Plaintext=b"y", EncryptionContext={"app": "x"})
    # Explicit deny in the key policy wins over IAM.
    deny_pol = policy(
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{scratch.account_id}:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": user.arn}, "Action": "kms:Decrypt", "Resource": "*"},
    )
    kms.put_key_policy(KeyId=delegating["KeyId"], PolicyName="default", Policy=deny_pol)
    blob = ukms.encrypt(KeyId=delegating["KeyId"], Plaintext=b"z")["CiphertextBlob"]
    expect("AccessDeniedException", ukms.decrypt, CiphertextBlob=blob)


def test_reference_key_policy(kms, scratch):
    text = REFERENCE_POLICY.read_text().replace("444455556666", scratch.account_id)
    md = new_key(kms, Policy=text)
    assert json.loads(kms.get_key_policy(KeyId=md["KeyId"], PolicyName="default")["Policy"]) == json.loads(text)
    # "Root Access" delegates to IAM: the root and IAM-allowed users may use the key.
    kms.encrypt(KeyId=md["KeyId"], Plaintext=b"x")
    iam_user = scratch.user("refiam", inline=policy(allow("kms:Encrypt")))
    iam_user.client("kms").encrypt(KeyId=md["KeyId"], Plaintext=b"x")
    # Statement 3: any principal of the account may use it through Secrets Manager.
    app = scratch.user("refapp", managed=[READ_WRITE])
    name = f"kms/ref/{uid()}"
    app.sm.create_secret(Name=name, SecretString="v", KmsKeyId=md["Arn"])
    scratch.secrets.append(("us-east-1", name))
    assert app.sm.get_secret_value(SecretId=name)["SecretString"] == "v"
    # ...but not directly.
    expect("AccessDeniedException", app.client("kms").encrypt, KeyId=md["KeyId"], Plaintext=b"x")


# ------------------------------------------------------------------- secrets under CMKs


def test_secret_under_cmk_disable_enable(kms, scratch):
    md = new_key(kms)
    alias = f"alias/sec-{uid()}"
    kms.create_alias(AliasName=alias, TargetKeyId=md["KeyId"])
    sm = scratch.sm
    names = []
    for ref in (md["KeyId"], md["Arn"], alias, f"arn:aws:kms:us-east-1:{scratch.account_id}:{alias}"):
        n = f"kms/cmk/{uid()}"
        sm.create_secret(Name=n, SecretString="s3cret", KmsKeyId=ref)
        scratch.secrets.append(("us-east-1", n))
        names.append(n)
        assert sm.describe_secret(SecretId=n)["KmsKeyId"] == md["Arn"]
    expect("ResourceNotFoundException", sm.create_secret, Name=f"kms/none/{uid()}", SecretString="x",
           KmsKeyId=f"alias/none-{uid()}")
    kms.disable_key(KeyId=md["KeyId"])
    e = expect("DecryptionFailure", sm.get_secret_value, SecretId=names[0])
    assert "disabled" in str(e)
    expect("EncryptionFailure", sm.put_secret_value, SecretId=names[0], SecretString="new")
    kms.enable_key(KeyId=md["KeyId"])
    assert sm.get_secret_value(SecretId=names[0])["SecretString"] == "s3cret"
    kms.schedule_key_deletion(KeyId=md["KeyId"], PendingWindowInDays=7)
    e = expect("DecryptionFailure", sm.get_secret_value, SecretId=names[1])
    assert "pending deletion" in str(e)
    kms.cancel_key_deletion(KeyId=md["KeyId"])
    kms.enable_key(KeyId=md["KeyId"])
    assert sm.get_secret_value(SecretId=names[1])["SecretString"] == "s3cret"


def test_secret_cmk_needs_key_permissions(kms, scratch):
    closed = new_key(kms, Policy=policy({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{scratch.account_id}:root"},
                                         "Action": "kms:*", "Resource": "*"}))
    app = scratch.user("cmkapp", managed=[READ_WRITE])
    # SecretsManagerReadWrite grants no kms:GenerateDataKey → denied.
    expect("AccessDeniedException", app.sm.create_secret, Name=f"kms/deny/{uid()}", SecretString="x",
           KmsKeyId=closed["Arn"])
    user = scratch.user("cmkapp2", managed=[READ_WRITE],
                        inline=policy(allow(["kms:GenerateDataKey", "kms:Decrypt"],
                                            Condition={"StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}})))
    n = f"kms/ok/{uid()}"
    user.sm.create_secret(Name=n, SecretString="x", KmsKeyId=closed["Arn"])
    scratch.secrets.append(("us-east-1", n))
    assert user.sm.get_secret_value(SecretId=n)["SecretString"] == "x"
    # The same user cannot call KMS directly (kms:ViaService not set).
    expect("AccessDeniedException", user.client("kms").decrypt,
           CiphertextBlob=kms.encrypt(KeyId=closed["KeyId"], Plaintext=b"x")["CiphertextBlob"])


def test_secret_rotation_keeps_old_versions(kms, scratch):
    md = new_key(kms)
    sm = scratch.sm
    n = f"kms/rot/{uid()}"
    v1 = sm.create_secret(Name=n, SecretString="one", KmsKeyId=md["KeyId"])["VersionId"]
    scratch.secrets.append(("us-east-1", n))
    kms.rotate_key_on_demand(KeyId=md["KeyId"])
    v2 = sm.put_secret_value(SecretId=n, SecretString="two")["VersionId"]
    assert sm.get_secret_value(SecretId=n, VersionId=v1)["SecretString"] == "one"
    assert sm.get_secret_value(SecretId=n, VersionId=v2)["SecretString"] == "two"


def test_update_secret_kms_key_reencrypts_labeled(kms, scratch):
    old, new = new_key(kms), new_key(kms)
    sm = scratch.sm
    n = f"kms/upd/{uid()}"
    v1 = sm.create_secret(Name=n, SecretString="v1", KmsKeyId=old["Arn"])["VersionId"]
    scratch.secrets.append(("us-east-1", n))
    v2 = sm.put_secret_value(SecretId=n, SecretString="v2")["VersionId"]
    v3 = sm.put_secret_value(SecretId=n, SecretString="v3")["VersionId"]  # v1 loses its labels
    v4 = sm.put_secret_value(SecretId=n, SecretString="v4", VersionStages=["AWSPENDING"])["VersionId"]
    ids = {v["VersionId"]: v.get("VersionStages", []) for v in
           sm.list_secret_version_ids(SecretId=n, IncludeDeprecated=True)["Versions"]}
    assert ids[v1] == [] and ids[v2] == ["AWSPREVIOUS"] and ids[v3] == ["AWSCURRENT"]
    sm.update_secret(SecretId=n, KmsKeyId=new["KeyId"])
    assert sm.describe_secret(SecretId=n)["KmsKeyId"] == new["Arn"]
    keys = {v["VersionId"]: v["KmsKeyIds"] for v in
            sm.list_secret_version_ids(SecretId=n, IncludeDeprecated=True)["Versions"]}
    assert keys == {v1: [old["Arn"]], v2: [new["Arn"]], v3: [new["Arn"]], v4: [new["Arn"]]}
    kms.disable_key(KeyId=old["KeyId"])
    for vid, val in ((v2, "v2"), (v3, "v3"), (v4, "v4")):
        assert sm.get_secret_value(SecretId=n, VersionId=vid)["SecretString"] == val
    expect("DecryptionFailure", sm.get_secret_value, SecretId=n, VersionId=v1)
    kms.enable_key(KeyId=old["KeyId"])
    assert sm.get_secret_value(SecretId=n, VersionId=v1)["SecretString"] == "v1"
    # New versions go under the new key.
    v5 = sm.put_secret_value(SecretId=n, SecretString="v5")["VersionId"]
    kms.disable_key(KeyId=old["KeyId"])
    assert sm.get_secret_value(SecretId=n, VersionId=v5)["SecretString"] == "v5"


def test_audit_records_kms_calls(kms, scratch):
    kid = new_key(kms)["KeyId"]
    kms.disable_key(KeyId=kid)
    ct = scratch.root.client("cloudtrail")
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DisableKey"}])["Events"]
    rec = next(json.loads(e["CloudTrailEvent"]) for e in events if kid in e["CloudTrailEvent"])
    assert rec["eventSource"] == "kms.amazonaws.com"
    assert rec["resources"][0]["ARN"].endswith(kid)
    kms.encrypt(KeyId=new_key(kms)["KeyId"], Plaintext=b"topsecret")
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "Encrypt"}])["Events"]
    rec = json.loads(events[0]["CloudTrailEvent"])
    assert rec["readOnly"] is True
    assert base64.b64encode(b"topsecret").decode() not in events[0]["CloudTrailEvent"]


# ------------------------------------------------------------------------ aws CLI smoke


def test_aws_cli_kms_smoke(coffer, aws, tmp_path):
    def run(*args: str) -> dict:
        p = subprocess.run([aws.exe, "--endpoint-url", coffer.endpoint, "--output", "json", "kms", *args],
                           env=aws.env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout) if p.stdout.strip() else {}

    kid = run("create-key", "--description", "cli")["KeyMetadata"]["KeyId"]
    src = tmp_path / "plain.txt"
    src.write_bytes(b"hello from the cli")
    ct = run("encrypt", "--key-id", kid, "--plaintext", f"fileb://{src}")["CiphertextBlob"]
    blob = tmp_path / "blob.bin"
    blob.write_bytes(base64.b64decode(ct))
    out = run("decrypt", "--ciphertext-blob", f"fileb://{blob}")
    assert base64.b64decode(out["Plaintext"]) == b"hello from the cli"
