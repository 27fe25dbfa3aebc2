"""`coffer serve --log-format json`: stderr is one JSON object per line (tracing's JSON
format), request events carry their fields, and a secret value never reaches the log."""

from __future__ import annotations

import json

from conftest import make_client, start_server
from iam_helpers import uid


def test_json_logs_are_json_and_never_hold_secret_values(workdir):
    # Debug level: the per-request events are logged too.
    server = start_server(workdir / f"jsonlog-{uid()}", "--log-format", "json", env={"COFFER_LOG": "debug"})
    canary = f"canary-{uid(16)}-value"
    name = f"jsonlog/{uid()}"
    try:
        sm = make_client(server.endpoint, server.access_key_id, server.secret_access_key, server.region)
        sm.create_secret(Name=name, SecretString="placeholder")
        sm.put_secret_value(SecretId=name, SecretString=canary)
        assert sm.get_secret_value(SecretId=name)["SecretString"] == canary
    finally:
        server.stop()
    assert server.proc.returncode == 0, server.log_tail()

    stderr = server.stderr_path.read_text()
    stdout = server.stdout_path.read_text()
    assert canary not in stderr and canary not in stdout

    lines = stderr.splitlines()
    assert lines, "no log lines"
    events = []
    for i, line in enumerate(lines):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise AssertionError(f"log line {i + 1} is not JSON ({e}): {line!r}") from None
        assert isinstance(obj, dict), line
        for key in ("timestamp", "level", "fields", "target"):
            assert key in obj, f"{key!r} missing in {line!r}"
        events.append(obj)

    # The dev-mode warning is an event too, not a text banner.
    assert any(e["level"] == "WARN" and "--dev" in e["fields"].get("message", "") for e in events)
    # Request events carry structured fields.
    requests = [e["fields"] for e in events if e["fields"].get("message") == "request"]
    targets = {f.get("target") for f in requests}
    assert {"secretsmanager.PutSecretValue", "secretsmanager.GetSecretValue"} <= targets, targets
    for f in requests:
        assert f["status"] == 200 and f["request_id"] and isinstance(f["micros"], int)
