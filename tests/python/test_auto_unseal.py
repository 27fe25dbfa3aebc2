"""Auto-unseal through an external KMS: a second Coffer keeps its root key encrypted by a
KMS key of the first and unseals itself at every start, without operators."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

from conftest import coffer_bin, start_server
from iam_helpers import boto_client, expect


def start_auto(data_dir: Path, kms_endpoint: str, key_id: str, key: str, secret: str):
    """`coffer serve` (not --dev) auto-unsealing through `kms_endpoint`; returns
    (proc, endpoint, log path)."""
    log = data_dir.parent / f"auto-{uuid.uuid4().hex[:6]}.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COFFER_"))}
    env.update(COFFER_SEAL_KMS_ACCESS_KEY_ID=key, COFFER_SEAL_KMS_SECRET_ACCESS_KEY=secret, COFFER_LOG="info")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [coffer_bin(), "serve", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0",
             "--seal-kms-endpoint", kms_endpoint, "--seal-kms-key-id", key_id],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if "Coffer listening on " in line:
                return proc, line.split("Coffer listening on ", 1)[1].split()[0], log
        if proc.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace")[-3000:])
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("auto-unseal server did not start")


def status(endpoint: str) -> dict:
    with urllib.request.urlopen(f"{endpoint}/coffer/v1/sys/status", timeout=10) as r:
        return json.loads(r.read())


def wait_unsealed(endpoint: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = status(endpoint)
        if not st["sealed"]:
            return st
        time.sleep(0.2)
    raise AssertionError(f"still sealed: {status(endpoint)}")


def creds_of(log: Path, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = dict(line.strip().split("=", 1) for line in log.read_text(errors="replace").splitlines()
                     if line.strip().startswith(("AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=")))
        if len(found) == 2:
            return found
        time.sleep(0.1)
    raise AssertionError(log.read_text(errors="replace")[-3000:])


def stop(proc) -> None:
    proc.terminate()
    proc.wait(timeout=15)


def test_auto_unseal_from_a_second_coffer(tmp_path):
    kms_server = start_server(tmp_path / "kms")
    try:
        kms = boto_client(kms_server.endpoint, "kms", kms_server.access_key_id, kms_server.secret_access_key)
        key = kms.create_key(Description="root key of another Coffer")["KeyMetadata"]
        other = kms.create_key(Description="not the one")["KeyMetadata"]
        args = (kms_server.endpoint, key["Arn"], kms_server.access_key_id, kms_server.secret_access_key)
        data = tmp_path / "auto"

        proc, endpoint, log = start_auto(data, *args)
        try:
            st = wait_unsealed(endpoint)
            assert st["initialized"] and st["mode"] == "kms"
            c = creds_of(log)
            sm = boto_client(endpoint, "secretsmanager", c["AWS_ACCESS_KEY_ID"], c["AWS_SECRET_ACCESS_KEY"])
            sm.create_secret(Name="auto", SecretString="unsealed by KMS")
        finally:
            stop(proc)
        # The stored root key is encrypted: nothing in the data directory opens it alone.
        assert not (data / "dev-root.key").exists()

        # Restart: unsealed again without anyone, data intact.
        proc, endpoint, log = start_auto(data, *args)
        try:
            wait_unsealed(endpoint)
            sm = boto_client(endpoint, "secretsmanager", c["AWS_ACCESS_KEY_ID"], c["AWS_SECRET_ACCESS_KEY"])
            assert sm.get_secret_value(SecretId="auto")["SecretString"] == "unsealed by KMS"
        finally:
            stop(proc)

        # The external key disabled: the server starts sealed and keeps retrying; enabling
        # the key unseals it.
        kms.disable_key(KeyId=key["KeyId"])
        proc, endpoint, log = start_auto(data, *args)
        try:
            time.sleep(3)
            assert status(endpoint)["sealed"] is True
            sm = boto_client(endpoint, "secretsmanager", c["AWS_ACCESS_KEY_ID"], c["AWS_SECRET_ACCESS_KEY"])
            expect("ServiceUnavailableException", sm.list_secrets)
            assert "auto-unseal failed" in log.read_text(errors="replace")
            kms.enable_key(KeyId=key["KeyId"])
            wait_unsealed(endpoint)
            assert sm.get_secret_value(SecretId="auto")["SecretString"] == "unsealed by KMS"
        finally:
            stop(proc)

        # Another key cannot decrypt it: the server stays sealed.
        proc, endpoint, log = start_auto(data, kms_server.endpoint, other["Arn"], *args[2:])
        try:
            time.sleep(3)
            assert status(endpoint)["sealed"] is True
        finally:
            stop(proc)
    finally:
        kms_server.stop()


def start_plain(data_dir: Path, *extra: str, env_extra: dict | None = None):
    """`coffer serve` without --dev (production start); returns (proc, endpoint, log)."""
    log = data_dir.parent / f"plain-{uuid.uuid4().hex[:6]}.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COFFER_"))}
    env.update(env_extra or {})
    with open(log, "wb") as out:
        proc = subprocess.Popen([coffer_bin(), "serve", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0", *extra],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if "Coffer listening on " in line:
                return proc, line.split("Coffer listening on ", 1)[1].split()[0], log
        if proc.poll() is not None:
            raise RuntimeError(log.read_text(errors="replace")[-3000:])
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COFFER_"))}
    e.update(env or {})
    return subprocess.run([coffer_bin(), *args], env=e, capture_output=True, text=True, timeout=60)


def shares_in(out: str) -> list[str]:
    return [line.split(": ", 1)[1].strip() for line in out.splitlines() if line.startswith("Unseal share ")]


def test_seal_migration_shamir_to_kms_and_back(tmp_path):
    kms_server = start_server(tmp_path / "kms")
    try:
        kms = boto_client(kms_server.endpoint, "kms", kms_server.access_key_id, kms_server.secret_access_key)
        key = kms.create_key(Description="auto-unseal")["KeyMetadata"]["Arn"]
        kms_flags = ("--seal-kms-endpoint", kms_server.endpoint, "--seal-kms-key-id", key)
        kms_env = {"COFFER_SEAL_KMS_ACCESS_KEY_ID": kms_server.access_key_id,
                   "COFFER_SEAL_KMS_SECRET_ACCESS_KEY": kms_server.secret_access_key}
        data = tmp_path / "node"

        # Shamir: init, a secret.
        proc, ep, _ = start_plain(data)
        init = cli("operator", "init", "--endpoint", ep, "--shares", "3", "--threshold", "2")
        assert init.returncode == 0, init.stderr
        shares = shares_in(init.stdout)
        root = dict(line.strip().split("=", 1) for line in init.stdout.splitlines()
                    if line.strip().startswith(("AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=")))
        admin = {"AWS_ACCESS_KEY_ID": root["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY": root["AWS_SECRET_ACCESS_KEY"],
                 "AWS_DEFAULT_REGION": "us-east-1"}
        sm = lambda e: boto_client(e, "secretsmanager", root["AWS_ACCESS_KEY_ID"], root["AWS_SECRET_ACCESS_KEY"])  # noqa: E731
        sm(ep).create_secret(Name="migrating", SecretString="same data throughout")
        stop(proc)

        # Restarted with the external KMS configured: shares still needed until migrated.
        proc, ep, log = start_plain(data, *kms_flags, env_extra=kms_env)
        time.sleep(1)
        assert status(ep)["sealed"] is True and status(ep)["mode"] == "shamir"
        for s in shares[:2]:
            assert cli("operator", "unseal", "--endpoint", ep, s).returncode == 0
        wait_unsealed(ep)
        r = cli("operator", "migrate-seal", "--endpoint", ep, "--to", "kms", env=admin)
        assert r.returncode == 0, r.stderr
        assert key in r.stdout
        stop(proc)

        # Auto-unsealed from now on; the old shares are not asked for.
        proc, ep, _ = start_plain(data, *kms_flags, env_extra=kms_env)
        assert wait_unsealed(ep)["mode"] == "kms"
        assert sm(ep).get_secret_value(SecretId="migrating")["SecretString"] == "same data throughout"
        r = cli("operator", "migrate-seal", "--endpoint", ep, "--to", "shamir", "--shares", "3", "--threshold", "2",
                env=admin)
        assert r.returncode == 0, r.stderr
        new_shares = shares_in(r.stdout)
        assert len(new_shares) == 3 and not set(new_shares) & set(shares)
        stop(proc)

        # Back on shares (new ones), without the KMS.
        proc, ep, _ = start_plain(data)
        assert status(ep)["sealed"] is True
        for s in new_shares[1:]:
            assert cli("operator", "unseal", "--endpoint", ep, s).returncode == 0
        wait_unsealed(ep)
        assert sm(ep).get_secret_value(SecretId="migrating")["SecretString"] == "same data throughout"
        stop(proc)
    finally:
        kms_server.stop()
