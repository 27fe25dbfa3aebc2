//! Staging labels: the rules that keep "a label is on at most one version" and "a secret
//! with a value has exactly one AWSCURRENT" true across every change.
//!
//! Functions here mutate a working copy of a secret's versions; [`stage_diff`] then turns
//! the before/after pair into the store's `set_stages` list, so one commit applies it all.

use crate::{AWSCURRENT, AWSPREVIOUS, CoreError, VersionRecord, clock::DAY_MS};

/// Most labels one version may carry.
pub const MAX_LABELS_PER_VERSION: usize = 20;
/// Versions kept before unlabeled old ones are removed.
pub const MAX_VERSIONS: usize = 100;

fn remove_label(versions: &mut [VersionRecord], label: &str) -> Option<usize> {
    let mut holder = None;
    for (i, v) in versions.iter_mut().enumerate() {
        let before = v.stages.len();
        v.stages.retain(|s| s != label);
        if v.stages.len() != before {
            holder = Some(i);
        }
    }
    holder
}

fn add_label(v: &mut VersionRecord, label: &str) -> Result<(), CoreError> {
    if !v.stages.iter().any(|s| s == label) {
        if v.stages.len() >= MAX_LABELS_PER_VERSION {
            return Err(CoreError::LimitExceeded(format!(
                "A version can have at most {MAX_LABELS_PER_VERSION} staging labels."
            )));
        }
        v.stages.push(label.to_owned());
    }
    Ok(())
}

/// Adds `new` (whose `stages` are the requested labels) to `versions`, taking each label away
/// from the version that held it. When AWSCURRENT moves, the previous holder gets AWSPREVIOUS.
pub fn attach_new_version(
    versions: &mut Vec<VersionRecord>,
    new: VersionRecord,
) -> Result<(), CoreError> {
    let mut old_current = None;
    for label in &new.stages {
        let holder = remove_label(versions, label);
        if label == AWSCURRENT {
            old_current = holder;
        }
    }
    if let Some(i) = old_current {
        remove_label(versions, AWSPREVIOUS);
        add_label(&mut versions[i], AWSPREVIOUS)?;
    }
    versions.push(new);
    Ok(())
}

/// UpdateSecretVersionStage: moves `label` to `move_to` and/or removes it from `remove_from`,
/// with AWS's checks. Moving AWSCURRENT gives the old holder AWSPREVIOUS.
pub fn move_label(
    versions: &mut [VersionRecord],
    label: &str,
    move_to: Option<&str>,
    remove_from: Option<&str>,
) -> Result<(), CoreError> {
    let holder = versions
        .iter()
        .position(|v| v.stages.iter().any(|s| s == label));
    let find = |id: &str, versions: &[VersionRecord]| {
        versions
            .iter()
            .position(|v| v.version_id == id)
            .ok_or_else(|| {
                CoreError::NotFound(format!(
                    "Secrets Manager can't find the specified secret version: {id}"
                ))
            })
    };
    if let Some(from) = remove_from {
        let idx = find(from, versions)?;
        if holder != Some(idx) {
            return Err(CoreError::param(format!(
                "The staging label {label} is not attached to version {from}, so you can't remove it."
            )));
        }
    }
    match move_to {
        None => {
            let Some(from) = remove_from else {
                return Err(CoreError::param(
                    "You must specify MoveToVersionId, RemoveFromVersionId, or both.",
                ));
            };
            if label == AWSCURRENT {
                return Err(CoreError::param(format!(
                    "You can't remove the staging label AWSCURRENT from version {from} without moving it to another version."
                )));
            }
            remove_label(versions, label);
            Ok(())
        }
        Some(to) => {
            let to_idx = find(to, versions)?;
            if holder == Some(to_idx) {
                return Ok(());
            }
            if let Some(h) = holder
                && remove_from.is_none()
            {
                return Err(CoreError::param(format!(
                    "The parameter RemoveFromVersionId can't be empty. Staging label {label} is currently attached to version {}, so you must explicitly reference that version in RemoveFromVersionId.",
                    versions[h].version_id
                )));
            }
            remove_label(versions, label);
            add_label(&mut versions[to_idx], label)?;
            if label == AWSCURRENT
                && let Some(h) = holder
            {
                remove_label(versions, AWSPREVIOUS);
                add_label(&mut versions[h], AWSPREVIOUS)?;
            }
            Ok(())
        }
    }
}

/// Versions to delete after a change: while more than [`MAX_VERSIONS`] exist, the oldest
/// unlabeled versions created more than 24 hours before `now_ms`.
pub fn expired_versions(versions: &[VersionRecord], now_ms: i64) -> Vec<String> {
    if versions.len() <= MAX_VERSIONS {
        return Vec::new();
    }
    let mut candidates: Vec<&VersionRecord> = versions
        .iter()
        .filter(|v| v.stages.is_empty() && now_ms - v.created_ms > DAY_MS)
        .collect();
    candidates.sort_by_key(|v| v.created_ms);
    let excess = versions.len() - MAX_VERSIONS;
    candidates
        .into_iter()
        .take(excess)
        .map(|v| v.version_id.clone())
        .collect()
}

/// The stage lists that changed between `before` and `after` (versions matched by id;
/// versions only in `after` are new and not listed).
pub fn stage_diff(before: &[VersionRecord], after: &[VersionRecord]) -> Vec<(String, Vec<String>)> {
    after
        .iter()
        .filter_map(|a| {
            let b = before.iter().find(|b| b.version_id == a.version_id)?;
            let mut x = a.stages.clone();
            let mut y = b.stages.clone();
            x.sort();
            y.sort();
            (x != y).then(|| (a.version_id.clone(), a.stages.clone()))
        })
        .collect()
}

/// Checks the invariants: each label on at most one version, at most one AWSCURRENT, and
/// (when `has_value`) exactly one AWSCURRENT.
pub fn check_invariants(versions: &[VersionRecord]) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for v in versions {
        for s in &v.stages {
            if !seen.insert(s.as_str()) {
                return Err(format!("label {s} is on more than one version"));
            }
        }
    }
    if !versions.is_empty() && !seen.contains(AWSCURRENT) {
        return Err("no version is AWSCURRENT".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(id: &str, stages: &[&str], created: i64) -> VersionRecord {
        VersionRecord {
            version_id: id.into(),
            stages: stages.iter().map(|s| s.to_string()).collect(),
            created_ms: created,
            last_accessed_ms: None,
            kms_key_arn: "k".into(),
        }
    }
    fn stages_of<'a>(vs: &'a [VersionRecord], id: &str) -> Vec<&'a str> {
        let mut s: Vec<&str> = vs
            .iter()
            .find(|v| v.version_id == id)
            .unwrap()
            .stages
            .iter()
            .map(|s| s.as_str())
            .collect();
        s.sort();
        s
    }

    #[test]
    fn put_moves_current_and_previous() {
        let mut vs = vec![v("a", &[AWSPREVIOUS], 1), v("b", &[AWSCURRENT], 2)];
        attach_new_version(&mut vs, v("c", &[AWSCURRENT], 3)).unwrap();
        assert!(stages_of(&vs, "a").is_empty());
        assert_eq!(stages_of(&vs, "b"), [AWSPREVIOUS]);
        assert_eq!(stages_of(&vs, "c"), [AWSCURRENT]);
        check_invariants(&vs).unwrap();
    }

    #[test]
    fn put_with_custom_label_keeps_current() {
        let mut vs = vec![v("a", &[AWSCURRENT], 1)];
        attach_new_version(&mut vs, v("b", &["AWSPENDING"], 2)).unwrap();
        assert_eq!(stages_of(&vs, "a"), [AWSCURRENT]);
        assert_eq!(stages_of(&vs, "b"), ["AWSPENDING"]);
    }

    #[test]
    fn move_current_requires_remove_from() {
        let mut vs = vec![v("a", &[AWSPREVIOUS], 1), v("b", &[AWSCURRENT], 2)];
        let e = move_label(&mut vs, AWSCURRENT, Some("a"), None).unwrap_err();
        assert!(matches!(e, CoreError::InvalidParameter(_)));
        move_label(&mut vs, AWSCURRENT, Some("a"), Some("b")).unwrap();
        assert_eq!(stages_of(&vs, "a"), [AWSCURRENT]);
        assert_eq!(stages_of(&vs, "b"), [AWSPREVIOUS]);
    }

    #[test]
    fn remove_from_must_hold_label() {
        let mut vs = vec![v("a", &[], 1), v("b", &[AWSCURRENT, "X"], 2)];
        assert!(move_label(&mut vs, "X", None, Some("a")).is_err());
        move_label(&mut vs, "X", None, Some("b")).unwrap();
        assert_eq!(stages_of(&vs, "b"), [AWSCURRENT]);
        assert!(move_label(&mut vs, AWSCURRENT, None, Some("b")).is_err());
        assert!(matches!(
            move_label(&mut vs, "Y", Some("zzz"), None),
            Err(CoreError::NotFound(_))
        ));
    }

    #[test]
    fn new_label_moves_freely() {
        let mut vs = vec![v("a", &[], 1), v("b", &[AWSCURRENT], 2)];
        move_label(&mut vs, "T", Some("a"), None).unwrap();
        assert_eq!(stages_of(&vs, "a"), ["T"]);
        // moving onto the holder is a no-op
        move_label(&mut vs, "T", Some("a"), None).unwrap();
    }

    #[test]
    fn gc_keeps_labeled_and_recent() {
        let now = 10 * DAY_MS;
        let mut vs: Vec<VersionRecord> = (0..105).map(|i| v(&format!("v{i:03}"), &[], i)).collect();
        vs[0].stages = vec![AWSPREVIOUS.into()];
        vs[104].stages = vec![AWSCURRENT.into()];
        let gone = expired_versions(&vs, now);
        assert_eq!(gone.len(), 5);
        assert!(!gone.contains(&"v000".to_string()));
        assert_eq!(gone[0], "v001");
        // nothing is old enough
        assert!(expired_versions(&vs, 50).is_empty());
    }

    #[test]
    fn diff_lists_changes_only() {
        let before = vec![v("a", &[AWSCURRENT], 1), v("b", &["X"], 2)];
        let mut after = before.clone();
        attach_new_version(&mut after, v("c", &[AWSCURRENT], 3)).unwrap();
        let d = stage_diff(&before, &after);
        assert_eq!(d, vec![("a".into(), vec![AWSPREVIOUS.to_string()])]);
    }

    proptest! {
        /// Any sequence of puts and label moves keeps the invariants.
        #[test]
        fn invariants_hold(ops in proptest::collection::vec((0u8..4, 0usize..8, 0usize..8, 0u8..3), 1..60)) {
            let labels = [AWSCURRENT, AWSPREVIOUS, "AWSPENDING", "CUSTOM"];
            let mut vs = vec![v("v0", &[AWSCURRENT], 0)];
            for (n, (op, a, b, l)) in ops.into_iter().enumerate() {
                let label = labels[l as usize];
                if op == 0 {
                    let stages = if l == 0 { vec![AWSCURRENT] } else { vec![label] };
                    attach_new_version(&mut vs, v(&format!("n{n}"), &stages, n as i64)).unwrap();
                } else {
                    let ids: Vec<String> = vs.iter().map(|v| v.version_id.clone()).collect();
                    let to = ids.get(a % ids.len()).cloned();
                    let from = ids.get(b % ids.len()).cloned();
                    let mut work = vs.clone();
                    let res = match op {
                        1 => move_label(&mut work, label, to.as_deref(), from.as_deref()),
                        2 => move_label(&mut work, label, to.as_deref(), None),
                        _ => move_label(&mut work, label, None, from.as_deref()),
                    };
                    if res.is_ok() { vs = work; }
                }
                prop_assert!(check_invariants(&vs).is_ok(), "{:?}", vs);
            }
        }
    }
}
