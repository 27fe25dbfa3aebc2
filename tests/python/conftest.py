"""Fixtures that run a real `coffer serve --dev` process and point AWS clients at it.

The server binary comes from $COFFER_BIN (default: target/debug/coffer, relative to the
repository root). Each pytest session starts one server in a temporary data directory on a
free loopback port; tests use unique secret names so they never see each other's data.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]

_KEY_RE = re.compile(r"^\s*(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_DEFAULT_REGION)=(\S+)\s*$")
_LISTEN_RE = re.compile(r"Coffer listening on (https?://\S+)")


def coffer_bin() -> str:
    """Absolute path of the coffer binary under test."""
    raw = os.environ.get("COFFER_BIN") or "target/debug/coffer"
    p = Path(raw)
    if not p.is_absolute():
        p = REPO / p
    if not p.is_file():
        pytest.exit(f"coffer binary not found at {p}: build it (cargo build -p coffer-cli) or set COFFER_BIN", 2)
    return str(p)


@dataclass
class CofferServer:
    """A running `coffer serve --dev` process and the root credentials it printed."""

    endpoint: str
    access_key_id: str
    secret_access_key: str
    region: str
    data_dir: Path
    proc: subprocess.Popen
    stdout_path: Path
    stderr_path: Path
    extra: dict = field(default_factory=dict)

    @property
    def port(self) -> int:
        return int(self.endpoint.rsplit(":", 1)[1])

    def env(self, **overrides: str) -> dict:
        """An environment for AWS clients that holds only this server's credentials."""
        return client_env(self.access_key_id, self.secret_access_key, self.region, **overrides)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""


def client_env(access_key_id: str, secret_access_key: str, region: str = "us-east-1", **overrides: str) -> dict:
    """os.environ without any AWS_* settings, plus the given credentials; ~/.aws ignored."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=access_key_id,
        AWS_SECRET_ACCESS_KEY=secret_access_key,
        AWS_DEFAULT_REGION=region,
        AWS_REGION=region,
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_PAGER="",
    )
    env.update(overrides)
    return env


def start_server(data_dir: Path, *extra_args: str, timeout: float = 60.0, env: dict | None = None) -> CofferServer:
    """Starts `coffer serve --dev` on a free port (port 0) and waits for its banner; `env`
    adds (or overrides) environment variables of the server process (e.g. COFFER_LOG)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    out_path = data_dir.parent / f"{data_dir.name}.stdout"
    err_path = data_dir.parent / f"{data_dir.name}.stderr"
    out = open(out_path, "wb")
    err = open(err_path, "wb")
    extra_env = env or {}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COFFER_"))}
    env.setdefault("COFFER_LOG", "info")
    env.update(extra_env)
    cmd = [coffer_bin(), "serve", "--dev", "--data-dir", str(data_dir), "--listen", "127.0.0.1:0", *extra_args]
    proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env)
    out.close()
    err.close()
    creds: dict[str, str] = {}
    endpoint = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = out_path.read_text(errors="replace")
        for line in text.splitlines():
            m = _KEY_RE.match(line)
            if m:
                creds[m.group(1)] = m.group(2)
            m = _LISTEN_RE.search(line)
            if m:
                endpoint = m.group(1)
        if endpoint:
            break
        if proc.poll() is not None:
            raise RuntimeError(
                f"coffer exited with {proc.returncode} before listening:\n{err_path.read_text(errors='replace')[-3000:]}"
            )
        time.sleep(0.05)
    if not endpoint:
        proc.kill()
        raise RuntimeError(f"coffer did not print its listening address within {timeout}s")
    missing = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} - creds.keys()
    if missing:
        proc.kill()
        raise RuntimeError(f"coffer --dev did not print {sorted(missing)} on first start:\n{text}")
    return CofferServer(
        endpoint=endpoint,
        access_key_id=creds["AWS_ACCESS_KEY_ID"],
        secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        region=creds.get("AWS_DEFAULT_REGION", "us-east-1"),
        data_dir=data_dir,
        proc=proc,
        stdout_path=out_path,
        stderr_path=err_path,
    )


@pytest.fixture(scope="session")
def workdir():
    d = Path(tempfile.mkdtemp(prefix="coffer-pytest-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def coffer(workdir):
    """The session's server: endpoint and root credentials of its admin account."""
    server = start_server(workdir / "data")
    try:
        yield server
    finally:
        server.stop()
        rc = server.proc.returncode
        # A clean shutdown on SIGTERM is part of the contract.
        assert rc == 0, f"coffer exited with {rc} on SIGTERM:\n{server.log_tail()}"


def make_client(endpoint: str, access_key_id: str, secret_access_key: str, region: str = "us-east-1", **kw):
    """A boto3 Secrets Manager client with no retries (errors surface at once)."""
    validate = kw.pop("parameter_validation", True)
    verify = kw.pop("verify", None)
    cfg = Config(
        retries={"max_attempts": 1, "mode": "standard"},
        parameter_validation=validate,
        connect_timeout=10,
        read_timeout=30,
    )
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region,
    )
    return session.client("secretsmanager", endpoint_url=endpoint, config=cfg, verify=verify, **kw)


@pytest.fixture(scope="session")
def sm(coffer):
    """boto3 client for the root account, region us-east-1 (retries: 1 attempt)."""
    return make_client(coffer.endpoint, coffer.access_key_id, coffer.secret_access_key, coffer.region)


@pytest.fixture(scope="session")
def sm_raw(coffer):
    """Like `sm` but without botocore's client-side parameter validation, so the server's
    own validation can be exercised (e.g. PasswordLength=0)."""
    return make_client(
        coffer.endpoint, coffer.access_key_id, coffer.secret_access_key, coffer.region, parameter_validation=False
    )


@pytest.fixture
def name(request):
    """A fresh secret name unique to the test (letters, digits and `/_-` only)."""
    base = re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name)[:60]
    return f"pytest/{base}/{uuid.uuid4().hex[:10]}"


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class AwsCli:
    """Runs `aws --endpoint-url ENDPOINT secretsmanager ...` with only this server's creds."""

    def __init__(self, endpoint: str, env: dict):
        self.endpoint = endpoint
        self.env = env
        # Prefer the aws next to the running interpreter (the venv's), then PATH.
        beside = Path(sys.executable).parent / "aws"
        self.exe = str(beside) if beside.is_file() else shutil.which("aws", path=env.get("PATH"))
        if not self.exe:
            pytest.skip("aws CLI not installed (pip install -r tests/python/requirements.txt)")

    def __call__(self, *args: str, check: bool = True, output: str = "json", env: dict | None = None,
                 cwd: str | None = None, timeout: float = 60) -> CliResult:
        cmd = [self.exe, "--endpoint-url", self.endpoint, "--output", output, "secretsmanager", *args]
        p = subprocess.run(
            cmd, env=env or self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
            cwd=cwd, timeout=timeout,
        )
        r = CliResult(p.returncode, p.stdout, p.stderr)
        if check and p.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed ({p.returncode}):\n{p.stderr}")
        return r


@pytest.fixture(scope="session")
def aws(coffer):
    """Helper running the aws CLI against the session's server."""
    return AwsCli(coffer.endpoint, coffer.env())


def force_delete(client, *ids: str) -> None:
    for i in ids:
        try:
            client.delete_secret(SecretId=i, ForceDeleteWithoutRecovery=True)
        except client.exceptions.ResourceNotFoundException:
            pass
