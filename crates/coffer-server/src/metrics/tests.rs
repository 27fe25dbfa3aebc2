use super::*;
use coffer_store::MemoryStore;

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn exposition_names_labels_and_buckets() {
    let m = Metrics::new();
    m.observe(
        "secretsmanager",
        "GetSecretValue",
        None,
        Duration::from_micros(80),
    );
    m.observe(
        "secretsmanager",
        "GetSecretValue",
        Some("ResourceNotFoundException"),
        Duration::from_millis(2),
    );
    m.observe(
        "iam",
        "CreateUser",
        Some("AccessDenied"),
        Duration::from_millis(1),
    );
    m.observe(
        "sts",
        "GetCallerIdentity",
        Some("ServiceFailure"),
        Duration::from_secs(10),
    );
    m.observe(
        "secretsmanager",
        "NoSuchOperation",
        Some("UnknownOperationException"),
        Duration::ZERO,
    );
    m.observe("nonsense", "Whatever", Some("bad code!"), Duration::ZERO);
    m.rotation(RotationOutcome::Succeeded);
    m.audit(AuditOutcome::Failed);
    m.set_audit_sink_lag("file", 7);
    m.set_store_stats(StoreStats {
        secrets: 3,
        versions: 5,
        pending_deletion: 1,
    });
    let text = m.encode();
    let l = lines(&text);
    let has = |want: &str| assert!(l.contains(&want), "missing {want:?} in:\n{text}");

    has("# TYPE coffer_requests counter");
    has(
        r#"coffer_requests_total{service="secretsmanager",operation="GetSecretValue",outcome="success",error_code=""} 1"#,
    );
    has(
        r#"coffer_requests_total{service="secretsmanager",operation="GetSecretValue",outcome="client_error",error_code="ResourceNotFoundException"} 1"#,
    );
    has(
        r#"coffer_requests_total{service="iam",operation="CreateUser",outcome="denied",error_code="AccessDenied"} 1"#,
    );
    has(
        r#"coffer_requests_total{service="sts",operation="GetCallerIdentity",outcome="server_error",error_code="ServiceFailure"} 1"#,
    );
    has(
        r#"coffer_requests_total{service="secretsmanager",operation="unknown",outcome="client_error",error_code="UnknownOperationException"} 1"#,
    );
    has(
        r#"coffer_requests_total{service="unknown",operation="unknown",outcome="client_error",error_code="other"} 1"#,
    );

    has("# TYPE coffer_request_duration_seconds histogram");
    has("# UNIT coffer_request_duration_seconds seconds");
    let op = r#"service="secretsmanager",operation="GetSecretValue""#;
    // 80 µs and 2 ms: one below 100 µs, both below 2.5 ms.
    has(&format!(
        r#"coffer_request_duration_seconds_bucket{{le="0.00005",{op}}} 0"#
    ));
    has(&format!(
        r#"coffer_request_duration_seconds_bucket{{le="0.0001",{op}}} 1"#
    ));
    has(&format!(
        r#"coffer_request_duration_seconds_bucket{{le="0.001",{op}}} 1"#
    ));
    has(&format!(
        r#"coffer_request_duration_seconds_bucket{{le="0.0025",{op}}} 2"#
    ));
    has(&format!(
        r#"coffer_request_duration_seconds_bucket{{le="5.0",{op}}} 2"#
    ));
    has(&format!(
        r#"coffer_request_duration_seconds_bucket{{le="+Inf",{op}}} 2"#
    ));
    has(&format!(
        r#"coffer_request_duration_seconds_count{{{op}}} 2"#
    ));
    let buckets = l
        .iter()
        .filter(|x| x.starts_with("coffer_request_duration_seconds_bucket") && x.contains(op))
        .count();
    assert_eq!(buckets, DURATION_BUCKETS.len() + 1);
    // 10 s lands only in +Inf.
    let sts = r#"service="sts",operation="GetCallerIdentity""#;
    has(&format!(
        r#"coffer_request_duration_seconds_bucket{{le="5.0",{sts}}} 0"#
    ));
    has(&format!(
        r#"coffer_request_duration_seconds_bucket{{le="+Inf",{sts}}} 1"#
    ));

    has("# TYPE coffer_secrets gauge");
    has("coffer_secrets 3");
    has("coffer_secret_versions 5");
    has("coffer_secrets_pending_deletion 1");
    has("coffer_sealed 0");
    has(r#"coffer_rotations_total{outcome="succeeded"} 1"#);
    has(r#"coffer_rotations_total{outcome="failed"} 0"#);
    has(r#"coffer_audit_records_total{outcome="written"} 0"#);
    has(r#"coffer_audit_records_total{outcome="failed"} 1"#);
    has(r#"coffer_audit_sink_lag_records{sink="file"} 7"#);
    has("# TYPE coffer_build info");
    has(&format!(
        r#"coffer_build_info{{version="{}"}} 1"#,
        env!("CARGO_PKG_VERSION")
    ));
    assert_eq!(l.last(), Some(&"# EOF"));
}

#[test]
fn outcomes() {
    assert_eq!(outcome_of("AccessDeniedException"), "denied");
    assert_eq!(outcome_of("AccessDenied"), "denied");
    assert_eq!(outcome_of("InternalServiceError"), "server_error");
    assert_eq!(outcome_of("ServiceUnavailableException"), "server_error");
    assert_eq!(outcome_of("ServiceFailure"), "server_error");
    assert_eq!(outcome_of("NoSuchEntity"), "client_error");
    assert_eq!(bounded_code(&"A".repeat(65)), "other");
    assert_eq!(bounded_code(""), "other");
}

#[test]
fn known_operations() {
    assert_eq!(known_operation("admin", "Seal"), "Seal");
    assert_eq!(known_operation("admin", "Unseal"), "unknown");
    assert_eq!(known_operation("iam", "ListUsers"), "ListUsers");
    assert_eq!(known_operation("sts", "ListUsers"), "unknown");
    assert_eq!(known_operation("kms", "Encrypt"), "unknown");
    assert!(IAM_OPERATIONS.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn refresh_reads_the_store_at_most_once_per_ttl() {
    let m = Metrics::new();
    let store = MemoryStore::new();
    m.refresh(&store, false).await.unwrap();
    let text = m.encode();
    assert!(text.contains("\ncoffer_sealed 1\n"), "{text}");
    assert!(text.contains("\ncoffer_secrets 0\n"), "{text}");
    // Within the TTL the gauges keep the cached counts.
    m.set_store_stats(StoreStats {
        secrets: 9,
        versions: 9,
        pending_deletion: 9,
    });
    m.refresh(&store, true).await.unwrap();
    let text = m.encode();
    assert!(text.contains("\ncoffer_sealed 0\n"), "{text}");
    assert!(text.contains("\ncoffer_secrets 9\n"), "{text}");
    // Past it, they are read again.
    *m.stats_at.lock().unwrap() = Instant::now().checked_sub(STATS_TTL);
    m.refresh(&store, true).await.unwrap();
    assert!(m.encode().contains("\ncoffer_secrets 0\n"));
}
