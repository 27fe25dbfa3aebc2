"""Audit sinks end to end: file (rotated), syslog over UDP, a signed webhook and stdout
receive every audit record in sequence order, never a secret value, and resume after a
restart without loss or duplication."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import socket
import stat
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from botocore.exceptions import ClientError

from conftest import _LISTEN_RE, coffer_bin, make_client, start_server

SYSLOG_RE = re.compile(
    r'^<(\d+)>1 (\S+) (\S+) coffer (\d+) AUDIT '
    r'\[coffer@32473 seq="(\d+)" eventName="([^"]*)" account="([^"]*)"\] (.*)$',
    re.S,
)
SECRET = "sink-webhook-secret-" + uuid.uuid4().hex


class UdpReceiver:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.messages: list[str] = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data, _ = self.sock.recvfrom(70000)
            except socket.timeout:
                continue
            self.messages.append(data.decode())


class Webhook:
    """Answers 503 to the first POST, then verifies signatures and keeps the records."""

    def __init__(self):
        self.records: list[dict] = []
        self.posts = 0
        self.refused = 0
        self.bad_signatures = 0
        self.raw: list[bytes] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts += 1
                outer.raw.append(body)
                if outer.posts == 1:
                    outer.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    return
                if not verify(self.headers.get("X-Coffer-Signature", ""), body):
                    outer.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                outer.records.extend(json.loads(body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def verify(header: str, body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t = parts.get("t", "")
    if not t.isdigit() or abs(time.time() - int(t)) > 300:
        return False
    want = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, parts.get("v1", ""))


def export_ids(data_dir: Path) -> list[str]:
    out = subprocess.run(
        [coffer_bin(), "audit", "export", "--data-dir", str(data_dir)],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    return [json.loads(line)["eventID"] for line in out.splitlines() if line.strip()]


def file_records(path: Path) -> list[dict]:
    rotated = sorted(path.parent.glob(path.name + ".*"), key=lambda p: -int(p.suffix[1:]))
    out = []
    for p in [*rotated, path]:
        out.extend(json.loads(line) for line in p.read_text().splitlines() if line.strip())
    return out


def stdout_records(*paths: Path) -> list[dict]:
    out = []
    for p in paths:
        for line in p.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                out.append(json.loads(line))
    return out


def syslog_records(udp: UdpReceiver) -> list[dict]:
    out = []
    for m in list(udp.messages):
        g = SYSLOG_RE.match(m)
        assert g, f"not an RFC 5424 audit message: {m[:200]!r}"
        pri, ts, _host, _pid, seq, event_name, account, body = g.groups()
        rec = json.loads(body)
        assert rec["eventName"] == event_name and rec["recipientAccountId"] == account
        assert ts == rec["eventTime"]
        assert int(pri) == 10 * 8 + (4 if rec.get("errorCode") else 5), (pri, rec.get("errorCode"))
        rec["_seq"] = int(seq)
        out.append(rec)
    return out


def restart(server, data_dir: Path, args: list[str], env: dict, tag: str):
    """Starts the same data directory again (dev mode prints no credentials this time)."""
    out_path = data_dir.parent / f"{tag}.stdout"
    err_path = data_dir.parent / f"{tag}.stderr"
    penv = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COFFER_"))}
    penv.update(COFFER_LOG="info", **env)
    port = server.port
    cmd = [coffer_bin(), "serve", "--dev", "--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}", *args]
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=penv)
    deadline = time.monotonic() + 60
    while not _LISTEN_RE.search(out_path.read_text(errors="replace")):
        assert proc.poll() is None, err_path.read_text()
        assert time.monotonic() < deadline, "restart timed out"
        time.sleep(0.05)
    return proc, out_path, err_path


def wait_for(pred, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def calls(sm, canary: str, tag: str):
    name = f"pytest/sinks/{tag}/{uuid.uuid4().hex[:8]}"
    sm.create_secret(Name=name, SecretString=canary)
    sm.get_secret_value(SecretId=name)
    sm.put_secret_value(SecretId=name, SecretString=canary + "-v2")
    sm.describe_secret(SecretId=name)
    sm.list_secrets(MaxResults=5)
    try:
        sm.get_secret_value(SecretId=name + "-missing")
    except ClientError:
        pass
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def test_sinks_deliver_everything_in_order_and_resume(tmp_path):
    udp = UdpReceiver()
    hook = Webhook()
    data_dir = tmp_path / "data"
    audit_file = tmp_path / "audit" / "audit.jsonl"
    audit_file.parent.mkdir()
    args = [
        "--audit-sink", f"file:{audit_file}?max_bytes=4096&max_files=200&from=start",
        "--audit-sink", f"syslog+udp://127.0.0.1:{udp.port}?from=start",
        "--audit-sink", f"webhook:http://127.0.0.1:{hook.port}/audit?batch=5&interval_ms=200&secret_env=SINK_SECRET&from=start",
        "--audit-sink", "stdout:?from=start",
    ]
    env = {"SINK_SECRET": SECRET}
    canary = "canary-" + uuid.uuid4().hex
    server = start_server(data_dir, *args, env=env)
    stdouts, stderrs = [server.stdout_path], [server.stderr_path]
    proc = server.proc
    try:
        sm = make_client(server.endpoint, server.access_key_id, server.secret_access_key, server.region)
        calls(sm, canary, "one")

        def complete():
            ids = export_ids(data_dir)
            return ids if all(
                [r["eventID"] for r in recs] == ids
                for recs in (file_records(audit_file), syslog_records(udp), hook.records, stdout_records(*stdouts))
            ) else None

        wait_for(complete, what="every sink to hold every record")
        assert hook.refused == 1 and hook.posts >= 2, "the webhook was retried after its 503"
        assert hook.bad_signatures == 0
        assert list(audit_file.parent.glob("audit.jsonl.*")), "the file sink rotated"
        for p in audit_file.parent.iterdir():
            assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
        seqs = [r["_seq"] for r in syslog_records(udp)]
        assert seqs == list(range(1, len(seqs) + 1))
        assert any(r.get("errorCode") for r in hook.records), "a failed call was recorded"

        # Restart: the sinks continue from their cursors.
        server.stop()
        assert proc.returncode == 0
        proc, out2, err2 = restart(server, data_dir, args, env, "data-run2")
        stdouts.append(out2)
        stderrs.append(err2)
        calls(sm, canary, "two")
        wait_for(complete, what="every sink to hold every record after the restart")
        ids = export_ids(data_dir)
        assert len(ids) == len(set(ids))
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=15)
        udp.stop = True
        hook.server.shutdown()

    # No secret value anywhere.
    texts = [p.read_text(errors="replace") for p in audit_file.parent.iterdir()]
    texts += [p.read_text(errors="replace") for p in stdouts + stderrs]
    texts += udp.messages + [b.decode(errors="replace") for b in hook.raw]
    for t in texts:
        assert canary not in t
