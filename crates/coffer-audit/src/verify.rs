//! Verification of a stored log: the chain, the sequence and the signed digests.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::chain::{AuditRow, Digest, GENESIS, link};

/// Where the retained log starts: records up to `after_seq` were removed by retention and
/// the last of them had hash `hash`. `Anchor::default()` is the start of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anchor {
    /// Last pruned record (0 = none).
    pub after_seq: u64,
    /// Its chain hash.
    pub hash: [u8; 32],
}

impl Default for Anchor {
    fn default() -> Self {
        Anchor {
            after_seq: 0,
            hash: GENESIS,
        }
    }
}

/// What is wrong with a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// A record's content no longer matches its hash.
    Modified,
    /// A record is missing.
    Removed,
    /// A record is out of place.
    Reordered,
    /// Records at the end of the log, covered by a digest, are missing.
    Truncated,
    /// A run of records was rewritten with recomputed hashes: the signed head differs.
    Rewritten,
    /// A digest's signature is invalid or made by an unknown key.
    BadDigest,
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Sequence number of the first affected record.
    pub seq: u64,
    /// What happened there.
    pub kind: ProblemKind,
    /// A sentence for the operator.
    pub detail: String,
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Records read.
    pub records: u64,
    /// Digests whose signature and head were checked.
    pub digests: u64,
    /// Last sequence number seen.
    pub last_seq: u64,
    /// Records after the last digest (intact as far as the chain shows, not yet signed).
    pub unsigned_tail: u64,
    /// The first problem, or `None` for an intact log.
    pub problem: Option<Problem>,
}

/// A linkage break waiting to be classified as removal or reordering.
struct Break {
    seq: u64,
    wanted_prev: [u8; 32],
}

/// Walks `rows` (in the order the store returns them by sequence number) and checks each
/// against the chain, then every digest in `digests` (any order) against its signature
/// (public keys by key id in `keys`) and the record it names.
pub fn verify(
    rows: impl IntoIterator<Item = AuditRow>,
    digests: &[Digest],
    anchor: Anchor,
    keys: &HashMap<String, Vec<u8>>,
) -> Report {
    let mut by_seq: HashMap<u64, &Digest> = HashMap::new();
    let mut report = Report {
        records: 0,
        digests: 0,
        last_seq: anchor.after_seq,
        unsigned_tail: 0,
        problem: None,
    };
    let mut sorted: Vec<&Digest> = digests
        .iter()
        .filter(|d| d.seq > anchor.after_seq)
        .collect();
    sorted.sort_by_key(|d| d.seq);
    for d in &sorted {
        let key_ok = keys.get(&d.key_id).is_some_and(|k| d.signature_valid(k));
        if !key_ok {
            report.problem = Some(Problem {
                seq: d.seq,
                kind: ProblemKind::BadDigest,
                detail: format!(
                    "the digest for record {} has an invalid signature or an unknown key {}",
                    d.seq, d.key_id
                ),
            });
            return report;
        }
        by_seq.insert(d.seq, d);
    }
    let mut expected = anchor.after_seq + 1;
    let mut prev = anchor.hash;
    let mut last_digest = anchor.after_seq;
    let mut pending: Option<Break> = None;
    let mut seen_hashes: HashSet<[u8; 32]> = HashSet::new();
    for row in rows {
        if let Some(b) = &pending {
            // Only classifying the break now: does the record it was linked to come later?
            if row.hash == b.wanted_prev {
                report.problem = Some(reordered(b.seq));
                return report;
            }
            continue;
        }
        report.records += 1;
        if row.seq != expected {
            let (seq, kind) = if row.seq > expected {
                (expected, ProblemKind::Removed)
            } else {
                (row.seq, ProblemKind::Reordered)
            };
            report.problem = Some(Problem {
                seq,
                kind,
                detail: match kind {
                    ProblemKind::Removed => format!("record {expected} is missing"),
                    _ => format!("record {} appears again after {}", row.seq, expected - 1),
                },
            });
            return report;
        }
        if link(&row.prev_hash, &row.entry.json) != row.hash {
            report.problem = Some(Problem {
                seq: row.seq,
                kind: ProblemKind::Modified,
                detail: format!(
                    "record {} was modified: its content does not match its hash",
                    row.seq
                ),
            });
            return report;
        }
        if row.prev_hash != prev {
            let wanted = row.prev_hash;
            if seen_hashes.contains(&wanted) {
                report.problem = Some(reordered(row.seq));
                return report;
            }
            pending = Some(Break {
                seq: row.seq,
                wanted_prev: wanted,
            });
            continue;
        }
        if let Some(d) = by_seq.get(&row.seq) {
            report.digests += 1;
            if d.head_hash != hex::encode(row.hash) {
                report.problem = Some(Problem {
                    seq: last_digest + 1,
                    kind: ProblemKind::Rewritten,
                    detail: format!(
                        "records {}..={} were rewritten: the chain head no longer matches the digest signed for record {}",
                        last_digest + 1,
                        row.seq,
                        row.seq
                    ),
                });
                return report;
            }
            last_digest = row.seq;
        }
        seen_hashes.insert(row.hash);
        prev = row.hash;
        report.last_seq = row.seq;
        expected += 1;
    }
    if let Some(b) = pending {
        report.problem = Some(Problem {
            seq: b.seq,
            kind: ProblemKind::Removed,
            detail: format!(
                "the record before {} is missing (the log was renumbered to hide it)",
                b.seq
            ),
        });
        return report;
    }
    if let Some(d) = sorted.last()
        && d.seq > report.last_seq
    {
        report.problem = Some(Problem {
            seq: report.last_seq + 1,
            kind: ProblemKind::Truncated,
            detail: format!(
                "the log was truncated: it ends at record {} but a digest covers record {}",
                report.last_seq, d.seq
            ),
        });
        return report;
    }
    report.unsigned_tail = report.last_seq - last_digest;
    report
}

fn reordered(seq: u64) -> Problem {
    Problem {
        seq,
        kind: ProblemKind::Reordered,
        detail: format!("record {seq} is out of order: it does not follow the record before it"),
    }
}

#[cfg(test)]
mod tests;
