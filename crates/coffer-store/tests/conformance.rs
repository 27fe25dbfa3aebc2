//! Backend-independent conformance suite for [`Store`].
//!
//! [`run_all`] takes any store and checks the trait's contract; each check uses its own
//! account ids, so one store instance serves the whole suite. A new backend adds one
//! `#[tokio::test]` that calls `run_all` with a fresh instance.

use std::sync::Arc;

use coffer_audit::{DigestSigner, GENESIS, verify};
use coffer_core::{SealedValue, SecretRecord, SecretState, Tag, ValueKind, VersionRecord};
use coffer_store::{
    AccessKeyRecord, AccessKeyUse, AccountRecord, Anchor, AuditAttribute, AuditEntry, AuditQuery,
    AuditRow, Change, IamWrite, KmsAliasRecord, KmsKeyRecord, Lookup, MemoryStore, NewVersion,
    SqliteStore, Store, StoreError, VersionSelector,
};

const REGION: &str = "us-east-1";
const KMS: &str = "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000001";

// --- fixtures ----------------------------------------------------------------------------

fn secret(account: &str, region: &str, name: &str, created_ms: i64) -> SecretRecord {
    SecretRecord {
        arn: format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf"),
        account_id: account.into(),
        region: region.into(),
        name: name.into(),
        description: Some("a description".into()),
        kms_key_id: None,
        tags: vec![
            Tag {
                key: "team".into(),
                value: "core".into(),
            },
            Tag {
                key: "env".into(),
                value: String::new(),
            },
        ],
        created_ms,
        last_changed_ms: created_ms,
        last_accessed_ms: None,
        deleted_ms: None,
        deletion_ms: None,
        revision: 1,
        extra: serde_json::json!({"rotation": null}),
    }
}

fn version(id: &str, stages: &[&str], created_ms: i64) -> NewVersion {
    NewVersion {
        record: VersionRecord {
            version_id: id.into(),
            stages: stages.iter().map(|s| s.to_string()).collect(),
            created_ms,
            last_accessed_ms: None,
            kms_key_arn: KMS.into(),
        },
        sealed: SealedValue {
            kind: ValueKind::String,
            kms_key_arn: KMS.into(),
            key_generation: 1,
            wrapped_dek: format!("dek-{id}").into_bytes(),
            ciphertext: format!("ct-{id}").into_bytes(),
        },
    }
}

fn vid(n: u32) -> String {
    format!("{n:08}-0000-4000-8000-000000000000")
}

async fn load_arn(store: &dyn Store, arn: &str) -> Option<SecretState> {
    store.load(&Lookup::Arn(arn.into())).await.unwrap()
}

/// Creates a secret with one AWSCURRENT version `vid(1)`.
async fn create_with_version(store: &dyn Store, s: &SecretRecord) {
    store
        .commit(Change::Create {
            secret: s.clone(),
            version: Some(version(&vid(1), &["AWSCURRENT"], s.created_ms)),
        })
        .await
        .unwrap();
}

/// `s` with the revision bumped, as an Update sends it.
fn bumped(s: &SecretRecord) -> SecretRecord {
    SecretRecord {
        revision: s.revision + 1,
        last_changed_ms: s.last_changed_ms + 1,
        ..s.clone()
    }
}

// --- the suite ----------------------------------------------------------------------------

/// Runs every conformance check against `store`.
pub async fn run_all(store: Arc<dyn Store>) {
    let s = store.as_ref();
    create_and_load(s).await;
    name_taken_and_arn_conflict(s).await;
    update_revisions(s).await;
    update_versions_atomically(s).await;
    load_with_value(s).await;
    failed_update_rolls_back(s).await;
    purge(s).await;
    list_order_and_isolation(s).await;
    due_for_purge(s).await;
    stats(s).await;
    touch_accessed(s).await;
    meta(s).await;
    accounts_and_access_keys(s).await;
    kms_keys(s).await;
    iam_entities(s).await;
    audit_log(s).await;
    kms_key_lifecycle(s).await;
    reseal(s).await;
    concurrent_updates(Arc::clone(&store)).await;
}

async fn create_and_load(store: &dyn Store) {
    let s = secret("100000000001", REGION, "app/db", 1_000);
    create_with_version(store, &s).await;

    let by_arn = load_arn(store, &s.arn).await.expect("by arn");
    assert_eq!(by_arn.secret, s);
    assert_eq!(
        by_arn.versions,
        vec![version(&vid(1), &["AWSCURRENT"], 1_000).record]
    );

    let by_name = store
        .load(&Lookup::Name {
            account_id: s.account_id.clone(),
            region: REGION.into(),
            name: "app/db".into(),
        })
        .await
        .unwrap()
        .expect("by name");
    assert_eq!(by_name, by_arn);

    let sealed = store.sealed_value(&s.arn, &vid(1)).await.unwrap().unwrap();
    assert_eq!(sealed, version(&vid(1), &[], 0).sealed);
    assert!(store.sealed_value(&s.arn, &vid(9)).await.unwrap().is_none());
    assert!(
        store
            .sealed_value("arn:nope", &vid(1))
            .await
            .unwrap()
            .is_none()
    );

    // Not found: wrong name, other account, other region, unknown ARN.
    for (account, region, name) in [
        ("100000000001", REGION, "app/DB"),
        ("100000000002", REGION, "app/db"),
        ("100000000001", "eu-west-1", "app/db"),
    ] {
        let lookup = Lookup::Name {
            account_id: account.into(),
            region: region.into(),
            name: name.into(),
        };
        assert!(store.load(&lookup).await.unwrap().is_none(), "{lookup:?}");
    }
    assert!(load_arn(store, "arn:nope").await.is_none());

    // A secret without a value, with empty tags, binary values and no description.
    let mut bare = secret("100000000001", REGION, "bare", 2_000);
    bare.tags.clear();
    bare.description = None;
    bare.extra = serde_json::Value::Null;
    store
        .commit(Change::Create {
            secret: bare.clone(),
            version: None,
        })
        .await
        .unwrap();
    let loaded = load_arn(store, &bare.arn).await.unwrap();
    assert_eq!(loaded.secret, bare);
    assert!(loaded.versions.is_empty());

    let mut bin = version(&vid(2), &["AWSCURRENT"], 2_001);
    bin.sealed.kind = ValueKind::Binary;
    bin.sealed.key_generation = 7;
    bin.sealed.ciphertext = vec![0, 255, 1, 254];
    let mut next = bumped(&bare);
    next.kms_key_id = Some("alias/mine".into());
    store
        .commit(Change::Update {
            secret: next.clone(),
            expected_revision: 1,
            new_version: Some(bin.clone()),
            set_stages: vec![],
            delete_versions: vec![],
        })
        .await
        .unwrap();
    assert_eq!(
        store.sealed_value(&bare.arn, &vid(2)).await.unwrap(),
        Some(bin.sealed)
    );
    assert_eq!(load_arn(store, &bare.arn).await.unwrap().secret, next);
}

async fn name_taken_and_arn_conflict(store: &dyn Store) {
    let s = secret("100000000003", REGION, "taken", 1_000);
    create_with_version(store, &s).await;

    // Same name, different ARN.
    let mut other = secret("100000000003", REGION, "taken", 2_000);
    other.arn.push('x');
    let err = store
        .commit(Change::Create {
            secret: other.clone(),
            version: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NameTaken), "{err:?}");

    // Same ARN, different name.
    let mut dup = secret("100000000003", REGION, "another", 2_000);
    dup.arn = s.arn.clone();
    let err = store
        .commit(Change::Create {
            secret: dup,
            version: Some(version(&vid(5), &["AWSCURRENT"], 2_000)),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");

    // A secret scheduled for deletion still holds its name.
    let mut deleted = bumped(&s);
    deleted.deleted_ms = Some(5_000);
    deleted.deletion_ms = Some(10_000);
    commit_update(store, &deleted, 1).await.unwrap();
    let err = store
        .commit(Change::Create {
            secret: other,
            version: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NameTaken), "{err:?}");

    // Unchanged by the failures.
    let state = load_arn(store, &s.arn).await.unwrap();
    assert_eq!(state.secret, deleted);
    assert_eq!(state.versions.len(), 1);

    // The same name is free in another account and region.
    create_with_version(store, &secret("100000000004", REGION, "taken", 1_000)).await;
    create_with_version(store, &secret("100000000003", "eu-west-1", "taken", 1_000)).await;

    // Renaming onto a taken name is NameTaken and changes nothing.
    let b = secret("100000000003", REGION, "b", 3_000);
    create_with_version(store, &b).await;
    let mut renamed = bumped(&b);
    renamed.name = "taken".into();
    let err = commit_update(store, &renamed, 1).await.unwrap_err();
    assert!(matches!(err, StoreError::NameTaken), "{err:?}");
    assert_eq!(load_arn(store, &b.arn).await.unwrap().secret, b);
}

async fn commit_update(
    store: &dyn Store,
    secret: &SecretRecord,
    expected_revision: i64,
) -> Result<(), StoreError> {
    store
        .commit(Change::Update {
            secret: secret.clone(),
            expected_revision,
            new_version: None,
            set_stages: vec![],
            delete_versions: vec![],
        })
        .await
}

async fn update_revisions(store: &dyn Store) {
    let s = secret("100000000005", REGION, "rev", 1_000);
    create_with_version(store, &s).await;

    let mut next = bumped(&s);
    next.description = Some("changed".into());
    next.tags = vec![Tag {
        key: "k".into(),
        value: "v".into(),
    }];
    next.extra = serde_json::json!({"rotation": {"days": 30}});
    commit_update(store, &next, 1).await.unwrap();
    assert_eq!(load_arn(store, &s.arn).await.unwrap().secret, next);

    // Stale revision: Conflict, nothing changes (not even the version it carries).
    let before = load_arn(store, &s.arn).await.unwrap();
    let mut stale = bumped(&s);
    stale.description = Some("lost".into());
    let err = store
        .commit(Change::Update {
            secret: stale,
            expected_revision: 1,
            new_version: Some(version(&vid(2), &["AWSCURRENT"], 2_000)),
            set_stages: vec![(vid(1), vec!["AWSPREVIOUS".into()])],
            delete_versions: vec![vid(1)],
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert_eq!(load_arn(store, &s.arn).await.unwrap(), before);
    assert!(store.sealed_value(&s.arn, &vid(2)).await.unwrap().is_none());
    assert!(store.sealed_value(&s.arn, &vid(1)).await.unwrap().is_some());

    // Update of a missing secret: NotFound.
    let ghost = bumped(&secret("100000000005", REGION, "ghost", 1_000));
    let err = commit_update(store, &ghost, 1).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");

    // A malformed update (revision not expected + 1) is refused without changes.
    let mut bad = next.clone();
    bad.revision = 5;
    assert!(commit_update(store, &bad, 2).await.is_err());
    assert_eq!(load_arn(store, &s.arn).await.unwrap().secret, next);
}

async fn update_versions_atomically(store: &dyn Store) {
    let s = secret("100000000006", REGION, "rotate", 1_000);
    create_with_version(store, &s).await;
    let mut cur = s.clone();
    // PutSecretValue x3 with label moves; keep only two versions.
    for n in 2..=4u32 {
        let next = bumped(&cur);
        let previous = vid(n - 1);
        let mut delete = vec![];
        let mut set_stages = vec![(previous.clone(), vec!["AWSPREVIOUS".to_string()])];
        if n > 2 {
            delete.push(vid(n - 2));
        } else {
            set_stages.push((
                previous.clone(),
                vec!["AWSPREVIOUS".into(), "custom".into()],
            ));
        }
        store
            .commit(Change::Update {
                secret: next.clone(),
                expected_revision: cur.revision,
                new_version: Some(version(&vid(n), &["AWSCURRENT"], 1_000 + i64::from(n))),
                set_stages,
                delete_versions: delete,
            })
            .await
            .unwrap();
        cur = next;
    }
    let state = load_arn(store, &s.arn).await.unwrap();
    assert_eq!(state.secret.revision, 4);
    let ids: Vec<_> = state
        .versions
        .iter()
        .map(|v| v.version_id.clone())
        .collect();
    assert_eq!(ids, vec![vid(3), vid(4)], "oldest first");
    assert_eq!(state.versions[0].stages, vec!["AWSPREVIOUS"]);
    assert_eq!(state.versions[1].stages, vec!["AWSCURRENT"]);
    assert_eq!(
        state.version_with_label("AWSCURRENT").unwrap().version_id,
        vid(4)
    );
    for gone in [vid(1), vid(2)] {
        assert!(store.sealed_value(&s.arn, &gone).await.unwrap().is_none());
    }

    // set_stages may name the version inserted by the same change; versions with the same
    // creation time stay in insertion order.
    let next = bumped(&cur);
    store
        .commit(Change::Update {
            secret: next.clone(),
            expected_revision: cur.revision,
            new_version: Some(version(&vid(5), &[], 1_004)),
            set_stages: vec![(vid(5), vec!["AWSPENDING".into()])],
            delete_versions: vec![],
        })
        .await
        .unwrap();
    let state = load_arn(store, &s.arn).await.unwrap();
    let ids: Vec<_> = state
        .versions
        .iter()
        .map(|v| v.version_id.clone())
        .collect();
    assert_eq!(ids, vec![vid(3), vid(4), vid(5)]);
    assert_eq!(state.versions[2].stages, vec!["AWSPENDING"]);

    // Deleting a version that does not exist is not an error.
    let last = bumped(&next);
    store
        .commit(Change::Update {
            secret: last,
            expected_revision: next.revision,
            new_version: None,
            set_stages: vec![],
            delete_versions: vec![vid(99)],
        })
        .await
        .unwrap();
}

async fn load_with_value(store: &dyn Store) {
    let s = secret("100000000014", REGION, "with-value", 1_000);
    create_with_version(store, &s).await;
    let next = bumped(&s);
    store
        .commit(Change::Update {
            secret: next.clone(),
            expected_revision: 1,
            new_version: Some(version(&vid(2), &["AWSCURRENT"], 2_000)),
            set_stages: vec![(vid(1), vec!["AWSPREVIOUS".into()])],
            delete_versions: vec![],
        })
        .await
        .unwrap();
    let by_name = Lookup::Name {
        account_id: s.account_id.clone(),
        region: REGION.into(),
        name: s.name.clone(),
    };
    let stage = |l: &str| VersionSelector::Stage(l.into());
    for lookup in [Lookup::Arn(s.arn.clone()), by_name] {
        let (state, sealed) = store
            .load_with_value(&lookup, &stage("AWSCURRENT"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(state, load_arn(store, &s.arn).await.unwrap());
        assert_eq!(sealed, Some(version(&vid(2), &[], 0).sealed));
    }
    let arn = Lookup::Arn(s.arn.clone());
    let (_, sealed) = store
        .load_with_value(&arn, &stage("AWSPREVIOUS"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sealed, Some(version(&vid(1), &[], 0).sealed));
    let (_, sealed) = store
        .load_with_value(&arn, &VersionSelector::Id(vid(1)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sealed, Some(version(&vid(1), &[], 0).sealed));
    let (state, sealed) = store
        .load_with_value(&arn, &stage("AWSPENDING"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.secret, next);
    assert!(sealed.is_none());
    assert!(
        store
            .load_with_value(&Lookup::Arn("arn:nope".into()), &stage("AWSCURRENT"))
            .await
            .unwrap()
            .is_none()
    );
}

async fn failed_update_rolls_back(store: &dyn Store) {
    let s = secret("100000000007", REGION, "rollback", 1_000);
    create_with_version(store, &s).await;
    let before = load_arn(store, &s.arn).await.unwrap();

    // Correct revision, but set_stages names a missing version: everything rolls back.
    let err = store
        .commit(Change::Update {
            secret: bumped(&s),
            expected_revision: 1,
            new_version: Some(version(&vid(2), &["AWSCURRENT"], 2_000)),
            set_stages: vec![(vid(42), vec!["AWSPREVIOUS".into()])],
            delete_versions: vec![vid(1)],
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
    assert_eq!(load_arn(store, &s.arn).await.unwrap(), before);
    assert!(store.sealed_value(&s.arn, &vid(2)).await.unwrap().is_none());

    // Inserting a version id that exists: Conflict, rolled back.
    let err = store
        .commit(Change::Update {
            secret: bumped(&s),
            expected_revision: 1,
            new_version: Some(version(&vid(1), &["AWSCURRENT"], 2_000)),
            set_stages: vec![],
            delete_versions: vec![],
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert_eq!(load_arn(store, &s.arn).await.unwrap(), before);
    assert_eq!(
        store.sealed_value(&s.arn, &vid(1)).await.unwrap(),
        Some(version(&vid(1), &[], 0).sealed)
    );
}

async fn purge(store: &dyn Store) {
    let s = secret("100000000008", REGION, "purge-me", 1_000);
    create_with_version(store, &s).await;
    store
        .commit(Change::Purge { arn: s.arn.clone() })
        .await
        .unwrap();
    assert!(load_arn(store, &s.arn).await.is_none());
    assert!(store.sealed_value(&s.arn, &vid(1)).await.unwrap().is_none());
    assert!(store.list("100000000008", REGION).await.unwrap().is_empty());
    // Idempotent.
    store
        .commit(Change::Purge { arn: s.arn.clone() })
        .await
        .unwrap();
    // The name and the ARN are free again, and no old version resurfaces.
    let again = secret("100000000008", REGION, "purge-me", 5_000);
    store
        .commit(Change::Create {
            secret: again.clone(),
            version: None,
        })
        .await
        .unwrap();
    let state = load_arn(store, &again.arn).await.unwrap();
    assert_eq!(state.secret, again);
    assert!(state.versions.is_empty());
}

async fn list_order_and_isolation(store: &dyn Store) {
    let account = "100000000009";
    // Inserted out of order; two share a created_ms (tie broken by ARN).
    for (name, created) in [("c", 3_000), ("a", 1_000), ("z", 2_000), ("b", 2_000)] {
        create_with_version(store, &secret(account, REGION, name, created)).await;
    }
    create_with_version(store, &secret("100000000010", REGION, "other", 500)).await;
    create_with_version(store, &secret(account, "eu-west-1", "elsewhere", 500)).await;

    let listed = store.list(account, REGION).await.unwrap();
    let names: Vec<_> = listed.iter().map(|s| s.secret.name.as_str()).collect();
    assert_eq!(names, vec!["a", "b", "z", "c"]);
    for state in &listed {
        assert_eq!(state.secret.account_id, account);
        assert_eq!(state.versions.len(), 1);
        assert_eq!(state.versions[0].version_id, vid(1));
        assert_eq!(
            load_arn(store, &state.secret.arn).await.as_ref(),
            Some(state)
        );
    }
    assert_eq!(store.list(account, "eu-west-1").await.unwrap().len(), 1);
    assert!(store.list("100000000099", REGION).await.unwrap().is_empty());
}

async fn due_for_purge(store: &dyn Store) {
    let account = "100000000011";
    let mut arns = vec![];
    for (name, deletion) in [
        ("d1", Some(30_000)),
        ("d2", Some(10_000)),
        ("d3", Some(50_000)),
    ]
    .into_iter()
    .chain([("live", None)])
    {
        let s = secret(account, REGION, name, 1_000);
        create_with_version(store, &s).await;
        if let Some(deletion) = deletion {
            let mut d = bumped(&s);
            d.deleted_ms = Some(2_000);
            d.deletion_ms = Some(deletion);
            commit_update(store, &d, 1).await.unwrap();
        }
        arns.push(s.arn);
    }
    let due =
        |v: Vec<String>| -> Vec<String> { v.into_iter().filter(|a| a.contains(account)).collect() };
    assert!(due(store.due_for_purge(9_999).await.unwrap()).is_empty());
    assert_eq!(
        due(store.due_for_purge(10_000).await.unwrap()),
        vec![arns[1].clone()]
    );
    let mut all = due(store.due_for_purge(50_000).await.unwrap());
    all.sort();
    let mut expected = arns[..3].to_vec();
    expected.sort();
    assert_eq!(all, expected);
}

/// `stats` counts every account and region; the check works on differences because the
/// suite shares one store.
async fn stats(store: &dyn Store) {
    let account = "100000000015";
    let before = store.stats().await.unwrap();

    // A live secret with two versions, one without a value, one scheduled for deletion
    // (with one version) in another region.
    let live = secret(account, REGION, "stats/live", 1_000);
    create_with_version(store, &live).await;
    store
        .commit(Change::Update {
            secret: bumped(&live),
            expected_revision: 1,
            new_version: Some(version(&vid(2), &["AWSPENDING"], 1_001)),
            set_stages: vec![],
            delete_versions: vec![],
        })
        .await
        .unwrap();
    let empty = secret(account, REGION, "stats/empty", 1_000);
    store
        .commit(Change::Create {
            secret: empty.clone(),
            version: None,
        })
        .await
        .unwrap();
    let doomed = secret(account, "eu-west-1", "stats/doomed", 1_000);
    create_with_version(store, &doomed).await;
    let mut d = bumped(&doomed);
    d.deleted_ms = Some(2_000);
    d.deletion_ms = Some(3_000);
    commit_update(store, &d, 1).await.unwrap();

    let after = store.stats().await.unwrap();
    assert_eq!(after.secrets - before.secrets, 3);
    assert_eq!(after.versions - before.versions, 3);
    assert_eq!(after.pending_deletion - before.pending_deletion, 1);

    // Restoring clears the schedule; purging removes the secret and its versions.
    let mut restored = bumped(&d);
    restored.deleted_ms = None;
    restored.deletion_ms = None;
    commit_update(store, &restored, 2).await.unwrap();
    store
        .commit(Change::Purge {
            arn: live.arn.clone(),
        })
        .await
        .unwrap();
    let end = store.stats().await.unwrap();
    assert_eq!(end.secrets - before.secrets, 2);
    assert_eq!(end.versions - before.versions, 1);
    assert_eq!(end.pending_deletion, before.pending_deletion);
}

async fn touch_accessed(store: &dyn Store) {
    let s = secret("100000000012", REGION, "touched", 1_000);
    create_with_version(store, &s).await;
    let day = 86_400_000 * 20_000;
    store.touch_accessed(&s.arn, &vid(1), day).await.unwrap();
    store.touch_accessed(&s.arn, &vid(1), day).await.unwrap();
    let state = load_arn(store, &s.arn).await.unwrap();
    assert_eq!(state.secret.last_accessed_ms, Some(day));
    assert_eq!(state.secret.revision, s.revision);
    assert_eq!(state.secret.last_changed_ms, s.last_changed_ms);
    assert_eq!(state.versions[0].last_accessed_ms, Some(day));

    // Missing rows are ignored.
    store
        .touch_accessed(&s.arn, &vid(9), day + 1)
        .await
        .unwrap();
    store
        .touch_accessed("arn:nope", &vid(1), day)
        .await
        .unwrap();
    let state = load_arn(store, &s.arn).await.unwrap();
    assert_eq!(state.secret.last_accessed_ms, Some(day + 1));
    assert_eq!(state.versions[0].last_accessed_ms, Some(day));

    // An update based on a read from before the touch does not undo it.
    commit_update(store, &bumped(&s), 1).await.unwrap();
    let state = load_arn(store, &s.arn).await.unwrap();
    assert_eq!(state.secret.last_accessed_ms, Some(day + 1));
    assert_eq!(state.secret.revision, 2);
}

async fn meta(store: &dyn Store) {
    assert!(store.get_meta("conformance/x").await.unwrap().is_none());
    store.put_meta("conformance/x", b"one").await.unwrap();
    assert_eq!(
        store.get_meta("conformance/x").await.unwrap().unwrap(),
        b"one"
    );
    store
        .put_meta("conformance/x", &[0, 1, 2, 255])
        .await
        .unwrap();
    assert_eq!(
        store.get_meta("conformance/x").await.unwrap().unwrap(),
        vec![0, 1, 2, 255]
    );
    store.put_meta("conformance/empty", b"").await.unwrap();
    assert_eq!(
        store.get_meta("conformance/empty").await.unwrap().unwrap(),
        b""
    );
}

async fn accounts_and_access_keys(store: &dyn Store) {
    let account = AccountRecord {
        account_id: "200000000001".into(),
        created_ms: 42,
        admin: true,
    };
    assert!(store.get_account("200000000001").await.unwrap().is_none());
    store.create_account(&account).await.unwrap();
    assert_eq!(
        store.get_account("200000000001").await.unwrap(),
        Some(account.clone())
    );
    let err = store
        .create_account(&AccountRecord {
            admin: false,
            ..account.clone()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert_eq!(
        store.get_account("200000000001").await.unwrap(),
        Some(account)
    );
    let plain = AccountRecord {
        account_id: "200000000002".into(),
        created_ms: 43,
        admin: false,
    };
    store.create_account(&plain).await.unwrap();
    assert_eq!(
        store.get_account("200000000002").await.unwrap(),
        Some(plain)
    );

    let key = AccessKeyRecord {
        access_key_id: "AKIAEXAMPLE000000001".into(),
        account_id: "200000000001".into(),
        principal_arn: "arn:aws:iam::200000000001:root".into(),
        wrapped_secret: vec![9; 60],
        status: "Active".into(),
        created_ms: 44,
        last_used: None,
    };
    assert!(
        store
            .get_access_key(&key.access_key_id)
            .await
            .unwrap()
            .is_none()
    );
    store.put_access_key(&key).await.unwrap();
    assert_eq!(
        store.get_access_key(&key.access_key_id).await.unwrap(),
        Some(key.clone())
    );
    let err = store
        .put_access_key(&AccessKeyRecord {
            status: "Inactive".into(),
            ..key.clone()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert_eq!(
        store.get_access_key(&key.access_key_id).await.unwrap(),
        Some(key.clone())
    );

    // A user's keys: listed per principal, status changes, last use, deletion.
    let user = "arn:aws:iam::200000000001:user/alice";
    let k1 = AccessKeyRecord {
        access_key_id: "AKIAEXAMPLE000000002".into(),
        principal_arn: user.into(),
        created_ms: 50,
        ..key.clone()
    };
    let k2 = AccessKeyRecord {
        access_key_id: "AKIAEXAMPLE000000003".into(),
        created_ms: 51,
        ..k1.clone()
    };
    store.put_access_key(&k2).await.unwrap();
    store.put_access_key(&k1).await.unwrap();
    let listed = store.list_access_keys("200000000001", user).await.unwrap();
    assert_eq!(listed, vec![k1.clone(), k2.clone()]);
    assert!(
        store
            .list_access_keys("200000000002", user)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .set_access_key_status(&k1.access_key_id, "Inactive")
        .await
        .unwrap();
    let used = AccessKeyUse {
        ms: 60_000,
        service: "secretsmanager".into(),
        region: "eu-west-1".into(),
    };
    store
        .touch_access_key(&k1.access_key_id, &used)
        .await
        .unwrap();
    store
        .touch_access_key(&k1.access_key_id, &used)
        .await
        .unwrap();
    store
        .touch_access_key("AKIANOSUCHKEY0000000", &used)
        .await
        .unwrap();
    let got = store
        .get_access_key(&k1.access_key_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.status, "Inactive");
    assert_eq!(got.last_used, Some(used));
    store.delete_access_key(&k2.access_key_id).await.unwrap();
    assert!(matches!(
        store.delete_access_key(&k2.access_key_id).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .set_access_key_status(&k2.access_key_id, "Active")
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .list_access_keys("200000000001", user)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn iam_entities(store: &dyn Store) {
    let a = "200000000010";
    let put = |kind: &str, name: &str, doc: &str| IamWrite::Put {
        kind: kind.into(),
        name_key: name.into(),
        doc: doc.into(),
    };
    assert_eq!(store.iam_revision(a).await.unwrap(), 0);
    let r1 = store
        .iam_commit(
            a,
            0,
            vec![put("user", "bob", "{\"b\":1}"), put("user", "alice", "{}")],
        )
        .await
        .unwrap();
    assert_eq!(r1, 1);
    assert_eq!(store.iam_revision(a).await.unwrap(), 1);
    assert_eq!(
        store.iam_list(a, "user").await.unwrap(),
        vec!["{}".to_owned(), "{\"b\":1}".to_owned()]
    );
    assert_eq!(
        store.iam_get(a, "user", "bob").await.unwrap().as_deref(),
        Some("{\"b\":1}")
    );
    assert!(store.iam_get(a, "role", "bob").await.unwrap().is_none());
    assert!(
        store
            .iam_get("200000000011", "user", "bob")
            .await
            .unwrap()
            .is_none()
    );
    // A stale revision is refused and changes nothing.
    let err = store
        .iam_commit(a, 0, vec![put("user", "carol", "{}")])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict), "{err:?}");
    assert!(store.iam_get(a, "user", "carol").await.unwrap().is_none());
    let r2 = store
        .iam_commit(
            a,
            1,
            vec![
                put("user", "bob", "{\"b\":2}"),
                IamWrite::Delete {
                    kind: "user".into(),
                    name_key: "alice".into(),
                },
            ],
        )
        .await
        .unwrap();
    assert_eq!(r2, 2);
    assert_eq!(
        store.iam_list(a, "user").await.unwrap(),
        vec!["{\"b\":2}".to_owned()]
    );
    assert_eq!(store.iam_revision("200000000011").await.unwrap(), 0);
}

fn kms_key(account: &str, uuid: &str, alias: Option<&str>) -> KmsKeyRecord {
    KmsKeyRecord {
        arn: format!("arn:aws:kms:{REGION}:{account}:key/{uuid}"),
        key_id: uuid.into(),
        account_id: account.into(),
        region: REGION.into(),
        alias: alias.map(Into::into),
        generation: 2,
        wrapped_material: vec![(2, vec![2; 44]), (1, vec![1; 44])],
        state: "Enabled".into(),
        created_ms: 45,
        meta: Default::default(),
    }
}

async fn kms_keys(store: &dyn Store) {
    let account = "200000000003";
    let alias = "alias/aws/secretsmanager";
    let first = kms_key(account, "11111111-1111-4111-8111-111111111111", Some(alias));
    let mut expected = first.clone();
    expected.wrapped_material.sort_by_key(|(g, _)| *g);

    let stored = store.insert_kms_key_if_absent(&first).await.unwrap();
    assert_eq!(stored, expected);
    // A second insert with the same alias returns the first key.
    let second = kms_key(account, "22222222-2222-4222-8222-222222222222", Some(alias));
    assert_eq!(
        store.insert_kms_key_if_absent(&second).await.unwrap(),
        expected
    );
    assert!(store.kms_key_by_arn(&second.arn).await.unwrap().is_none());

    assert_eq!(
        store
            .kms_key_by_alias(account, REGION, alias)
            .await
            .unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        store.kms_key_by_arn(&first.arn).await.unwrap(),
        Some(expected)
    );
    assert!(
        store
            .kms_key_by_alias(account, "eu-west-1", alias)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .kms_key_by_alias("200000000004", REGION, alias)
            .await
            .unwrap()
            .is_none()
    );

    // The same alias in another account is a different key.
    let elsewhere = kms_key(
        "200000000004",
        "33333333-3333-4333-8333-333333333333",
        Some(alias),
    );
    assert_eq!(
        store
            .insert_kms_key_if_absent(&elsewhere)
            .await
            .unwrap()
            .arn,
        elsewhere.arn
    );

    // Keys without an alias: several may coexist; the ARN decides.
    let a = kms_key(account, "44444444-4444-4444-8444-444444444444", None);
    let b = kms_key(account, "55555555-5555-4555-8555-555555555555", None);
    assert_eq!(store.insert_kms_key_if_absent(&a).await.unwrap().arn, a.arn);
    assert_eq!(store.insert_kms_key_if_absent(&b).await.unwrap().arn, b.arn);
    let a_again = KmsKeyRecord {
        state: "Disabled".into(),
        ..a.clone()
    };
    assert_eq!(
        store
            .insert_kms_key_if_absent(&a_again)
            .await
            .unwrap()
            .state,
        "Enabled"
    );
}

async fn kms_key_lifecycle(store: &dyn Store) {
    let account = "200000000005";
    let mut k = kms_key(account, "66666666-6666-4666-8666-666666666666", None);
    k.meta.key_manager = "CUSTOMER".into();
    k.meta.description = "d".into();
    k.meta.tags = vec![("a".into(), "1".into())];
    store.put_kms_key_audited(&k, None).await.unwrap();
    let mut expected = k.clone();
    expected.wrapped_material.sort_by_key(|(g, _)| *g);
    assert_eq!(store.kms_key_by_arn(&k.arn).await.unwrap(), Some(expected));

    // Update: new generation added, stored generations kept, metadata replaced.
    let mut next = k.clone();
    next.generation = 3;
    next.wrapped_material = vec![(3, vec![3; 44]), (1, vec![9; 44])];
    next.state = "PendingDeletion".into();
    next.meta.deletion_ms = Some(1000);
    store
        .put_kms_key_audited(
            &next,
            Some(audit_entry(1, account, "ScheduleKeyDeletion", false, 5)),
        )
        .await
        .unwrap();
    let got = store.kms_key_by_arn(&k.arn).await.unwrap().unwrap();
    assert_eq!(got.generation, 3);
    assert_eq!(got.state, "PendingDeletion");
    assert_eq!(got.meta.deletion_ms, Some(1000));
    assert_eq!(
        got.wrapped_material,
        vec![(1, vec![1; 44]), (2, vec![2; 44]), (3, vec![3; 44])]
    );
    let (seq, _) = store.audit_head().await.unwrap();
    let rows = store.audit_range(seq - 1, 1).await.unwrap();
    assert_eq!(rows[0].entry.event_name, "ScheduleKeyDeletion");

    let other = kms_key(account, "77777777-7777-4777-8777-777777777777", None);
    store.put_kms_key_audited(&other, None).await.unwrap();
    let listed: Vec<String> = store
        .list_kms_keys(account, REGION)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.arn)
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(
        store
            .list_kms_keys(account, "eu-west-1")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .kms_keys_due_for_deletion(999)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.kms_keys_due_for_deletion(1000).await.unwrap(),
        vec![k.arn.clone()]
    );
    let mut rotating = other.clone();
    rotating.meta.rotation_enabled = true;
    rotating.meta.next_rotation_ms = Some(500);
    store.put_kms_key_audited(&rotating, None).await.unwrap();
    assert!(
        store
            .kms_keys_due_for_rotation(499)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.kms_keys_due_for_rotation(500).await.unwrap(),
        vec![other.arn.clone()]
    );
    rotating.state = "Disabled".into();
    store.put_kms_key_audited(&rotating, None).await.unwrap();
    assert!(
        store
            .kms_keys_due_for_rotation(500)
            .await
            .unwrap()
            .is_empty()
    );

    // Aliases.
    let alias = KmsAliasRecord {
        account_id: account.into(),
        region: REGION.into(),
        name: "alias/one".into(),
        target_arn: k.arn.clone(),
        created_ms: 1,
        updated_ms: 1,
    };
    store
        .put_kms_alias_audited(&alias, true, None)
        .await
        .unwrap();
    assert!(matches!(
        store.put_kms_alias_audited(&alias, true, None).await,
        Err(StoreError::Conflict)
    ));
    let missing = KmsAliasRecord {
        name: "alias/none".into(),
        ..alias.clone()
    };
    assert!(matches!(
        store.put_kms_alias_audited(&missing, false, None).await,
        Err(StoreError::NotFound)
    ));
    let dangling = KmsAliasRecord {
        name: "alias/dangling".into(),
        target_arn: "arn:aws:kms:us-east-1:200000000005:key/nope".into(),
        ..alias.clone()
    };
    assert!(matches!(
        store.put_kms_alias_audited(&dangling, true, None).await,
        Err(StoreError::NotFound)
    ));
    let two = KmsAliasRecord {
        name: "alias/two".into(),
        ..alias.clone()
    };
    store.put_kms_alias_audited(&two, true, None).await.unwrap();
    let moved = KmsAliasRecord {
        target_arn: other.arn.clone(),
        updated_ms: 2,
        ..two.clone()
    };
    store
        .put_kms_alias_audited(&moved, false, None)
        .await
        .unwrap();
    assert_eq!(
        store.list_kms_aliases(account, REGION).await.unwrap(),
        vec![alias.clone(), moved.clone()]
    );
    store
        .delete_kms_alias_audited(account, REGION, "alias/two", None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .delete_kms_alias_audited(account, REGION, "alias/two", None)
            .await,
        Err(StoreError::NotFound)
    ));
    store.put_kms_alias_audited(&two, true, None).await.unwrap();

    // Deleting a key removes its material and aliases.
    store.delete_kms_key_audited(&k.arn, None).await.unwrap();
    assert!(store.kms_key_by_arn(&k.arn).await.unwrap().is_none());
    assert!(
        store
            .list_kms_aliases(account, REGION)
            .await
            .unwrap()
            .is_empty()
    );
    store.delete_kms_key_audited(&k.arn, None).await.unwrap();
    assert_eq!(store.list_kms_keys(account, REGION).await.unwrap().len(), 1);
}

async fn reseal(store: &dyn Store) {
    let s = secret("200000000006", REGION, "resealed", 10);
    create_with_version(store, &s).await;
    let other = "arn:aws:kms:us-east-1:200000000006:key/other";
    let new = SealedValue {
        kind: ValueKind::String,
        kms_key_arn: other.into(),
        key_generation: 4,
        wrapped_dek: b"new-dek".to_vec(),
        ciphertext: b"new-ct".to_vec(),
    };
    let change = |rev: i64, id: String| Change::Reseal {
        arn: s.arn.clone(),
        expected_revision: rev,
        values: vec![(id, new.clone())],
    };
    assert!(matches!(
        store.commit(change(7, vid(1))).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        store.commit(change(1, vid(9))).await,
        Err(StoreError::NotFound)
    ));
    // Nothing changed by the failures.
    let state = load_arn(store, &s.arn).await.unwrap();
    assert_eq!(state.secret.revision, 1);
    assert_eq!(state.versions[0].kms_key_arn, KMS);
    store.commit(change(1, vid(1))).await.unwrap();
    let state = load_arn(store, &s.arn).await.unwrap();
    assert_eq!(state.secret.revision, 2);
    assert_eq!(state.versions[0].kms_key_arn, other);
    assert_eq!(state.versions[0].stages, vec!["AWSCURRENT".to_owned()]);
    assert_eq!(
        store.sealed_value(&s.arn, &vid(1)).await.unwrap(),
        Some(new)
    );
}

async fn concurrent_updates(store: Arc<dyn Store>) {
    const TASKS: usize = 8;
    const PER_TASK: usize = 10;
    let s = secret("100000000013", REGION, "contended", 1_000);
    create_with_version(store.as_ref(), &s).await;

    let mut handles = vec![];
    for t in 0..TASKS {
        let store = Arc::clone(&store);
        let arn = s.arn.clone();
        handles.push(tokio::spawn(async move {
            let mut conflicts = 0usize;
            for _ in 0..PER_TASK {
                loop {
                    let cur = load_arn(store.as_ref(), &arn).await.unwrap().secret;
                    let mut next = bumped(&cur);
                    // Read-modify-write: append a marker; a lost update would lose one.
                    let mut d = cur.description.clone().unwrap_or_default();
                    d.push(char::from(b'a' + t as u8));
                    next.description = Some(d);
                    match commit_update(store.as_ref(), &next, cur.revision).await {
                        Ok(()) => break,
                        Err(StoreError::Conflict) => conflicts += 1,
                        Err(e) => panic!("unexpected {e:?}"),
                    }
                    tokio::task::yield_now().await;
                }
            }
            conflicts
        }));
    }
    let mut conflicts = 0;
    for h in handles {
        conflicts += h.await.unwrap();
    }
    eprintln!("concurrent_updates: {conflicts} conflicts retried");
    let end = load_arn(store.as_ref(), &s.arn).await.unwrap().secret;
    assert_eq!(end.revision, s.revision + (TASKS * PER_TASK) as i64);
    let markers = end.description.unwrap();
    let appended = &markers[s.description.unwrap().len()..];
    assert_eq!(appended.len(), TASKS * PER_TASK, "no lost update");
    for t in 0..TASKS {
        let c = char::from(b'a' + t as u8);
        assert_eq!(appended.chars().filter(|x| *x == c).count(), PER_TASK);
    }
}

fn audit_entry(n: u32, account: &str, name: &str, read_only: bool, time_ms: i64) -> AuditEntry {
    AuditEntry {
        account_id: account.into(),
        time_ms,
        event_id: format!("event-{n}"),
        event_name: name.into(),
        username: if n.is_multiple_of(2) { "alice" } else { "root" }.into(),
        access_key_id: format!("AKIA{n}"),
        read_only,
        resources: vec![format!("res-{n}"), "shared".into()],
        json: format!("{{\"n\":{n}}}"),
    }
}

/// The audit log: appends inside writes (and not when the write fails), group appends,
/// the chain, lookups, digests, retention.
async fn audit_log(store: &dyn Store) {
    const A: &str = "100000000020";
    let (seq0, head0) = store.audit_head().await.unwrap();
    assert_eq!((seq0, head0), (0, GENESIS));

    let s = secret(A, REGION, "audited", 1_000);
    let e1 = audit_entry(1, A, "CreateSecret", false, 1_000);
    store
        .commit_audited(
            Change::Create {
                secret: s.clone(),
                version: Some(version(&vid(1), &["AWSCURRENT"], 1_000)),
            },
            Some(e1.clone()),
        )
        .await
        .unwrap();
    // A failed write leaves no record.
    let err = store
        .commit_audited(
            Change::Create {
                secret: s.clone(),
                version: None,
            },
            Some(audit_entry(99, A, "CreateSecret", false, 1_001)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NameTaken), "{err:?}");
    assert_eq!(store.audit_head().await.unwrap().0, 1);

    store
        .append_audit(vec![
            audit_entry(2, A, "GetSecretValue", true, 2_000),
            audit_entry(3, "100000000021", "GetSecretValue", true, 3_000),
            audit_entry(4, A, "DescribeSecret", true, 4_000),
        ])
        .await
        .unwrap();
    store
        .create_account_audited(
            &AccountRecord {
                account_id: "100000000022".into(),
                created_ms: 5_000,
                admin: false,
            },
            Some(audit_entry(5, A, "CreateAccount", false, 5_000)),
        )
        .await
        .unwrap();
    let key = AccessKeyRecord {
        access_key_id: "AKIAAUDITKEY00000001".into(),
        account_id: A.into(),
        principal_arn: format!("arn:aws:iam::{A}:user/alice"),
        wrapped_secret: vec![1, 2, 3],
        status: "Active".into(),
        created_ms: 6_000,
        last_used: None,
    };
    store
        .put_access_key_audited(
            &key,
            Some(audit_entry(6, A, "CreateAccessKey", false, 6_000)),
        )
        .await
        .unwrap();
    store
        .set_access_key_status_audited(
            &key.access_key_id,
            "Inactive",
            Some(audit_entry(7, A, "UpdateAccessKey", false, 7_000)),
        )
        .await
        .unwrap();
    store
        .delete_access_key_audited(
            &key.access_key_id,
            Some(audit_entry(8, A, "DeleteAccessKey", false, 8_000)),
        )
        .await
        .unwrap();
    let missing = store
        .delete_access_key_audited(
            &key.access_key_id,
            Some(audit_entry(98, A, "DeleteAccessKey", false, 8_001)),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
    let rev = store.iam_revision(A).await.unwrap();
    store
        .iam_commit_audited(
            A,
            rev,
            vec![IamWrite::Put {
                kind: "USER".into(),
                name_key: "alice".into(),
                doc: "{}".into(),
            }],
            Some(audit_entry(9, A, "CreateUser", false, 9_000)),
        )
        .await
        .unwrap();
    let stale = store
        .iam_commit_audited(
            A,
            rev,
            vec![],
            Some(audit_entry(97, A, "CreateUser", false, 9_001)),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict)));

    let rows = store.audit_range(0, 100).await.unwrap();
    let names: Vec<u32> = rows
        .iter()
        .map(|r| r.entry.event_id[6..].parse().unwrap())
        .collect();
    assert_eq!(names, (1..=9).collect::<Vec<_>>());
    assert_eq!(rows[0].entry, e1);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r.seq, i as u64 + 1);
    }
    assert_eq!(store.audit_range(7, 100).await.unwrap().len(), 2);
    assert_eq!(store.audit_range(0, 3).await.unwrap().len(), 3);
    let report = verify(rows.clone(), &[], Anchor::default(), &Default::default());
    assert_eq!(report.problem, None);
    assert_eq!(report.records, 9);
    assert_eq!(store.audit_head().await.unwrap(), (9, rows[8].hash));

    // Lookups: newest first, one attribute, account and time bounds, paging.
    let q = |attribute, account: Option<&str>| AuditQuery {
        account_id: account.map(str::to_owned),
        start_ms: 0,
        end_ms: i64::MAX,
        attribute,
        before_seq: None,
        limit: 50,
    };
    let ids = |rows: Vec<AuditRow>| -> Vec<u64> { rows.iter().map(|r| r.seq).collect() };
    let all = store.audit_lookup(&q(None, Some(A))).await.unwrap();
    assert_eq!(ids(all), vec![9, 8, 7, 6, 5, 4, 2, 1]);
    let by = |a| {
        let query = q(Some(a), None);
        async move { store.audit_lookup(&query).await }
    };
    assert_eq!(
        ids(by(AuditAttribute::EventName("GetSecretValue".into()))
            .await
            .unwrap()),
        vec![3, 2]
    );
    assert_eq!(
        ids(by(AuditAttribute::Username("alice".into())).await.unwrap()),
        vec![8, 6, 4, 2]
    );
    assert_eq!(
        ids(by(AuditAttribute::ResourceName("res-5".into()))
            .await
            .unwrap()),
        vec![5]
    );
    assert_eq!(
        ids(by(AuditAttribute::ResourceName("res".into()))
            .await
            .unwrap()),
        Vec::<u64>::new()
    );
    assert_eq!(
        ids(by(AuditAttribute::ResourceName("shared".into()))
            .await
            .unwrap())
        .len(),
        9
    );
    assert_eq!(
        ids(by(AuditAttribute::AccessKeyId("AKIA7".into()))
            .await
            .unwrap()),
        vec![7]
    );
    assert_eq!(
        ids(by(AuditAttribute::ReadOnly(true)).await.unwrap()),
        vec![4, 3, 2]
    );
    assert_eq!(
        ids(by(AuditAttribute::EventId("event-6".into())).await.unwrap()),
        vec![6]
    );
    let mut window = q(None, Some(A));
    window.start_ms = 2_000;
    window.end_ms = 7_000;
    window.limit = 2;
    assert_eq!(ids(store.audit_lookup(&window).await.unwrap()), vec![7, 6]);
    window.before_seq = Some(6);
    assert_eq!(ids(store.audit_lookup(&window).await.unwrap()), vec![5, 4]);

    // Digests: one per record number, the first kept.
    let signer = DigestSigner::from_seed(zeroize::Zeroizing::new([3; 32]));
    let d4 = signer.sign(4, &rows[3].hash, 10);
    store.put_audit_digest(&d4).await.unwrap();
    store
        .put_audit_digest(&signer.sign(4, &rows[3].hash, 11))
        .await
        .unwrap();
    let d8 = signer.sign(8, &rows[7].hash, 12);
    store.put_audit_digest(&d8).await.unwrap();
    assert_eq!(store.audit_digests().await.unwrap(), vec![d4, d8.clone()]);

    // Retention: the leading records older than the limit go; the chain still verifies
    // from the anchor, and appends continue the numbering.
    assert_eq!(store.audit_prune(1_000).await.unwrap(), 0);
    assert_eq!(store.audit_prune(5_500).await.unwrap(), 5);
    let anchor = store.audit_anchor().await.unwrap();
    assert_eq!(
        anchor,
        Anchor {
            after_seq: 5,
            hash: rows[4].hash
        }
    );
    assert_eq!(store.audit_digests().await.unwrap(), vec![d8]);
    store
        .append_audit(vec![audit_entry(10, A, "GetSecretValue", true, 10_000)])
        .await
        .unwrap();
    let kept = store.audit_range(0, 100).await.unwrap();
    assert_eq!(kept.first().map(|r| r.seq), Some(6));
    assert_eq!(kept.last().map(|r| r.seq), Some(10));
    let keys = std::collections::HashMap::from([(signer.key_id(), signer.public_key().to_vec())]);
    let digests = store.audit_digests().await.unwrap();
    let report = verify(kept, &digests, anchor, &keys);
    assert_eq!(report.problem, None, "{report:?}");
    assert_eq!((report.records, report.digests), (5, 1));
}

// --- backends -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("coffer.db")).unwrap();
    run_all(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_in_memory() {
    run_all(Arc::new(SqliteStore::open_in_memory().unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory() {
    run_all(Arc::new(MemoryStore::new())).await;
}
