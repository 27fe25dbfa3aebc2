"""`GET /metrics` against a real Coffer process: request counters by outcome, the duration
histogram, store gauges, seal state, build info; `--no-metrics`; `/readyz`.

The module runs its own server (fresh data directory) so gauge values are exact. The
exposition is OpenMetrics text; it is parsed with prometheus_client's OpenMetrics parser
(strict: it also checks `# EOF`, suffixes and types) and with its classic text parser.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

from conftest import make_client, start_server
from iam_helpers import Scratch, expect, uid

OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
STATS_TTL = 5.0  # seconds a scrape reuses the store counts of the previous one


def http_get(url: str) -> tuple[int, dict, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()


class Scrape:
    """One parsed scrape: samples by (name, labels)."""

    def __init__(self, text: str):
        self.text = text
        self.families = {f.name: f for f in parse_openmetrics(text)}
        self.samples: dict[tuple[str, frozenset], float] = {}
        for f in self.families.values():
            for s in f.samples:
                self.samples[(s.name, frozenset(s.labels.items()))] = s.value

    def get(self, name: str, **labels) -> float:
        """The sample's value; 0 for a labelled sample not created yet."""
        key = (name, frozenset(labels.items()))
        if key not in self.samples:
            assert labels, f"no sample {name} in:\n{self.text}"
            return 0.0
        return self.samples[key]

    def requests(self, service: str, operation: str, outcome: str, error_code: str = "") -> float:
        return self.get("coffer_requests_total", service=service, operation=operation, outcome=outcome,
                        error_code=error_code)


def scrape(server) -> Scrape:
    status, headers, body = http_get(server.endpoint + "/metrics")
    assert status == 200, body
    assert headers["content-type"] == OPENMETRICS
    return Scrape(body)


@pytest.fixture(scope="module")
def server(workdir):
    s = start_server(workdir / f"metrics-{uid()}")
    try:
        yield s
    finally:
        s.stop()


def test_metrics_count_requests_and_store(server):
    sm = make_client(server.endpoint, server.access_key_id, server.secret_access_key, server.region)
    before = scrape(server)
    scraped_at = time.monotonic()
    assert before.get("coffer_sealed") == 0
    assert before.get("coffer_secrets") == 0
    assert before.get("coffer_secret_versions") == 0
    assert before.get("coffer_secrets_pending_deletion") == 0

    a, b = f"metrics/a-{uid()}", f"metrics/b-{uid()}"
    sm.create_secret(Name=a, SecretString="one")
    sm.put_secret_value(SecretId=a, SecretString="two")
    assert sm.get_secret_value(SecretId=a)["SecretString"] == "two"
    expect("ResourceNotFoundException", sm.get_secret_value, SecretId=f"metrics/missing-{uid()}")
    sm.create_secret(Name=b, SecretString="doomed")
    sm.delete_secret(SecretId=b, RecoveryWindowInDays=7)

    scratch = Scratch(server.endpoint, server.access_key_id, server.secret_access_key)
    try:
        nobody = scratch.user("nometrics")  # no policies at all
        expect("AccessDeniedException", nobody.sm.get_secret_value, SecretId=a)
        # Let the store counts of the first scrape expire.
        time.sleep(max(0.0, STATS_TTL + 0.2 - (time.monotonic() - scraped_at)))
        after = scrape(server)
    finally:
        scratch.cleanup()

    def delta(*args) -> float:
        return after.requests(*args) - before.requests(*args)

    sm_ = "secretsmanager"
    assert delta(sm_, "CreateSecret", "success") == 2
    assert delta(sm_, "PutSecretValue", "success") == 1
    assert delta(sm_, "GetSecretValue", "success") == 1
    assert delta(sm_, "GetSecretValue", "client_error", "ResourceNotFoundException") == 1
    assert delta(sm_, "GetSecretValue", "denied", "AccessDeniedException") == 1
    assert delta(sm_, "DeleteSecret", "success") == 1
    assert delta("iam", "CreateUser", "success") == 1
    assert delta("iam", "CreateAccessKey", "success") == 1
    assert delta("sts", "GetCallerIdentity", "success") >= 2  # Scratch + wait_usable
    # No other failure of a Secrets Manager call was counted.
    failures = {
        (dict(k[1])["operation"], dict(k[1])["error_code"]): v
        for k, v in after.samples.items()
        if k[0] == "coffer_requests_total" and dict(k[1])["service"] == sm_ and dict(k[1])["outcome"] != "success"
    }
    assert failures == {
        ("GetSecretValue", "ResourceNotFoundException"): 1,
        ("GetSecretValue", "AccessDeniedException"): 1,
    }

    # Histogram: every GetSecretValue observed once, buckets cumulative up to +Inf.
    op = {"service": sm_, "operation": "GetSecretValue"}
    assert after.get("coffer_request_duration_seconds_count", **op) == 3
    fam = after.families["coffer_request_duration_seconds"]
    assert fam.type == "histogram" and fam.unit == "seconds"
    buckets = [(s.labels["le"], s.value) for s in fam.samples
               if s.name.endswith("_bucket") and s.labels["operation"] == "GetSecretValue"]
    bounds = [float(le) for le, _ in buckets]
    assert bounds[0] == pytest.approx(50e-6) and bounds[-2] == 5.0 and bounds[-1] == float("inf")
    assert bounds == sorted(bounds)
    counts = [v for _, v in buckets]
    assert counts == sorted(counts) and counts[-1] == 3
    assert after.get("coffer_request_duration_seconds_sum", **op) > 0

    # Store gauges (read at scrape time): a (2 versions) and b (1, scheduled for deletion).
    assert after.get("coffer_secrets") == 2
    assert after.get("coffer_secret_versions") == 3
    assert after.get("coffer_secrets_pending_deletion") == 1
    assert after.get("coffer_sealed") == 0

    # Pre-registered counters of later features, and build info.
    for outcome in ("succeeded", "failed"):
        assert after.get("coffer_rotations_total", outcome=outcome) == 0
    # One audit record per API call, each written before its response (and so before it
    # was counted): the totals agree exactly.
    requests = sum(smp.value for smp in after.families["coffer_requests"].samples
                   if smp.name == "coffer_requests_total")
    assert after.get("coffer_audit_records_total", outcome="written") == requests
    assert after.get("coffer_audit_records_total", outcome="failed") == 0
    build = after.families["coffer_build"]
    assert build.type == "info"
    assert build.samples[0].value == 1 and build.samples[0].labels["version"]

    # The classic text parser reads the same exposition (a Prometheus server accepts both).
    classic = {(s.name, frozenset(s.labels.items())): s.value
               for f in parse_text(after.text) for s in f.samples}
    key = ("coffer_requests_total", frozenset({"service": sm_, "operation": "GetSecretValue",
                                              "outcome": "denied", "error_code": "AccessDeniedException"}.items()))
    assert classic[key] == after.samples[key]
    assert classic[("coffer_secrets", frozenset())] == 2


def test_unknown_operations_are_bounded(server):
    """Operation names outside the known lists are counted as `unknown`."""
    sm = make_client(server.endpoint, server.access_key_id, server.secret_access_key, server.region)
    before = scrape(server)
    # An unsigned request with a made-up target (rejected before authentication).
    req = urllib.request.Request(
        server.endpoint + "/", data=b"{}", method="POST",
        headers={"X-Amz-Target": f"secretsmanager.Made{uid()}Up", "Content-Type": "application/x-amz-json-1.1"},
    )
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 400
    sm.list_secrets()
    after = scrape(server)
    unknown = [dict(k[1]) for k in after.samples
               if k[0] == "coffer_requests_total" and dict(k[1])["operation"] == "unknown"]
    assert len(unknown) == 1 and unknown[0]["service"] == "secretsmanager", unknown
    assert unknown[0]["outcome"] == "client_error"
    assert after.requests("secretsmanager", "ListSecrets", "success") - \
        before.requests("secretsmanager", "ListSecrets", "success") == 1
    assert not any("Made" in dict(k[1]).get("operation", "") for k in after.samples)


def test_readyz_and_healthz(server):
    assert http_get(server.endpoint + "/healthz")[0] == 200
    status, _, body = http_get(server.endpoint + "/readyz")
    assert (status, body) == (200, "ready")


def test_no_metrics_flag(workdir):
    s = start_server(workdir / f"nometrics-{uid()}", "--no-metrics")
    try:
        status, _, body = http_get(s.endpoint + "/metrics")
        assert status != 200 and "No such path" in body
        assert http_get(s.endpoint + "/healthz")[0] == 200
    finally:
        s.stop()
