"""The audit trail end to end: CloudTrail records of calls by two users (checked field by
field, denied calls included), LookupEvents through boto3 and the aws CLI, no secret value
anywhere, tamper detection by `coffer audit verify`, kill -9 under write load, and the
fail-closed / fail-open modes."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import coffer_bin, start_server
from iam_helpers import READ_WRITE, Scratch, allow, boto_client, denied_message, expect, policy, run_coffer

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("audit") / "data"
    s = start_server(d, "--audit-digest-interval-secs", "1")
    yield s
    s.stop()


def records(server, **filters) -> list[dict]:
    """Every record of the log (oldest first) via `coffer audit export`."""
    r = run_coffer("audit", "export", "--data-dir", str(server.data_dir), env=server.env())
    assert r.returncode == 0, r.stderr
    out = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    for k, v in filters.items():
        out = [x for x in out if x.get(k) == v]
    return out


def lookup_all(ct, **kw) -> list[dict]:
    events, token = [], None
    while True:
        args = dict(kw)
        if token:
            args["NextToken"] = token
        page = ct.lookup_events(**args)
        events += page["Events"]
        token = page.get("NextToken")
        if not token:
            return events


def test_two_users_produce_exactly_the_expected_records(server):
    root = Scratch(server.endpoint, server.access_key_id, server.secret_access_key)
    try:
        alice = root.user("alice", managed=[READ_WRITE])
        bob = root.user("bob", inline=policy(allow("secretsmanager:ListSecrets")))
        account = alice.arn.split(":")[4]
        name = f"audit/{uuid.uuid4().hex[:8]}"
        canary1, canary2 = f"CANARY-{uuid.uuid4().hex}", f"CANARY-{uuid.uuid4().hex}"
        asm, bsm = alice.sm, bob.sm
        created = asm.create_secret(Name=name, SecretString=canary1)
        arn = created["ARN"]
        put = asm.put_secret_value(SecretId=name, SecretString=canary2, VersionStages=["AWSCURRENT"])
        got = asm.get_secret_value(SecretId=arn)
        assert got["SecretString"] == canary2
        denied = expect("AccessDeniedException", bsm.get_secret_value, SecretId=arn)
        denied_describe = expect("AccessDeniedException", bsm.describe_secret, SecretId=name)
        listed = bsm.list_secrets()
        deleted = asm.delete_secret(SecretId=name, RecoveryWindowInDays=7)
        after_delete = expect("InvalidRequestException", asm.get_secret_value, SecretId=name)

        sm_records = [r for r in records(server) if r["eventSource"] == "secretsmanager.amazonaws.com"
                      and r["userIdentity"].get("arn") in (alice.arn, bob.arn)]
        got_calls = [(r["userIdentity"]["userName"], r["eventName"], r.get("errorCode")) for r in sm_records]
        a, b = alice.name, bob.name
        assert got_calls == [
            (a, "CreateSecret", None),
            (a, "PutSecretValue", None),
            (a, "GetSecretValue", None),
            (b, "GetSecretValue", "AccessDeniedException"),
            (b, "DescribeSecret", "AccessDeniedException"),
            (b, "ListSecrets", None),
            (a, "DeleteSecret", None),
            (a, "GetSecretValue", "InvalidRequestException"),
        ]
        responses = [created, put, got, denied.response, denied_describe.response, listed, deleted,
                     after_delete.response]
        for rec, resp in zip(sm_records, responses):
            who = alice if rec["userIdentity"]["arn"] == alice.arn else bob
            assert rec["eventVersion"] == "1.08"
            ident = rec["userIdentity"]
            assert ident["type"] == "IAMUser"
            assert ident["accountId"] == account
            assert ident["accessKeyId"] == who.key
            assert ident["principalId"].startswith("AIDA")
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", rec["eventTime"])
            assert rec["awsRegion"] == "us-east-1"
            assert rec["sourceIPAddress"] == "127.0.0.1"
            assert "Boto3" in rec["userAgent"] or "botocore" in rec["userAgent"]
            assert rec["requestID"] == resp["ResponseMetadata"]["RequestId"]
            assert UUID_RE.match(rec["eventID"])
            assert rec["eventType"] == "AwsApiCall"
            assert rec["managementEvent"] is True
            assert rec["eventCategory"] == "Management"
            assert rec["recipientAccountId"] == account
            assert rec["readOnly"] == (rec["eventName"] in ("GetSecretValue", "DescribeSecret", "ListSecrets"))
        create, put_r, get_r, deny_get, deny_desc, list_r, delete_r, after_r = sm_records
        assert create["requestParameters"] == {
            "name": name, "secretString": HIDDEN, "clientRequestToken": create["requestParameters"]["clientRequestToken"]}
        assert create["responseElements"] == {"arn": arn, "name": name, "versionId": created["VersionId"]}
        resource = [{"accountId": account, "type": "AWS::SecretsManager::Secret", "ARN": arn}]
        assert create["resources"] == resource
        assert put_r["requestParameters"]["secretString"] == HIDDEN
        assert put_r["requestParameters"]["versionStages"] == ["AWSCURRENT"]
        assert put_r["responseElements"]["versionId"] == put["VersionId"]
        assert get_r["requestParameters"] == {"secretId": arn}
        assert get_r["responseElements"] is None
        assert get_r["resources"] == resource
        for rec, action, target, resp in [(deny_get, "GetSecretValue", arn, denied),
                                          (deny_desc, "DescribeSecret", name, denied_describe)]:
            assert rec["errorCode"] == "AccessDeniedException"
            assert rec["errorMessage"] == resp.response["Error"]["Message"]
            assert rec["errorMessage"].startswith(f"User: {bob.arn} is not authorized to perform: secretsmanager:{action}")
            # A caller who may not see the secret gets no resource in its record.
            assert "resources" not in rec
            assert rec["responseElements"] is None
        assert deny_get["errorMessage"] == denied_message(bob.arn, "secretsmanager:GetSecretValue", arn)
        assert list_r["requestParameters"] == {} and list_r.get("errorCode") is None
        assert delete_r["requestParameters"] == {"secretId": name, "recoveryWindowInDays": 7}
        assert delete_r["responseElements"]["arn"] == arn and "deletionDate" in delete_r["responseElements"]
        assert after_r["errorMessage"].endswith("because it was marked for deletion.")

        # IAM calls by the root are recorded too, with their parameters.
        iam_records = [r for r in records(server, eventSource="iam.amazonaws.com")
                       if r["requestParameters"].get("userName") == alice.name]
        assert [r["eventName"] for r in iam_records][:3] == ["CreateUser", "AttachUserPolicy", "CreateAccessKey"]
        assert all(r["userIdentity"]["type"] == "Root" for r in iam_records)

        # No secret value anywhere: records, the database files and the server's logs.
        everything = json.dumps(records(server))
        assert canary1 not in everything and canary2 not in everything
        for f in Path(server.data_dir).iterdir():
            if f.is_file():
                data = f.read_bytes()
                assert canary1.encode() not in data and canary2.encode() not in data, f
        logs = server.log_tail(10**9) + server.stdout_path.read_text(errors="replace")
        assert canary1 not in logs and canary2 not in logs
        # The secret keys of new access keys are not recorded either.
        assert alice.secret not in everything and bob.secret not in everything
    finally:
        root.cleanup()


def test_lookup_events_api(server):
    root = Scratch(server.endpoint, server.access_key_id, server.secret_access_key)
    try:
        ct = root.root.client("cloudtrail")
        name = f"lookup/{uuid.uuid4().hex[:8]}"
        arn = root.secret(name)
        sm = root.root.sm
        for _ in range(3):
            sm.describe_secret(SecretId=name)
        by_name = lookup_all(ct, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": name}])
        by_arn = lookup_all(ct, LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": arn}])
        assert [e["EventName"] for e in by_arn] == ["DescribeSecret"] * 3 + ["CreateSecret"]
        assert [e["EventId"] for e in by_name] == [e["EventId"] for e in by_arn]
        newest = by_arn[0]
        record = json.loads(newest["CloudTrailEvent"])
        assert newest["EventId"] == record["eventID"]
        assert newest["ReadOnly"] == "true"
        assert newest["EventSource"] == "secretsmanager.amazonaws.com"
        assert newest["Username"] == "root"
        assert newest["AccessKeyId"] == server.access_key_id
        assert newest["Resources"] == [{"ResourceType": "AWS::SecretsManager::Secret", "ResourceName": arn}]
        # Paging: one event per page, newest first, nothing lost or repeated.
        pages = lookup_all(ct, MaxResults=1,
                           LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": arn}])
        assert [e["EventId"] for e in pages] == [e["EventId"] for e in by_arn]
        # Each attribute.
        eid = newest["EventId"]
        assert [e["EventId"] for e in lookup_all(ct, LookupAttributes=[
            {"AttributeKey": "EventId", "AttributeValue": eid}])] == [eid]
        writes = lookup_all(ct, LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "false"}])
        assert writes and all(e["ReadOnly"] == "false" for e in writes)
        creates = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateSecret"}])
        assert creates and {e["EventName"] for e in creates} == {"CreateSecret"}
        keyed = ct.lookup_events(MaxResults=5, LookupAttributes=[
            {"AttributeKey": "AccessKeyId", "AttributeValue": server.access_key_id}])["Events"]
        assert keyed and all(e["AccessKeyId"] == server.access_key_id for e in keyed)
        sources = lookup_all(ct, LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}])
        assert sources and {e["EventSource"] for e in sources} == {"iam.amazonaws.com"}
        # Time range: a window in the past holds none of them.
        old = ct.lookup_events(StartTime=0, EndTime=1000)["Events"]
        assert old == []
        # Bad input.
        expect("InvalidLookupAttributesException", ct.lookup_events, LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "a"}, {"AttributeKey": "Username", "AttributeValue": "b"}])
        expect("InvalidTimeRangeException", ct.lookup_events, StartTime=2000, EndTime=1000)
        expect("InvalidNextTokenException", ct.lookup_events, NextToken="bm90LWEtdG9rZW4=")
        expect("InvalidMaxResultsException", ct.lookup_events, MaxResults=51)
        # The aws CLI's lookup-events works too.
        out = subprocess.run(
            [shutil.which("aws") or str(Path(os.sys.executable).parent / "aws"), "--endpoint-url", server.endpoint,
             "cloudtrail", "lookup-events", "--max-items", "2", "--lookup-attributes",
             f"AttributeKey=ResourceName,AttributeValue={arn}"],
            env=server.env(), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert [e["EventName"] for e in json.loads(out.stdout)["Events"]] == ["DescribeSecret"] * 2
        # Another account sees none of this account's records; a user without permission is denied.
        other = root.user("noaudit", inline=policy(allow("secretsmanager:ListSecrets")))
        expect("AccessDeniedException", other.client("cloudtrail").lookup_events)
    finally:
        root.cleanup()


def test_lookup_is_scoped_to_the_account(server):
    from iam_helpers import create_account
    acct = create_account(server)
    ct = boto_client(server.endpoint, "cloudtrail", acct["AWS_ACCESS_KEY_ID"], acct["AWS_SECRET_ACCESS_KEY"])
    sm = boto_client(server.endpoint, "secretsmanager", acct["AWS_ACCESS_KEY_ID"], acct["AWS_SECRET_ACCESS_KEY"])
    sm.list_secrets()
    events = lookup_all(ct)
    assert events, "its own calls are visible"
    assert {json.loads(e["CloudTrailEvent"])["recipientAccountId"] for e in events} == {acct["account_id"]}


def test_failed_authentication_is_recorded(server):
    bad = boto_client(server.endpoint, "secretsmanager", "AKIAUNKNOWNKEY000000", "x" * 40)
    expect("UnrecognizedClientException", bad.list_secrets)
    recs = [r for r in records(server) if r["userIdentity"].get("accessKeyId") == "AKIAUNKNOWNKEY000000"]
    assert len(recs) == 1
    assert recs[0]["userIdentity"]["type"] == "Unknown"
    assert recs[0]["errorCode"] == "UnrecognizedClientException"
    assert recs[0]["eventName"] == "ListSecrets"


# --- tamper evidence -----------------------------------------------------------------------

def verify(data_dir: Path) -> tuple[int, str]:
    r = subprocess.run([coffer_bin(), "audit", "verify", "--data-dir", str(data_dir)],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture(scope="module")
def sealed_log(tmp_path_factory):
    """A stopped server's data directory with ≥ 30 records, all covered by digests."""
    d = tmp_path_factory.mktemp("tamper") / "data"
    s = start_server(d, "--audit-digest-interval-secs", "1")
    try:
        sm = boto_client(s.endpoint, "secretsmanager", s.access_key_id, s.secret_access_key)
        sm.create_secret(Name="t", SecretString="v")
        for i in range(30):
            sm.put_secret_value(SecretId="t", SecretString=f"v{i}")
        time.sleep(2.5)
    finally:
        s.stop()  # SIGTERM: a final digest covers the tail
    return d


def tampered(sealed_log: Path, tmp_path: Path, *sql: str) -> Path:
    d = tmp_path / "copy"
    shutil.copytree(sealed_log, d)
    with sqlite3.connect(d / "coffer.db") as db:
        for stmt in sql:
            db.execute(stmt)
    return d


def test_an_untouched_log_verifies(sealed_log):
    code, out = verify(sealed_log)
    assert code == 0, out
    assert "intact" in out and "0 records after the last digest" in out


@pytest.mark.parametrize("kind,sql,seq", [
    ("modified", ["UPDATE audit_log SET record = replace(record, '\"readOnly\":false', '\"readOnly\":true') WHERE seq = 7"], 7),
    ("removed", ["DELETE FROM audit_log WHERE seq = 12"], 12),
    ("removed", ["DELETE FROM audit_log WHERE seq = 12", "UPDATE audit_log SET seq = seq - 1 WHERE seq > 12"], 12),
    ("reordered", ["UPDATE audit_log SET seq = -1 WHERE seq = 15", "UPDATE audit_log SET seq = 15 WHERE seq = 16",
                   "UPDATE audit_log SET seq = 16 WHERE seq = -1"], 15),
    ("truncated", ["DELETE FROM audit_log WHERE seq > 20"], 21),
])
def test_tampering_is_detected(sealed_log, tmp_path, kind, sql, seq):
    d = tampered(sealed_log, tmp_path, *sql)
    code, out = verify(d)
    assert code == 2, out
    assert f"TAMPERED at record #{seq} ({kind})" in out, out


def test_a_rewritten_chain_is_caught_by_the_signed_digests(sealed_log, tmp_path):
    """An attacker who edits a record and recomputes every later hash still fails: the
    Ed25519-signed digests no longer match."""
    import hashlib
    d = tmp_path / "copy"
    shutil.copytree(sealed_log, d)
    with sqlite3.connect(d / "coffer.db") as db:
        rows = db.execute("SELECT seq, prev_hash, record FROM audit_log ORDER BY seq").fetchall()
        prev = None
        for seq, prev_hash, record in rows:
            if seq == 10:
                record = record.replace('"awsRegion":"us-east-1"', '"awsRegion":"eu-west-1"')
            if prev is None:
                prev = prev_hash
            h = hashlib.sha256(b"coffer-audit-v1" + prev + record.encode()).digest()
            db.execute("UPDATE audit_log SET prev_hash = ?, hash = ?, record = ? WHERE seq = ?", (prev, h, record, seq))
            prev = h
    code, out = verify(d)
    assert code == 2, out
    assert "(rewritten)" in out


# --- durability under kill -9 ----------------------------------------------------------------

def test_every_acknowledged_write_has_its_record_after_kill_9(tmp_path):
    d = tmp_path / "data"
    s = start_server(d)
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int):
        sm = boto_client(s.endpoint, "secretsmanager", s.access_key_id, s.secret_access_key)
        i = 0
        while not stop.is_set():
            i += 1
            try:
                if i == 1:
                    r = sm.create_secret(Name=f"k9-{n}", SecretString="x")
                else:
                    r = sm.put_secret_value(SecretId=f"k9-{n}", SecretString=f"x{i}")
            except Exception:
                return  # the server died
            with lock:
                acked.append(r["ResponseMetadata"]["RequestId"])

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(3)
    os.kill(s.proc.pid, signal.SIGKILL)
    s.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) > 20, "the load did not run"
    from test_sts_expiry import start_node
    proc, _ = start_node(d)
    try:
        ids = {r["requestID"] for r in records(s)}
        missing = [a for a in acked if a not in ids]
        assert not missing, f"{len(missing)} acknowledged writes have no audit record"
        code, out = verify(d)
        assert code == 0, out
    finally:
        proc.terminate()
        proc.wait(timeout=15)


# --- failure modes ---------------------------------------------------------------------------

def block_audit(data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "coffer.db") as db:
        db.execute("CREATE TRIGGER block_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'blocked'); END")


def test_fail_closed_refuses_calls_whose_record_cannot_be_written(tmp_path):
    d = tmp_path / "data"
    s = start_server(d)
    try:
        sm = boto_client(s.endpoint, "secretsmanager", s.access_key_id, s.secret_access_key)
        sm.create_secret(Name="fc", SecretString="before")
        block_audit(d)
        expect("InternalServiceError", sm.get_secret_value, SecretId="fc")
        expect("InternalServiceError", sm.put_secret_value, SecretId="fc", SecretString="after")
        with sqlite3.connect(d / "coffer.db") as db:
            db.execute("DROP TRIGGER block_audit")
        # The refused write changed nothing.
        assert sm.get_secret_value(SecretId="fc")["SecretString"] == "before"
        assert len(sm.list_secret_version_ids(SecretId="fc")["Versions"]) == 1
    finally:
        s.stop()


def test_fail_open_answers_and_counts_the_loss(tmp_path):
    d = tmp_path / "data"
    s = start_server(d, "--audit-mode", "open")
    try:
        sm = boto_client(s.endpoint, "secretsmanager", s.access_key_id, s.secret_access_key)
        sm.create_secret(Name="fo", SecretString="v")
        block_audit(d)
        assert sm.get_secret_value(SecretId="fo")["SecretString"] == "v"
    finally:
        s.stop()
