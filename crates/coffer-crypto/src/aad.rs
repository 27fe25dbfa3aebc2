//! Canonical associated data.

/// Builds canonical, unambiguous associated data from a domain label and fields.
///
/// Encoding: `len(label) ‖ label ‖ count(fields) ‖ (len(field) ‖ field)*`, every
/// length and the count as a big-endian `u64`. The encoding is injective, so e.g.
/// `("ab", ["c"])`, `("a", ["bc"])` and `("a", ["b", "c"])` all differ.
pub fn aad(label: &str, fields: &[&[u8]]) -> Vec<u8> {
    let total = 16 + label.len() + fields.iter().map(|f| 8 + f.len()).sum::<usize>();
    let mut out = Vec::with_capacity(total);
    put(&mut out, label.as_bytes());
    out.extend_from_slice(&(fields.len() as u64).to_be_bytes());
    for f in fields {
        put(&mut out, f);
    }
    out
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}
