"""boto3 against a real Coffer process: paging, filters, sorting, batch reads, passwords,
binary values, KMS key ids, dates, error codes, and AWS's caching library."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import string
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import force_delete, make_client

PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
UTC = dt.timezone.utc


# ------------------------------------------------------------------------------ helpers


def expect_error(code: str, fn, *args, status: int = 400, **kwargs) -> ClientError:
    """Calls fn, asserts it fails with `code` and HTTP `status` and a non-empty message."""
    with pytest.raises(ClientError) as info:
        fn(*args, **kwargs)
    err = info.value.response
    assert err["Error"]["Code"] == code, err
    assert err["Error"].get("Message"), f"empty message for {code}: {err}"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == status, err
    headers = err["ResponseMetadata"]["HTTPHeaders"]
    assert headers.get("x-amzn-errortype", "").split(":")[0] == code, headers
    assert headers.get("x-amzn-requestid"), headers
    return info.value


def names_of(pages) -> list[str]:
    return [s["Name"] for page in pages for s in page["SecretList"]]


def version_pages(sm, secret_id: str, page_size: int, **kw) -> list[list[dict]]:
    """Pages of ListSecretVersionIds, following NextToken (botocore has no paginator for it)."""
    pages, token = [], None
    for _ in range(1000):
        args = dict(SecretId=secret_id, MaxResults=page_size, **kw)
        if token:
            args["NextToken"] = token
        r = sm.list_secret_version_ids(**args)
        pages.append(r["Versions"])
        token = r.get("NextToken")
        if not token:
            return pages
    raise AssertionError("ListSecretVersionIds never stopped returning NextToken")


def utc(d: dt.datetime) -> dt.datetime:
    return d.astimezone(UTC)


@pytest.fixture
def prefix(request):
    """A unique name prefix for tests that list: listings only look under it."""
    return f"pl{uuid.uuid4().hex[:12]}/"


@pytest.fixture
def cleanup(sm):
    ids: list[str] = []
    yield ids
    force_delete(sm, *ids)


# ------------------------------------------------------------------------------ paging


def test_list_secrets_paginator_pages_25_secrets_by_7(sm, prefix, cleanup):
    created = []
    for i in range(25):
        n = f"{prefix}item-{i:02d}"
        sm.create_secret(Name=n, SecretString=f"v{i}")
        created.append(n)
        cleanup.append(n)
    paginator = sm.get_paginator("list_secrets")
    pages = list(
        paginator.paginate(
            Filters=[{"Key": "name", "Values": [prefix]}],
            SortBy="name",
            PaginationConfig={"PageSize": 7},
        )
    )
    assert [len(p["SecretList"]) for p in pages] == [7, 7, 7, 4]
    assert all("NextToken" in p for p in pages[:-1])
    assert "NextToken" not in pages[-1]
    got = names_of(pages)
    assert got == sorted(created), "every secret exactly once, in name order"

    # MaxItems: the paginator stops early and hands back a resume token.
    first = paginator.paginate(
        Filters=[{"Key": "name", "Values": [prefix]}],
        SortBy="name",
        PaginationConfig={"PageSize": 7, "MaxItems": 10},
    ).build_full_result()
    assert [s["Name"] for s in first["SecretList"]] == sorted(created)[:10]
    rest = paginator.paginate(
        Filters=[{"Key": "name", "Values": [prefix]}],
        SortBy="name",
        PaginationConfig={"PageSize": 7, "StartingToken": first["NextToken"]},
    ).build_full_result()
    assert [s["Name"] for s in rest["SecretList"]] == sorted(created)[10:]


def test_list_secrets_sort_order_desc_reverses_asc(sm, prefix, cleanup):
    # Created in an order that differs from name order.
    order = ["m", "c", "x", "a", "q", "f"]
    for i, n in enumerate(order):
        sm.create_secret(Name=prefix + n, SecretString="x")
        cleanup.append(prefix + n)
        time.sleep(0.01)  # distinct CreatedDate (millisecond resolution)
    flt = [{"Key": "name", "Values": [prefix]}]
    pag = sm.get_paginator("list_secrets")

    def listing(**kw):
        return names_of(pag.paginate(Filters=flt, PaginationConfig={"PageSize": 4}, **kw))

    by_name_asc = listing(SortBy="name", SortOrder="asc")
    by_name_desc = listing(SortBy="name", SortOrder="desc")
    assert by_name_asc == [prefix + n for n in sorted(order)]
    assert by_name_desc == list(reversed(by_name_asc))

    created_asc = listing(SortBy="created-date", SortOrder="asc")
    created_desc = listing(SortBy="created-date", SortOrder="desc")
    assert created_asc == [prefix + n for n in order]
    assert created_desc == list(reversed(created_asc))
    # The default is created-date ascending.
    assert listing() == created_asc

    # last-changed-date follows writes.
    sm.update_secret(SecretId=prefix + "m", Description="touched last")
    changed_desc = listing(SortBy="last-changed-date", SortOrder="desc")
    assert changed_desc[0] == prefix + "m"

    expect_error("InvalidParameterException", sm.list_secrets, SortOrder="sideways")
    expect_error("InvalidParameterException", sm.list_secrets, SortBy="size")


def test_list_secret_version_ids_pages_newest_first(sm, name, cleanup):
    cleanup.append(name)
    first = sm.create_secret(Name=name, SecretString="v0")["VersionId"]
    ids = [first]
    # Each version keeps its own label, so all of them stay listed without IncludeDeprecated.
    for i in range(1, 12):
        time.sleep(0.005)
        r = sm.put_secret_value(SecretId=name, SecretString=f"v{i}", VersionStages=[f"L{i:02d}"])
        assert r["VersionStages"] == [f"L{i:02d}"]
        ids.append(r["VersionId"])
    pages = version_pages(sm, name, 5)
    assert [len(p) for p in pages] == [5, 5, 2]
    listed = [v["VersionId"] for p in pages for v in p]
    assert listed == list(reversed(ids)), "newest first, each once"
    created = [v["CreatedDate"] for p in pages for v in p]
    assert created == sorted(created, reverse=True)
    by_id = {v["VersionId"]: v for p in pages for v in p}
    assert by_id[first]["VersionStages"] == ["AWSCURRENT"]
    assert by_id[ids[5]]["VersionStages"] == ["L05"]
    for v in by_id.values():
        assert v["KmsKeyIds"] and v["KmsKeyIds"][0].startswith("arn:aws:kms:")

    # Versions that lose every label disappear unless IncludeDeprecated.
    p1 = sm.put_secret_value(SecretId=name, SecretString="p1")["VersionId"]
    p2 = sm.put_secret_value(SecretId=name, SecretString="p2")["VersionId"]
    sm.put_secret_value(SecretId=name, SecretString="p3")
    plain = [v["VersionId"] for p in version_pages(sm, name, 3) for v in p]
    assert p1 not in plain and first not in plain and p2 in plain
    deprecated = [v["VersionId"] for p in version_pages(sm, name, 3, IncludeDeprecated=True) for v in p]
    assert p1 in deprecated and first in deprecated
    assert len(deprecated) == len(plain) + 2

    # A token belongs to its query: replaying it against another secret fails.
    tok = sm.list_secret_version_ids(SecretId=name, MaxResults=2)["NextToken"]
    expect_error(
        "InvalidNextTokenException",
        sm.list_secret_version_ids,
        SecretId=name,
        MaxResults=2,
        NextToken=tok,
        IncludeDeprecated=True,
    )


# ------------------------------------------------------------------------------ filters


@pytest.fixture
def filter_set(sm, prefix, cleanup):
    """Five secrets under `prefix` with varied names, descriptions and tags."""
    word = f"zebra{uuid.uuid4().hex[:6]}"
    specs = {
        "app/db": dict(Description="Payment Gateway database", Tags=[{"Key": "team", "Value": "Payments"}]),
        "app/cache": dict(Description="payment cache", Tags=[{"Key": "team", "Value": "platform"}]),
        "app/old": dict(Description="Legacy " + word, Tags=[{"Key": "Owner", "Value": "Payments-legacy"}]),
        "tools/ci": dict(Tags=[{"Key": "team", "Value": "infra"}, {"Key": "env", "Value": word}]),
        "tools/bot": dict(Description="gateway bot"),
    }
    for short, kw in specs.items():
        sm.create_secret(Name=prefix + short, SecretString="x", **kw)
        cleanup.append(prefix + short)
    return prefix, word


def listed(sm, prefix, *filters, **kw) -> set[str]:
    flt = [{"Key": "name", "Values": [prefix]}, *filters]
    pag = sm.get_paginator("list_secrets")
    return {n[len(prefix):] for n in names_of(pag.paginate(Filters=flt, **kw))}


def test_list_secrets_filter_name_prefix_and_negation(sm, filter_set):
    prefix, _ = filter_set
    assert listed(sm, prefix) == {"app/db", "app/cache", "app/old", "tools/ci", "tools/bot"}
    assert listed(sm, prefix, {"Key": "name", "Values": [prefix + "app/"]}) == {"app/db", "app/cache", "app/old"}
    # Negation in its own filter …
    assert listed(sm, prefix, {"Key": "name", "Values": ["!" + prefix + "app/"]}) == {"tools/ci", "tools/bot"}
    # … and mixed with a positive value in one filter.
    assert listed(sm, prefix, {"Key": "name", "Values": [prefix + "app/", "!" + prefix + "app/o"]}) == {
        "app/db",
        "app/cache",
    }
    # Name matching is case-sensitive.
    assert listed(sm, prefix, {"Key": "name", "Values": [prefix + "APP/"]}) == set()


def test_list_secrets_filter_description_ignores_case(sm, filter_set):
    prefix, _ = filter_set
    assert listed(sm, prefix, {"Key": "description", "Values": ["payment"]}) == {"app/db", "app/cache"}
    assert listed(sm, prefix, {"Key": "description", "Values": ["PAYMENT GATE"]}) == {"app/db"}
    # Prefix of the whole description, not of any word.
    assert listed(sm, prefix, {"Key": "description", "Values": ["gateway"]}) == {"tools/bot"}
    # Negation keeps secrets without a description.
    assert listed(sm, prefix, {"Key": "description", "Values": ["!Payment"]}) == {"app/old", "tools/ci", "tools/bot"}


def test_list_secrets_filter_tag_key_and_value(sm, filter_set):
    prefix, word = filter_set
    assert listed(sm, prefix, {"Key": "tag-value", "Values": ["Payments"]}) == {"app/db", "app/old"}
    assert listed(sm, prefix, {"Key": "tag-value", "Values": ["payments"]}) == set(), "case-sensitive"
    assert listed(sm, prefix, {"Key": "tag-value", "Values": [word]}) == {"tools/ci"}
    assert listed(sm, prefix, {"Key": "tag-key", "Values": ["team"]}) == {"app/db", "app/cache", "tools/ci"}
    assert listed(sm, prefix, {"Key": "tag-key", "Values": ["!team"]}) == {"app/old", "tools/bot"}
    # Two filters must both match.
    assert listed(
        sm, prefix, {"Key": "tag-key", "Values": ["team"]}, {"Key": "tag-value", "Values": ["!Payments"]}
    ) == {"app/cache", "tools/ci"}


def test_list_secrets_filter_all_searches_every_attribute(sm, filter_set):
    prefix, word = filter_set
    # `word` is in one description and one tag value; `all` is case-insensitive.
    assert listed(sm, prefix, {"Key": "all", "Values": [word.upper()]}) == {"app/old", "tools/ci"}
    assert listed(sm, prefix, {"Key": "all", "Values": ["gateway"]}) == {"app/db", "tools/bot"}
    assert listed(sm, prefix, {"Key": "all", "Values": ["payment gateway"]}) == {"app/db"}
    # Tag values "Payments" and "Payments-legacy" start with the word; "payment cache" doesn't.
    assert listed(sm, prefix, {"Key": "all", "Values": ["!payments"]}) == {"app/cache", "tools/ci", "tools/bot"}
    assert listed(sm, prefix, {"Key": "all", "Values": ["us-east"]}) == {
        "app/db", "app/cache", "app/old", "tools/ci", "tools/bot"
    }, "region words are searched too"


def test_list_secrets_filter_primary_region_and_bad_filters(sm, filter_set):
    prefix, _ = filter_set
    assert len(listed(sm, prefix, {"Key": "primary-region", "Values": ["us-east-1"]})) == 5
    assert listed(sm, prefix, {"Key": "primary-region", "Values": ["eu-"]}) == set()
    assert listed(sm, prefix, {"Key": "owning-service", "Values": ["rds"]}) == set()
    e = expect_error("InvalidParameterException", sm.list_secrets, Filters=[{"Key": "colour", "Values": ["x"]}])
    assert "colour" in str(e)
    expect_error("InvalidParameterException", sm.list_secrets, Filters=[{"Key": "name", "Values": ["a*b"]}])
    expect_error(
        "InvalidParameterException",
        sm.list_secrets,
        Filters=[{"Key": "name", "Values": ["a"]} for _ in range(11)],
    )


def test_list_secrets_planned_deletion_is_hidden_by_default(sm, prefix, cleanup):
    live, gone = prefix + "live", prefix + "gone"
    for n in (live, gone):
        sm.create_secret(Name=n, SecretString="x")
        cleanup.append(n)
    sm.delete_secret(SecretId=gone, RecoveryWindowInDays=7)
    flt = [{"Key": "name", "Values": [prefix]}]
    assert [s["Name"] for s in sm.list_secrets(Filters=flt)["SecretList"]] == [live]
    both = sm.list_secrets(Filters=flt, IncludePlannedDeletion=True)["SecretList"]
    by_name = {s["Name"]: s for s in both}
    assert set(by_name) == {live, gone}
    assert "DeletedDate" in by_name[gone] and "DeletedDate" not in by_name[live]


# ------------------------------------------------------------------------------ batch get


def test_batch_get_secret_value_reports_missing_and_deleted(sm, prefix, cleanup):
    a, b, dead = prefix + "a", prefix + "b", prefix + "dead"
    for n, v in ((a, "va"), (b, "vb"), (dead, "vd")):
        sm.create_secret(Name=n, SecretString=v)
        cleanup.append(n)
    sm.delete_secret(SecretId=dead, RecoveryWindowInDays=7)
    arn_b = sm.describe_secret(SecretId=b)["ARN"]
    missing = prefix + "missing"
    r = sm.batch_get_secret_value(SecretIdList=[a, missing, arn_b, dead])
    got = {v["Name"]: v for v in r["SecretValues"]}
    assert set(got) == {a, b}
    assert got[a]["SecretString"] == "va" and got[b]["SecretString"] == "vb"
    assert got[b]["ARN"] == arn_b
    for v in got.values():
        assert v["VersionStages"] == ["AWSCURRENT"] and v["VersionId"] and v["CreatedDate"]
    errors = {e["SecretId"]: e for e in r["Errors"]}
    assert set(errors) == {missing, dead}
    assert errors[missing]["ErrorCode"] == "ResourceNotFoundException"
    assert errors[dead]["ErrorCode"] == "InvalidRequestException"
    assert all(e["Message"] for e in errors.values())
    assert "NextToken" not in r


def test_batch_get_secret_value_filters_page_with_next_token(sm, prefix, cleanup):
    names = [f"{prefix}b{i}" for i in range(7)]
    for i, n in enumerate(names):
        sm.create_secret(Name=n, SecretString=f"val-{i}", Tags=[{"Key": "batch", "Value": prefix.strip("/")}])
        cleanup.append(n)
    flt = [{"Key": "tag-value", "Values": [prefix.strip("/")]}]
    seen, token, pages = [], None, 0
    while True:
        kw = {"Filters": flt, "MaxResults": 3}
        if token:
            kw["NextToken"] = token
        r = sm.batch_get_secret_value(**kw)
        pages += 1
        assert len(r["SecretValues"]) <= 3 and r["Errors"] == []
        seen += [(v["Name"], v["SecretString"]) for v in r["SecretValues"]]
        token = r.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted((n, f"val-{i}") for i, n in enumerate(names))


def test_batch_get_secret_value_argument_errors(sm, name, cleanup):
    cleanup.append(name)
    sm.create_secret(Name=name, SecretString="x")
    expect_error("InvalidParameterException", sm.batch_get_secret_value)
    expect_error(
        "InvalidParameterException",
        sm.batch_get_secret_value,
        SecretIdList=[name],
        Filters=[{"Key": "name", "Values": [name]}],
    )
    expect_error("InvalidParameterException", sm.batch_get_secret_value, SecretIdList=[name], MaxResults=5)
    expect_error("InvalidParameterException", sm.batch_get_secret_value, SecretIdList=[name] * 21)
    expect_error(
        "InvalidNextTokenException",
        sm.batch_get_secret_value,
        Filters=[{"Key": "name", "Values": [name]}],
        NextToken="bm90LWEtdG9rZW4",
    )


# ------------------------------------------------------------------------------ GetRandomPassword


def classes(p: str) -> set[str]:
    out = set()
    for c in p:
        if c in string.ascii_lowercase:
            out.add("lower")
        elif c in string.ascii_uppercase:
            out.add("upper")
        elif c in string.digits:
            out.add("digit")
        elif c in PUNCTUATION:
            out.add("punct")
        elif c == " ":
            out.add("space")
        else:
            out.add("other:" + c)
    return out


def test_get_random_password_defaults(sm):
    p = sm.get_random_password()["RandomPassword"]
    assert len(p) == 32
    assert classes(p) == {"lower", "upper", "digit", "punct"}
    assert sm.get_random_password()["RandomPassword"] != p


@pytest.mark.parametrize(
    "opts, allowed",
    [
        ({"ExcludeNumbers": True}, {"lower", "upper", "punct"}),
        ({"ExcludePunctuation": True}, {"lower", "upper", "digit"}),
        ({"ExcludeUppercase": True}, {"lower", "digit", "punct"}),
        ({"ExcludeLowercase": True}, {"upper", "digit", "punct"}),
        ({"ExcludeLowercase": True, "ExcludeUppercase": True, "ExcludePunctuation": True}, {"digit"}),
        ({"IncludeSpace": True}, {"lower", "upper", "digit", "punct", "space"}),
        ({"IncludeSpace": True, "ExcludeNumbers": True, "ExcludePunctuation": True}, {"lower", "upper", "space"}),
    ],
)
def test_get_random_password_class_options(sm, opts, allowed):
    p = sm.get_random_password(PasswordLength=64, **opts)["RandomPassword"]
    assert len(p) == 64
    # RequireEachIncludedType defaults to true: every included class appears.
    assert classes(p) == allowed, (opts, p)


def test_get_random_password_exclude_characters_and_length(sm):
    excluded = "abcdefghijklmABCDEFGHIJKLM01234!\"#$%&'()*"
    for length in (1, 4, 100, 4096):
        p = sm.get_random_password(
            PasswordLength=length, ExcludeCharacters=excluded, RequireEachIncludedType=length >= 4
        )["RandomPassword"]
        assert len(p) == length
        assert not set(p) & set(excluded)
    # Excluding a whole class leaves the other classes required.
    p = sm.get_random_password(PasswordLength=20, ExcludeCharacters=string.digits)["RandomPassword"]
    assert classes(p) == {"lower", "upper", "punct"}


def test_get_random_password_require_each_included_type_false(sm, sm_raw):
    # Four classes are included; with the requirement a 3-char password is impossible …
    expect_error("InvalidParameterException", sm.get_random_password, PasswordLength=3)
    # … without it any length works, and each char still comes from an included class.
    for _ in range(20):
        p = sm.get_random_password(PasswordLength=3, RequireEachIncludedType=False)["RandomPassword"]
        assert len(p) == 3 and not any(c.startswith("other") for c in classes(p))
    p = sm.get_random_password(PasswordLength=1, RequireEachIncludedType=False, IncludeSpace=True)["RandomPassword"]
    assert len(p) == 1
    # With the requirement switched off a long password may still use every class; only the
    # allowed set is guaranteed.
    p = sm.get_random_password(
        PasswordLength=200, RequireEachIncludedType=False, ExcludeUppercase=True, ExcludePunctuation=True
    )["RandomPassword"]
    assert classes(p) <= {"lower", "digit"}


def test_get_random_password_errors(sm, sm_raw):
    expect_error("InvalidParameterException", sm_raw.get_random_password, PasswordLength=0)
    expect_error("InvalidParameterException", sm_raw.get_random_password, PasswordLength=-5)
    expect_error("InvalidParameterException", sm_raw.get_random_password, PasswordLength=4097)
    expect_error(
        "InvalidParameterException",
        sm.get_random_password,
        ExcludeLowercase=True,
        ExcludeUppercase=True,
        ExcludeNumbers=True,
        ExcludePunctuation=True,
    )
    everything = string.ascii_letters + string.digits + PUNCTUATION
    e = expect_error("InvalidParameterException", sm.get_random_password, ExcludeCharacters=everything)
    # Space is the only class left when included.
    p = sm.get_random_password(ExcludeCharacters=everything, IncludeSpace=True, PasswordLength=5)["RandomPassword"]
    assert p == "     "
    assert "excluded" in e.response["Error"]["Message"].lower()


# ------------------------------------------------------------------------------ values


@pytest.mark.parametrize("size", [1, 2, 255, 4096, 65536])
def test_binary_secret_round_trip(sm, name, cleanup, size):
    cleanup.append(name)
    data = b"\x00" if size == 1 else os.urandom(size)
    v1 = sm.create_secret(Name=name, SecretBinary=data)["VersionId"]
    got = sm.get_secret_value(SecretId=name)
    assert got["SecretBinary"] == data
    assert "SecretString" not in got
    assert got["VersionId"] == v1
    # A second binary version, then the first one by id.
    data2 = bytes(reversed(data)) + b"\xff" if size < 65536 else data[:-1] + b"\xfe"
    sm.put_secret_value(SecretId=name, SecretBinary=data2)
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == data2
    assert sm.get_secret_value(SecretId=name, VersionId=v1)["SecretBinary"] == data
    assert sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")["SecretBinary"] == data


def test_secret_value_size_limits(sm, sm_raw, name, cleanup):
    cleanup.append(name)
    expect_error("InvalidParameterException", sm_raw.create_secret, Name=name, SecretBinary=b"\x01" * 65537)
    expect_error("InvalidParameterException", sm_raw.create_secret, Name=name, SecretBinary=b"")
    expect_error("InvalidParameterException", sm_raw.create_secret, Name=name, SecretString="")
    # The limit counts UTF-8 bytes: 32768 two-byte characters fit, one more does not.
    text = "é" * 32768
    sm.create_secret(Name=name, SecretString=text)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == text
    expect_error("InvalidParameterException", sm_raw.put_secret_value, SecretId=name, SecretString=text + "é")
    expect_error(
        "InvalidParameterException", sm.put_secret_value, SecretId=name, SecretString="a", SecretBinary=b"a"
    )
    # Switching a secret from text to binary is fine.
    sm.put_secret_value(SecretId=name, SecretBinary=b"\xc3\x28")
    got = sm.get_secret_value(SecretId=name)
    assert got["SecretBinary"] == b"\xc3\x28" and "SecretString" not in got


def test_secret_binary_wire_format_is_base64(sm, name, cleanup):
    """Checks the raw JSON body boto3 receives: SecretBinary is a base64 string."""
    cleanup.append(name)
    data = bytes(range(256))
    sm.create_secret(Name=name, SecretBinary=data)
    captured = {}

    def grab(http_response, **_):
        captured["body"] = http_response.content

    sm.meta.events.register("after-call.secrets-manager.GetSecretValue", lambda **kw: grab(kw["http_response"]))
    try:
        sm.get_secret_value(SecretId=name)
    finally:
        sm.meta.events.unregister("after-call.secrets-manager.GetSecretValue")
    body = json.loads(captured["body"])
    assert base64.b64decode(body["SecretBinary"]) == data


# ------------------------------------------------------------------------------ KMS key ids


def test_kms_key_id_default_alias_accepted_unknown_rejected(sm, name, cleanup):
    cleanup.append(name)
    sm.create_secret(Name=name, SecretString="x", KmsKeyId="alias/aws/secretsmanager")
    r = sm.update_secret(SecretId=name, KmsKeyId="alias/aws/secretsmanager")
    assert r["Name"] == name and "VersionId" not in r
    d = sm.describe_secret(SecretId=name)
    # The default key is never shown as KmsKeyId (AWS omits it too).
    assert "KmsKeyId" not in d
    # The default key's ARN (as ListSecretVersionIds shows it) is accepted too.
    key_arn = sm.list_secret_version_ids(SecretId=name)["Versions"][0]["KmsKeyIds"][0]
    sm.update_secret(SecretId=name, KmsKeyId=key_arn, SecretString="y")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "y"

    for bad in ("alias/my-own-key", "1234abcd-12ab-34cd-56ef-1234567890ab",
                "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"):
        e = expect_error("ResourceNotFoundException", sm.update_secret, SecretId=name, KmsKeyId=bad)
        assert bad in e.response["Error"]["Message"]
    expect_error("ResourceNotFoundException", sm.create_secret, Name=name + "-k", SecretString="x",
                 KmsKeyId="alias/nope")
    expect_error("ResourceNotFoundException", sm.describe_secret, SecretId=name + "-k")
    # Nothing changed by the rejected updates.
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "y"


# ------------------------------------------------------------------------------ dates


def _midnight_utc(d: dt.datetime) -> dt.datetime:
    return utc(d).replace(hour=0, minute=0, second=0, microsecond=0)


def test_last_accessed_date_is_midnight_utc_after_read(sm, name, cleanup):
    cleanup.append(name)
    sm.create_secret(Name=name, SecretString="x")
    assert "LastAccessedDate" not in sm.describe_secret(SecretId=name)
    before = dt.datetime.now(UTC)
    got = sm.get_secret_value(SecretId=name)
    after = dt.datetime.now(UTC)
    # The access is recorded in the background: poll briefly.
    deadline = time.monotonic() + 10
    while True:
        d = sm.describe_secret(SecretId=name)
        if "LastAccessedDate" in d or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert "LastAccessedDate" in d, d
    la = utc(d["LastAccessedDate"])
    assert la in {_midnight_utc(before), _midnight_utc(after)}, la
    assert (la.hour, la.minute, la.second, la.microsecond) == (0, 0, 0, 0)
    # ListSecrets and ListSecretVersionIds show it too.
    listed = sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"][0]
    assert utc(listed["LastAccessedDate"]) == la
    versions = sm.list_secret_version_ids(SecretId=name)["Versions"]
    (v,) = [v for v in versions if v["VersionId"] == got["VersionId"]]
    assert utc(v["LastAccessedDate"]) == la
    # Reading does not count as a change.
    assert d["LastChangedDate"] == sm.describe_secret(SecretId=name)["LastChangedDate"]


def test_created_and_last_changed_dates_order(sm, name, cleanup):
    cleanup.append(name)
    t0 = dt.datetime.now(UTC) - dt.timedelta(seconds=2)
    sm.create_secret(Name=name, SecretString="x", Description="d0")
    d1 = sm.describe_secret(SecretId=name)
    created = utc(d1["CreatedDate"])
    assert t0 <= created <= dt.datetime.now(UTC) + dt.timedelta(seconds=2)
    assert utc(d1["LastChangedDate"]) >= created
    time.sleep(0.05)
    sm.update_secret(SecretId=name, Description="d1")
    d2 = sm.describe_secret(SecretId=name)
    assert d2["CreatedDate"] == d1["CreatedDate"], "CreatedDate never moves"
    assert d2["LastChangedDate"] > d1["LastChangedDate"]
    time.sleep(0.05)
    put = sm.put_secret_value(SecretId=name, SecretString="y")
    d3 = sm.describe_secret(SecretId=name)
    assert d3["LastChangedDate"] > d2["LastChangedDate"]
    v = sm.get_secret_value(SecretId=name)
    assert v["VersionId"] == put["VersionId"]
    assert utc(v["CreatedDate"]) > created
    time.sleep(0.05)
    sm.tag_resource(SecretId=name, Tags=[{"Key": "k", "Value": "v"}])
    d4 = sm.describe_secret(SecretId=name)
    assert d4["LastChangedDate"] > d3["LastChangedDate"]
    # Describe shows no DeletedDate on a live secret, and a version map.
    assert "DeletedDate" not in d4
    assert d4["VersionIdsToStages"][put["VersionId"]] == ["AWSCURRENT"]
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=10)
    d5 = sm.describe_secret(SecretId=name)
    assert utc(d5["DeletedDate"]) >= utc(d4["LastChangedDate"])


# ------------------------------------------------------------------------------ errors


def test_error_invalid_parameter_exception_cases(sm, sm_raw, name, cleanup):
    cleanup.append(name)
    sm.create_secret(Name=name, SecretString="x")
    expect_error("InvalidParameterException", sm.create_secret, Name="bad name*", SecretString="x")
    expect_error("InvalidParameterException", sm.create_secret, Name=name + "2", SecretString="x",
                 Tags=[{"Key": "aws:reserved", "Value": "x"}])
    expect_error("InvalidParameterException", sm.create_secret, Name=name + "2", SecretString="x",
                 Tags=[{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}])
    expect_error("InvalidParameterException", sm.delete_secret, SecretId=name, RecoveryWindowInDays=31)
    expect_error("InvalidParameterException", sm_raw.list_secrets, MaxResults=101)
    expect_error("InvalidParameterException", sm_raw.list_secrets, MaxResults=0)
    expect_error("InvalidParameterException", sm.put_secret_value, SecretId=name, SecretString="y",
                 VersionStages=["A", "A"])
    expect_error("InvalidParameterException", sm.put_secret_value, SecretId=name)
    expect_error("InvalidParameterException", sm_raw.get_secret_value, SecretId=name, VersionId="short")
    expect_error("InvalidParameterException", sm_raw.untag_resource, SecretId=name, TagKeys=[])
    expect_error("InvalidParameterException", sm.tag_resource, SecretId=name,
                 Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    # Nothing was created by the failed calls.
    expect_error("ResourceNotFoundException", sm.describe_secret, SecretId=name + "2")


def test_error_invalid_request_exception_cases(sm, name, cleanup):
    cleanup.append(name)
    sm.create_secret(Name=name, SecretString="x")
    expect_error("InvalidRequestException", sm.create_secret, Name=name + "-r", SecretString="x",
                 AddReplicaRegions=[{"Region": "eu-west-1"}])
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    expect_error("InvalidRequestException", sm.delete_secret, SecretId=name, RecoveryWindowInDays=7)
    expect_error("InvalidRequestException", sm.get_secret_value, SecretId=name)
    expect_error("InvalidRequestException", sm.update_secret, SecretId=name, Description="x")
    expect_error("InvalidRequestException", sm.tag_resource, SecretId=name, Tags=[{"Key": "a", "Value": "b"}])
    expect_error("InvalidRequestException", sm.update_secret_version_stage, SecretId=name,
                 VersionStage="X", MoveToVersionId="a" * 32)
    expect_error("InvalidRequestException", sm.create_secret, Name=name, SecretString="x")
    # Describe and restore still work during the recovery window.
    assert sm.describe_secret(SecretId=name)["DeletedDate"]
    sm.restore_secret(SecretId=name)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "x"
    # Restoring a live secret is a no-op.
    assert sm.restore_secret(SecretId=name)["Name"] == name


def test_error_resource_not_found_exception_cases(sm, name, cleanup):
    cleanup.append(name)
    expect_error("ResourceNotFoundException", sm.describe_secret, SecretId=name)
    expect_error("ResourceNotFoundException", sm.get_secret_value, SecretId=name)
    expect_error("ResourceNotFoundException", sm.put_secret_value, SecretId=name, SecretString="x")
    expect_error("ResourceNotFoundException", sm.delete_secret, SecretId=name, ForceDeleteWithoutRecovery=True)
    expect_error("ResourceNotFoundException", sm.restore_secret, SecretId=name)
    expect_error("ResourceNotFoundException", sm.list_secret_version_ids, SecretId=name)
    expect_error("ResourceNotFoundException", sm.untag_resource, SecretId=name, TagKeys=["a"])
    sm.create_secret(Name=name, SecretString="x")
    expect_error("ResourceNotFoundException", sm.get_secret_value, SecretId=name, VersionId=uuid.uuid4().hex)
    expect_error("ResourceNotFoundException", sm.get_secret_value, SecretId=name, VersionStage="NOPE")
    # A version id that exists but does not carry the requested label.
    v = sm.describe_secret(SecretId=name)
    (vid,) = v["VersionIdsToStages"]
    expect_error("ResourceNotFoundException", sm.get_secret_value, SecretId=name, VersionId=vid,
                 VersionStage="AWSPREVIOUS")
    # A secret created without a value has no AWSCURRENT to read.
    sm.create_secret(Name=name + "-empty")
    cleanup.append(name + "-empty")
    expect_error("ResourceNotFoundException", sm.get_secret_value, SecretId=name + "-empty")
    # Full ARN with a wrong random suffix.
    arn = v["ARN"]
    expect_error("ResourceNotFoundException", sm.describe_secret, SecretId=arn[:-6] + "0zzzz0")


def test_error_resource_exists_exception_cases(sm, name, cleanup):
    cleanup.append(name)
    token = str(uuid.uuid4())
    r = sm.create_secret(Name=name, SecretString="one", ClientRequestToken=token)
    # Same token and value: an idempotent retry, not an error.
    again = sm.create_secret(Name=name, SecretString="one", ClientRequestToken=token)
    assert again["VersionId"] == r["VersionId"] == token
    expect_error("ResourceExistsException", sm.create_secret, Name=name, SecretString="one")
    expect_error("ResourceExistsException", sm.create_secret, Name=name, SecretString="two",
                 ClientRequestToken=token)
    # Same token with another value on PutSecretValue.
    t2 = str(uuid.uuid4())
    sm.put_secret_value(SecretId=name, SecretString="two", ClientRequestToken=t2)
    expect_error("ResourceExistsException", sm.put_secret_value, SecretId=name, SecretString="three",
                 ClientRequestToken=t2)
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "two"


def test_error_invalid_next_token_exception_cases(sm, prefix, cleanup):
    for i in range(3):
        sm.create_secret(Name=f"{prefix}{i}", SecretString="x")
        cleanup.append(f"{prefix}{i}")
    flt = [{"Key": "name", "Values": [prefix]}]
    tok = sm.list_secrets(Filters=flt, MaxResults=1)["NextToken"]
    # The token works for its own query …
    assert len(sm.list_secrets(Filters=flt, MaxResults=1, NextToken=tok)["SecretList"]) == 1
    # … but not for another one, and garbage is rejected.
    expect_error("InvalidNextTokenException", sm.list_secrets, Filters=flt, MaxResults=1, NextToken=tok,
                 SortOrder="desc")
    expect_error("InvalidNextTokenException", sm.list_secrets,
                 Filters=[{"Key": "name", "Values": [prefix + "0"]}], NextToken=tok)
    expect_error("InvalidNextTokenException", sm.list_secrets, NextToken="!!! not a token !!!")
    expect_error("InvalidNextTokenException", sm.list_secrets, NextToken=base64.urlsafe_b64encode(b"{}").decode())


def test_errors_map_to_modeled_exception_classes(sm, name):
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.get_secret_value(SecretId=name)
    with pytest.raises(sm.exceptions.InvalidParameterException):
        sm.delete_secret(SecretId=name, RecoveryWindowInDays=3)
    with pytest.raises(sm.exceptions.InvalidNextTokenException):
        sm.list_secrets(NextToken="zz")


# ------------------------------------------------------------------------------ misc operations


def test_update_secret_version_stage_custom_label_round_trip(sm, name, cleanup):
    cleanup.append(name)
    v1 = sm.create_secret(Name=name, SecretString="one")["VersionId"]
    v2 = sm.put_secret_value(SecretId=name, SecretString="two", VersionStages=["STAGING"])["VersionId"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "one"
    assert sm.get_secret_value(SecretId=name, VersionStage="STAGING")["SecretString"] == "two"
    # Promote STAGING's version to AWSCURRENT: the old one becomes AWSPREVIOUS.
    sm.update_secret_version_stage(SecretId=name, VersionStage="AWSCURRENT", MoveToVersionId=v2,
                                   RemoveFromVersionId=v1)
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    assert sorted(stages[v2]) == ["AWSCURRENT", "STAGING"]
    assert stages[v1] == ["AWSPREVIOUS"]
    # Moving a label off a version that doesn't hold it is refused.
    expect_error("InvalidParameterException", sm.update_secret_version_stage, SecretId=name,
                 VersionStage="STAGING", RemoveFromVersionId=v1)
    sm.update_secret_version_stage(SecretId=name, VersionStage="STAGING", RemoveFromVersionId=v2)
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"][v2] == ["AWSCURRENT"]


def test_put_secret_value_first_version_always_gets_awscurrent(sm, name, cleanup):
    # AWS: "If this operation creates the first version for the secret, then Secrets Manager
    # automatically attaches the staging label AWSCURRENT to it."
    cleanup.append(name)
    sm.create_secret(Name=name)  # no value, no versions
    r = sm.put_secret_value(SecretId=name, SecretString="first", VersionStages=["CUSTOM"])
    assert sorted(r["VersionStages"]) == ["AWSCURRENT", "CUSTOM"]
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"][r["VersionId"]]
    assert sorted(stages) == ["AWSCURRENT", "CUSTOM"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "first"
    # Later versions get only what they ask for.
    r2 = sm.put_secret_value(SecretId=name, SecretString="second", VersionStages=["OTHER"])
    assert r2["VersionStages"] == ["OTHER"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "first"


def test_put_secret_value_into_secret_created_without_value(sm, name, cleanup):
    cleanup.append(name)
    out = sm.create_secret(Name=name)
    assert "VersionId" not in out
    assert sm.list_secret_version_ids(SecretId=name)["Versions"] == []
    v = sm.put_secret_value(SecretId=name, SecretString="first")
    assert v["VersionStages"] == ["AWSCURRENT"]
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "first"
    # No AWSPREVIOUS appears when there was nothing before.
    assert sm.describe_secret(SecretId=name)["VersionIdsToStages"] == {v["VersionId"]: ["AWSCURRENT"]}


def test_secret_id_forms_name_arn_partial_arn(sm, name, cleanup):
    cleanup.append(name)
    arn = sm.create_secret(Name=name, SecretString="val")["ARN"]
    assert arn.startswith("arn:aws:secretsmanager:us-east-1:") and arn.split(":secret:")[1][:-7] == name
    assert arn[-7] == "-"
    for sid in (name, arn, arn[:-7]):
        assert sm.get_secret_value(SecretId=sid)["SecretString"] == "val", sid
    # An ARN in another region of this account is not reachable from us-east-1.
    other = arn.replace(":us-east-1:", ":eu-west-1:")
    expect_error("AccessDeniedException", sm.get_secret_value, SecretId=other)


def test_delete_secret_force_and_window(sm, name, cleanup):
    cleanup.append(name)
    sm.create_secret(Name=name, SecretString="x")
    before = dt.datetime.now(UTC)
    r = sm.delete_secret(SecretId=name)  # default window: 30 days
    days = (utc(r["DeletionDate"]) - before).total_seconds() / 86400
    assert 29.9 < days < 30.1
    sm.restore_secret(SecretId=name)
    r = sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
    days = (utc(r["DeletionDate"]) - before).total_seconds() / 86400
    assert 6.9 < days < 7.1
    # Force delete works on a secret already scheduled for deletion, and frees the name.
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    expect_error("ResourceNotFoundException", sm.describe_secret, SecretId=name)
    sm.create_secret(Name=name, SecretString="again")
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "again"


# ------------------------------------------------------------------------------ caching library


def test_caching_library_reads_through_coffer(sm, name, cleanup):
    from aws_secretsmanager_caching import (
        InjectKeywordedSecretString,
        InjectSecretString,
        SecretCache,
        SecretCacheConfig,
    )

    cleanup.append(name)
    cleanup.append(name + "-bin")
    sm.create_secret(Name=name, SecretString='{"user": "app", "password": "first"}')
    sm.create_secret(Name=name + "-bin", SecretBinary=b"\x00\x01binary")
    cache = SecretCache(config=SecretCacheConfig(secret_refresh_interval=3600), client=sm)
    assert cache.get_secret_string(name) == '{"user": "app", "password": "first"}'
    assert cache.get_secret_binary(name + "-bin") == b"\x00\x01binary"

    # A new value is not seen until the cache refreshes …
    sm.put_secret_value(SecretId=name, SecretString='{"user": "app", "password": "second"}')
    assert "first" in cache.get_secret_string(name)
    cache.refresh_secret_now(name)
    assert "second" in cache.get_secret_string(name)
    # … and the previous version is available by stage.
    assert "first" in cache.get_secret_string(name, version_stage="AWSPREVIOUS")

    @InjectSecretString(name, cache)
    def whole(secret):
        return secret

    @InjectKeywordedSecretString(name, cache, user="user", pw="password")
    def fields(user, pw):
        return user, pw

    assert "second" in whole()
    assert fields() == ("app", "second")

    # A short refresh interval picks up changes by itself.
    quick = SecretCache(config=SecretCacheConfig(secret_refresh_interval=1), client=sm)
    assert "second" in quick.get_secret_string(name)
    sm.put_secret_value(SecretId=name, SecretString='{"user": "app", "password": "third"}')
    deadline = time.monotonic() + 15
    while "third" not in quick.get_secret_string(name):
        assert time.monotonic() < deadline, "cache never refreshed"
        time.sleep(0.3)

    # Unknown secrets surface the server's error.
    with pytest.raises(ClientError) as info:
        cache.get_secret_string(name + "-missing")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


# ------------------------------------------------------------------------------ concurrency


def test_concurrent_puts_leave_exactly_one_current(coffer, sm, name, cleanup):
    cleanup.append(name)
    sm.create_secret(Name=name, SecretString="start")
    clients = [make_client(coffer.endpoint, coffer.access_key_id, coffer.secret_access_key) for _ in range(8)]

    def writer(i):
        c = clients[i]
        return [c.put_secret_value(SecretId=name, SecretString=f"w{i}-{j}")["VersionId"] for j in range(4)]

    with ThreadPoolExecutor(8) as pool:
        written = [v for vs in pool.map(writer, range(8)) for v in vs]
    assert len(set(written)) == 32
    stages = sm.describe_secret(SecretId=name)["VersionIdsToStages"]
    current = [v for v, s in stages.items() if "AWSCURRENT" in s]
    previous = [v for v, s in stages.items() if "AWSPREVIOUS" in s]
    assert len(current) == 1 and len(previous) == 1 and current != previous
    assert current[0] in written
    got = sm.get_secret_value(SecretId=name)
    assert got["VersionId"] == current[0]
    all_versions = [v["VersionId"] for p in version_pages(sm, name, 100, IncludeDeprecated=True) for v in p]
    assert set(written) <= set(all_versions) and len(all_versions) == 33


def test_concurrent_idempotent_creates_return_one_secret(coffer, sm, name, cleanup):
    cleanup.append(name)
    token = str(uuid.uuid4())
    clients = [make_client(coffer.endpoint, coffer.access_key_id, coffer.secret_access_key) for _ in range(6)]

    def create(c):
        try:
            return c.create_secret(Name=name, SecretString="same", ClientRequestToken=token)
        except ClientError as e:
            return e.response["Error"]

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(create, clients))
    assert all("ARN" in r for r in results), results
    assert len({r["ARN"] for r in results}) == 1
    assert {r["VersionId"] for r in results} == {token}
    assert list(sm.describe_secret(SecretId=name)["VersionIdsToStages"]) == [token]
