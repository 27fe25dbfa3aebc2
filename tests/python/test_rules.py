"""Event rules end to end: a rules file with a webhook rule and a command rule, boto3 calls
that trigger them, the `coffer rules` commands, and the admin-only check."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from conftest import client_env, coffer_bin, make_client, start_server

SECRET = "rules-webhook-secret-" + uuid.uuid4().hex


class Receiver:
    def __init__(self):
        self.events: list[dict] = []
        self.bad = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                header = self.headers.get("X-Coffer-Signature", "")
                parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
                want = hmac.new(SECRET.encode(), f"{parts.get('t', '')}.".encode() + body, hashlib.sha256).hexdigest()
                if hmac.compare_digest(want, parts.get("v1", "")):
                    outer.events.append(json.loads(body))
                else:
                    outer.bad += 1
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def wait_for(pred, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def rules_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rules")
    receiver = Receiver()
    out = tmp / "command-out.jsonl"
    rules = {"rules": [
        {
            "name": "deletions",
            "event_pattern": {"source": ["coffer.secretsmanager"], "detail-type": ["Secret Deletion Scheduled"]},
            "targets": [{"type": "webhook", "url": f"http://127.0.0.1:{receiver.port}/hook", "secret": SECRET}],
        },
        {
            "name": "policies",
            "event_pattern": {"source": ["coffer.secretsmanager"], "detail-type": ["Resource Policy Changed"]},
            "targets": [{"type": "command", "argv": ["sh", "-c", f"cat >> {out}; echo >> {out}"]}],
        },
    ]}
    rules_file = tmp / "rules.json"
    rules_file.write_text(json.dumps(rules))
    server = start_server(tmp / "data", "--rules-file", str(rules_file))
    try:
        yield server, receiver, out
    finally:
        server.stop()
        receiver.server.shutdown()
        assert server.proc.returncode == 0


def coffer_rules(server, *args, creds=None, check=True):
    akid, secret = creds or (server.access_key_id, server.secret_access_key)
    env = client_env(akid, secret, server.region, COFFER_ENDPOINT=server.endpoint)
    p = subprocess.run([coffer_bin(), "rules", *args], env=env, capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"coffer rules {args} failed ({p.returncode}): {p.stderr}")
    return p


def test_deletion_and_policy_change_trigger_one_delivery_each(rules_server):
    server, receiver, out = rules_server
    sm = make_client(server.endpoint, server.access_key_id, server.secret_access_key, server.region)
    name = f"pytest/rules/{uuid.uuid4().hex[:8]}"
    arn = sm.create_secret(Name=name, SecretString="rule-canary-value")["ARN"]
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{arn.split(':')[4]}:root"},
        "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})
    sm.put_resource_policy(SecretId=name, ResourcePolicy=policy)
    sm.delete_secret(SecretId=name, RecoveryWindowInDays=7)

    wait_for(lambda: receiver.events and out.exists() and out.read_text().strip(), what="both deliveries")
    time.sleep(2.5)  # room for any duplicate
    assert receiver.bad == 0
    assert len(receiver.events) == 1, receiver.events
    ev = receiver.events[0]
    assert ev["detail-type"] == "Secret Deletion Scheduled"
    assert ev["source"] == "coffer.secretsmanager"
    assert ev["resources"] == [arn]
    assert ev["detail"]["eventName"] == "DeleteSecret"
    lines = [json.loads(l) for l in out.read_text().splitlines() if l.strip()]
    assert len(lines) == 1, lines
    assert lines[0]["detail-type"] == "Resource Policy Changed"
    assert lines[0]["detail"]["eventName"] == "PutResourcePolicy"
    assert lines[0]["resources"] == [arn]
    everything = json.dumps(receiver.events) + out.read_text() + server.log_tail(10**7)
    assert "rule-canary-value" not in everything
    assert SECRET not in server.log_tail(10**7)


def test_rules_cli_list_put_delete_and_test_pattern(rules_server, tmp_path):
    server, _, _ = rules_server
    listed = json.loads(coffer_rules(server, "list", "--json").stdout)
    names = [r["name"] for r in listed["Rules"]]
    assert names[:2] == ["deletions", "policies"]
    assert SECRET not in json.dumps(listed)
    assert listed["Rules"][0]["targets"][0]["secret"] == "REDACTED"

    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps({"name": "log-all-iam", "event_pattern": {"source": ["coffer.iam"]},
                                "targets": [{"type": "log"}]}))
    assert "created" in coffer_rules(server, "put", "--file", str(rule)).stdout
    assert "replaced" in coffer_rules(server, "put", "--file", str(rule)).stdout
    table = coffer_rules(server, "list").stdout
    assert re.search(r"^log-all-iam\ttrue\tlog\t", table, re.M), table

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "bad name", "event_pattern": {}}))
    p = coffer_rules(server, "put", "--file", str(bad), check=False)
    assert p.returncode != 0 and "InvalidParameterException" in p.stderr

    p = coffer_rules(server, "test-pattern", "--pattern", '{"source":["coffer.iam"]}', "--event",
                     '{"source":"coffer.iam","detail":{}}')
    assert p.stdout.strip() == "true"
    p = coffer_rules(server, "test-pattern", "--pattern", '{"source":["coffer.kms"]}', "--event",
                     '{"source":"coffer.iam"}', check=False)
    assert p.returncode == 1 and p.stdout.strip() == "false"

    coffer_rules(server, "delete", "log-all-iam")
    names = [r["name"] for r in json.loads(coffer_rules(server, "list", "--json").stdout)["Rules"]]
    assert "log-all-iam" not in names
    p = coffer_rules(server, "delete", "log-all-iam", check=False)
    assert p.returncode != 0 and "ResourceNotFoundException" in p.stderr


def test_non_admin_keys_get_access_denied(rules_server, tmp_path):
    server, _, _ = rules_server
    env = client_env(server.access_key_id, server.secret_access_key, server.region, COFFER_ENDPOINT=server.endpoint)
    out = subprocess.run([coffer_bin(), "account", "create"], env=env, capture_output=True, text=True,
                         check=True, timeout=60).stdout
    akid = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", out).group(1)
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", out).group(1)
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps({"name": "intruder", "event_pattern": {"source": ["coffer.iam"]}}))
    for args in (["put", "--file", str(rule)], ["list"], ["delete", "deletions"]):
        p = coffer_rules(server, *args, creds=(akid, secret), check=False)
        assert p.returncode != 0 and "AccessDeniedException" in p.stderr, (args, p.stderr)
    # The other account's own secrets calls still work.
    sm = make_client(server.endpoint, akid, secret, server.region)
    with pytest.raises(ClientError):
        sm.get_secret_value(SecretId="nope")
