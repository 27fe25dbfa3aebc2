use super::*;
use crate::chain::{AuditEntry, DigestSigner};
use proptest::prelude::*;
use zeroize::Zeroizing;

fn entry(i: u64) -> AuditEntry {
    AuditEntry {
        account_id: "111111111111".into(),
        time_ms: i as i64,
        event_id: format!("e{i}"),
        event_name: "GetSecretValue".into(),
        username: "root".into(),
        access_key_id: "AKIA".into(),
        read_only: true,
        resources: vec![],
        json: format!("{{\"n\":{i}}}"),
    }
}

fn chain(n: u64) -> Vec<AuditRow> {
    let mut prev = GENESIS;
    (1..=n)
        .map(|seq| {
            let e = entry(seq);
            let hash = link(&prev, &e.json);
            let row = AuditRow {
                seq,
                prev_hash: prev,
                hash,
                entry: e,
            };
            prev = hash;
            row
        })
        .collect()
}

fn signer() -> DigestSigner {
    DigestSigner::from_seed(Zeroizing::new([9; 32]))
}

fn keys(s: &DigestSigner) -> HashMap<String, Vec<u8>> {
    HashMap::from([(s.key_id(), s.public_key().to_vec())])
}

fn digests(rows: &[AuditRow], at: &[u64], s: &DigestSigner) -> Vec<Digest> {
    at.iter()
        .map(|&seq| s.sign(seq, &rows[seq as usize - 1].hash, seq as i64))
        .collect()
}

fn check(rows: Vec<AuditRow>, ds: &[Digest]) -> Report {
    let s = signer();
    verify(rows, ds, Anchor::default(), &keys(&s))
}

#[test]
fn an_intact_log_verifies() {
    let s = signer();
    let rows = chain(20);
    let ds = digests(&rows, &[5, 10, 18], &s);
    let r = check(rows, &ds);
    assert_eq!(r.problem, None);
    assert_eq!(
        (r.records, r.digests, r.last_seq, r.unsigned_tail),
        (20, 3, 20, 2)
    );
}

#[test]
fn modification_is_reported_at_the_record() {
    let mut rows = chain(10);
    rows[3].entry.json = "{\"n\":99}".into();
    let p = check(rows, &[]).problem.unwrap();
    assert_eq!((p.seq, p.kind), (4, ProblemKind::Modified));
}

#[test]
fn removal_leaves_a_gap() {
    let mut rows = chain(10);
    rows.remove(6);
    let p = check(rows, &[]).problem.unwrap();
    assert_eq!((p.seq, p.kind), (7, ProblemKind::Removed));
}

#[test]
fn removal_with_renumbering_is_still_a_removal() {
    let mut rows = chain(10);
    rows.remove(6);
    for (i, r) in rows.iter_mut().enumerate() {
        r.seq = i as u64 + 1;
    }
    let p = check(rows, &[]).problem.unwrap();
    assert_eq!((p.seq, p.kind), (7, ProblemKind::Removed));
}

#[test]
fn swapped_records_are_reordered() {
    let mut rows = chain(10);
    rows.swap(4, 5);
    rows[4].seq = 5;
    rows[5].seq = 6;
    let p = check(rows, &[]).problem.unwrap();
    assert_eq!((p.seq, p.kind), (5, ProblemKind::Reordered));
}

#[test]
fn truncation_below_a_digest_is_reported() {
    let s = signer();
    let rows = chain(10);
    let ds = digests(&rows, &[4, 9], &s);
    let p = check(rows[..7].to_vec(), &ds).problem.unwrap();
    assert_eq!((p.seq, p.kind), (8, ProblemKind::Truncated));
}

#[test]
fn a_rewritten_chain_fails_the_signed_head() {
    let s = signer();
    let rows = chain(10);
    let ds = digests(&rows, &[3, 8], &s);
    // Rewrite record 5 and recompute every later hash, as an attacker without the key would.
    let mut forged = rows[..4].to_vec();
    let mut prev = forged[3].hash;
    for mut r in rows[4..].iter().cloned() {
        if r.seq == 5 {
            r.entry.json = "{\"n\":\"forged\"}".into();
        }
        r.prev_hash = prev;
        r.hash = link(&prev, &r.entry.json);
        prev = r.hash;
        forged.push(r);
    }
    let p = check(forged, &ds).problem.unwrap();
    assert_eq!((p.seq, p.kind), (4, ProblemKind::Rewritten));
}

#[test]
fn forged_or_foreign_digests_are_refused() {
    let rows = chain(5);
    let other = DigestSigner::from_seed(Zeroizing::new([1; 32]));
    let ds = digests(&rows, &[5], &other);
    let p = check(rows, &ds).problem.unwrap();
    assert_eq!(p.kind, ProblemKind::BadDigest);
}

#[test]
fn a_pruned_log_verifies_from_its_anchor() {
    let s = signer();
    let rows = chain(10);
    let ds = digests(&rows, &[2, 6, 10], &s);
    let anchor = Anchor {
        after_seq: 4,
        hash: rows[3].hash,
    };
    let r = verify(rows[4..].to_vec(), &ds, anchor, &keys(&s));
    assert_eq!(r.problem, None);
    assert_eq!((r.records, r.digests), (6, 2));
    // Removing the first retained record is caught against the anchor.
    let r = verify(rows[5..].to_vec(), &ds, anchor, &keys(&s));
    assert_eq!(r.problem.unwrap().seq, 5);
}

proptest! {
    #[test]
    fn any_single_tampering_is_found_at_or_before_its_place(
        n in 2u64..40, pos in 0usize..40, op in 0u8..4
    ) {
        let s = signer();
        let rows = chain(n);
        let pos = pos % n as usize;
        let ds = digests(&rows, &[n], &s);
        let mut t = rows.clone();
        let expect_seq = pos as u64 + 1;
        match op {
            0 => t[pos].entry.json.push(' '),
            1 => { t.remove(pos); }
            2 if pos + 1 < n as usize => {
                t.swap(pos, pos + 1);
                t[pos].seq = expect_seq;
                t[pos + 1].seq = expect_seq + 1;
            }
            _ => t.truncate(pos),
        }
        let p = check(t, &ds).problem;
        prop_assert!(p.is_some());
        prop_assert_eq!(p.unwrap().seq, expect_seq);
    }
}
