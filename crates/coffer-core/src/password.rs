//! `GetRandomPassword` with AWS Secrets Manager's parameter semantics.
//!
//! Character classes are lowercase letters, uppercase letters, digits, [`PUNCTUATION`] and —
//! only with `IncludeSpace` — the space character. Each class loses the characters named in
//! `ExcludeCharacters`. With `RequireEachIncludedType` (the default) the password holds at
//! least one character of every included, non-empty class: one is drawn from each, the rest
//! from the union of all classes, and the result is shuffled (Fisher–Yates). Every draw is
//! uniform (`gen_range`, which rejects instead of taking a biased modulo).

use rand::{CryptoRng, Rng};

use crate::CoreError;

/// The punctuation characters AWS uses in passwords (32 characters).
pub const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
/// Default `PasswordLength`.
pub const DEFAULT_LENGTH: i64 = 32;
/// Largest `PasswordLength` accepted.
pub const MAX_LENGTH: i64 = 4096;
/// Largest `ExcludeCharacters` accepted, in characters.
pub const MAX_EXCLUDE_CHARACTERS: usize = 4096;

const LOWERCASE: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPERCASE: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
const SPACE: &str = " ";

/// The parameters of one `GetRandomPassword` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordSpec {
    /// Password length, 1–4096 (default 32).
    pub length: i64,
    /// Characters that must not appear.
    pub exclude_characters: String,
    /// Leave out digits.
    pub exclude_numbers: bool,
    /// Leave out [`PUNCTUATION`].
    pub exclude_punctuation: bool,
    /// Leave out uppercase letters.
    pub exclude_uppercase: bool,
    /// Leave out lowercase letters.
    pub exclude_lowercase: bool,
    /// Allow the space character (default false).
    pub include_space: bool,
    /// Require at least one character of every included type (default true).
    pub require_each_included_type: bool,
}

impl Default for PasswordSpec {
    fn default() -> Self {
        Self {
            length: DEFAULT_LENGTH,
            exclude_characters: String::new(),
            exclude_numbers: false,
            exclude_punctuation: false,
            exclude_uppercase: false,
            exclude_lowercase: false,
            include_space: false,
            require_each_included_type: true,
        }
    }
}

/// Generates a password for `spec` from the operating system's CSPRNG.
pub fn generate(spec: &PasswordSpec) -> Result<String, CoreError> {
    generate_with(spec, &mut rand::rngs::OsRng)
}

/// Generates a password for `spec` from `rng` (a cryptographic RNG; seed one for tests).
pub fn generate_with<R: Rng + CryptoRng>(
    spec: &PasswordSpec,
    rng: &mut R,
) -> Result<String, CoreError> {
    if !(1..=MAX_LENGTH).contains(&spec.length) {
        return Err(CoreError::param(format!(
            "Password length must be between 1 and {MAX_LENGTH}."
        )));
    }
    if spec.exclude_characters.chars().count() > MAX_EXCLUDE_CHARACTERS {
        return Err(CoreError::param(format!(
            "ExcludeCharacters must be at most {MAX_EXCLUDE_CHARACTERS} characters long."
        )));
    }
    // Checked above: 1..=4096 fits in usize.
    let length = usize::try_from(spec.length).unwrap_or(0);

    let classes = classes(spec);
    let union: Vec<char> = classes.iter().flatten().copied().collect();
    if union.is_empty() {
        return Err(CoreError::param(
            "All characters have been excluded from selection.",
        ));
    }
    let required: &[Vec<char>] = if spec.require_each_included_type {
        &classes
    } else {
        &[]
    };
    if length < required.len() {
        return Err(CoreError::param(
            "Password length is too short based on the required types.",
        ));
    }

    let mut out: Vec<char> = Vec::with_capacity(length);
    for class in required {
        out.push(pick(class, rng));
    }
    while out.len() < length {
        out.push(pick(&union, rng));
    }
    shuffle(&mut out, rng);
    Ok(out.into_iter().collect())
}

/// The included character classes, each minus the excluded characters; empty ones dropped.
fn classes(spec: &PasswordSpec) -> Vec<Vec<char>> {
    let candidates = [
        (!spec.exclude_lowercase, LOWERCASE),
        (!spec.exclude_uppercase, UPPERCASE),
        (!spec.exclude_numbers, DIGITS),
        (!spec.exclude_punctuation, PUNCTUATION),
        (spec.include_space, SPACE),
    ];
    candidates
        .into_iter()
        .filter(|(included, _)| *included)
        .map(|(_, chars)| {
            chars
                .chars()
                .filter(|c| !spec.exclude_characters.contains(*c))
                .collect::<Vec<char>>()
        })
        .filter(|class| !class.is_empty())
        .collect()
}

/// A uniformly chosen element of a non-empty slice.
fn pick<R: Rng>(set: &[char], rng: &mut R) -> char {
    set[rng.gen_range(0..set.len())]
}

/// Fisher–Yates shuffle with uniform index draws.
fn shuffle<R: Rng>(items: &mut [char], rng: &mut R) {
    for i in (1..items.len()).rev() {
        let j = rng.gen_range(0..=i);
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn spec() -> PasswordSpec {
        PasswordSpec::default()
    }

    fn err_msg(r: Result<String, CoreError>) -> String {
        match r {
            Err(CoreError::InvalidParameter(m)) => m,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    #[test]
    fn defaults_match_aws() {
        let s = PasswordSpec::default();
        assert_eq!(s.length, 32);
        assert!(s.exclude_characters.is_empty());
        assert!(!s.include_space);
        assert!(s.require_each_included_type);
        assert!(
            !s.exclude_lowercase
                && !s.exclude_uppercase
                && !s.exclude_numbers
                && !s.exclude_punctuation
        );
        assert_eq!(PUNCTUATION.len(), 32);
    }

    #[test]
    fn default_password_has_every_type() {
        let p = generate(&spec()).unwrap();
        assert_eq!(p.chars().count(), 32);
        assert!(p.chars().any(|c| c.is_ascii_lowercase()));
        assert!(p.chars().any(|c| c.is_ascii_uppercase()));
        assert!(p.chars().any(|c| c.is_ascii_digit()));
        assert!(p.chars().any(|c| PUNCTUATION.contains(c)));
        assert!(!p.contains(' '));
    }

    #[test]
    fn seeded_rng_is_deterministic() {
        let s = spec();
        let a = generate_with(&s, &mut StdRng::seed_from_u64(7)).unwrap();
        let b = generate_with(&s, &mut StdRng::seed_from_u64(7)).unwrap();
        let c = generate_with(&s, &mut StdRng::seed_from_u64(8)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn length_bounds() {
        for bad in [0, -1, 4097, i64::MIN, i64::MAX] {
            let s = PasswordSpec {
                length: bad,
                ..spec()
            };
            assert_eq!(
                err_msg(generate(&s)),
                "Password length must be between 1 and 4096."
            );
        }
        let max = PasswordSpec {
            length: 4096,
            ..spec()
        };
        assert_eq!(generate(&max).unwrap().len(), 4096);
        let one = PasswordSpec {
            length: 1,
            require_each_included_type: false,
            ..spec()
        };
        assert_eq!(generate(&one).unwrap().len(), 1);
    }

    #[test]
    fn too_short_for_required_types() {
        let s = PasswordSpec {
            length: 3,
            ..spec()
        };
        assert_eq!(
            err_msg(generate(&s)),
            "Password length is too short based on the required types."
        );
        let four = PasswordSpec {
            length: 4,
            ..spec()
        };
        assert_eq!(generate(&four).unwrap().len(), 4);
        // With the space class included, five types are required.
        let space = PasswordSpec {
            length: 4,
            include_space: true,
            ..spec()
        };
        assert!(generate(&space).is_err());
        let space5 = PasswordSpec {
            length: 5,
            include_space: true,
            ..spec()
        };
        assert!(generate(&space5).unwrap().contains(' '));
        // Fewer types, fewer required.
        let two = PasswordSpec {
            length: 2,
            exclude_numbers: true,
            exclude_punctuation: true,
            ..spec()
        };
        let p = generate(&two).unwrap();
        assert!(p.chars().any(|c| c.is_ascii_lowercase()));
        assert!(p.chars().any(|c| c.is_ascii_uppercase()));
    }

    #[test]
    fn everything_excluded() {
        let s = PasswordSpec {
            exclude_lowercase: true,
            exclude_uppercase: true,
            exclude_numbers: true,
            exclude_punctuation: true,
            ..spec()
        };
        assert_eq!(
            err_msg(generate(&s)),
            "All characters have been excluded from selection."
        );
        let by_chars = PasswordSpec {
            exclude_lowercase: true,
            exclude_uppercase: true,
            exclude_punctuation: true,
            exclude_characters: DIGITS.to_string(),
            ..spec()
        };
        assert!(generate(&by_chars).is_err());
        // Space alone is a valid alphabet.
        let space_only = PasswordSpec {
            include_space: true,
            ..s
        };
        assert_eq!(generate(&space_only).unwrap(), " ".repeat(32));
    }

    #[test]
    fn class_emptied_by_exclude_characters_is_not_required() {
        let s = PasswordSpec {
            length: 3,
            exclude_characters: DIGITS.to_string(),
            ..spec()
        };
        let p = generate(&s).unwrap();
        assert!(!p.chars().any(|c| c.is_ascii_digit()));
    }

    #[test]
    fn exclude_characters_too_long() {
        let s = PasswordSpec {
            exclude_characters: "a".repeat(4097),
            ..spec()
        };
        assert!(generate(&s).is_err());
        let ok = PasswordSpec {
            exclude_characters: "a".repeat(4096),
            ..spec()
        };
        assert!(generate(&ok).is_ok());
    }

    #[test]
    fn choice_is_roughly_uniform() {
        let s = PasswordSpec {
            length: 4096,
            exclude_uppercase: true,
            exclude_numbers: true,
            exclude_punctuation: true,
            require_each_included_type: false,
            ..spec()
        };
        let mut rng = StdRng::seed_from_u64(42);
        let mut counts = [0usize; 26];
        for _ in 0..10 {
            for c in generate_with(&s, &mut rng).unwrap().bytes() {
                counts[usize::from(c - b'a')] += 1;
            }
        }
        // Expected 40960 / 26 ≈ 1575 per letter; allow a generous band.
        for n in counts {
            assert!((1300..1850).contains(&n), "{counts:?}");
        }
    }

    fn alphabet() -> Vec<char> {
        let mut v: Vec<char> = LOWERCASE
            .chars()
            .chain(UPPERCASE.chars())
            .chain(DIGITS.chars())
            .chain(PUNCTUATION.chars())
            .collect();
        v.push(' ');
        v
    }

    /// Independent restatement of the class rules, so the property does not trust `classes`.
    fn expected_classes(s: &PasswordSpec) -> Vec<Vec<char>> {
        let mut out = Vec::new();
        let mut add = |on: bool, pred: &dyn Fn(char) -> bool| {
            if on {
                let v: Vec<char> = alphabet()
                    .into_iter()
                    .filter(|c| pred(*c) && !s.exclude_characters.contains(*c))
                    .collect();
                if !v.is_empty() {
                    out.push(v);
                }
            }
        };
        add(!s.exclude_lowercase, &|c| c.is_ascii_lowercase());
        add(!s.exclude_uppercase, &|c| c.is_ascii_uppercase());
        add(!s.exclude_numbers, &|c| c.is_ascii_digit());
        add(!s.exclude_punctuation, &|c| c.is_ascii_punctuation());
        add(s.include_space, &|c| c == ' ');
        out
    }

    fn arb_spec() -> impl Strategy<Value = PasswordSpec> {
        (
            1i64..300,
            proptest::collection::vec(proptest::sample::select(alphabet()), 0..60),
            any::<[bool; 6]>(),
        )
            .prop_map(|(length, excl, f)| PasswordSpec {
                length,
                exclude_characters: excl.into_iter().collect(),
                exclude_numbers: f[0],
                exclude_punctuation: f[1],
                exclude_uppercase: f[2],
                exclude_lowercase: f[3],
                include_space: f[4],
                require_each_included_type: f[5],
            })
    }

    proptest! {
        #[test]
        fn invariants(s in arb_spec(), seed in any::<u64>()) {
            let classes = expected_classes(&s);
            let required = if s.require_each_included_type { classes.len() } else { 0 };
            let result = generate_with(&s, &mut StdRng::seed_from_u64(seed));
            if classes.is_empty() || usize::try_from(s.length).unwrap() < required {
                prop_assert!(matches!(result, Err(CoreError::InvalidParameter(_))));
                return Ok(());
            }
            let p = result.unwrap();
            prop_assert_eq!(p.chars().count(), usize::try_from(s.length).unwrap());
            for c in p.chars() {
                prop_assert!(!s.exclude_characters.contains(c));
                prop_assert!(!(s.exclude_lowercase && c.is_ascii_lowercase()));
                prop_assert!(!(s.exclude_uppercase && c.is_ascii_uppercase()));
                prop_assert!(!(s.exclude_numbers && c.is_ascii_digit()));
                prop_assert!(!(s.exclude_punctuation && PUNCTUATION.contains(c)));
                prop_assert!(s.include_space || c != ' ');
                prop_assert!(alphabet().contains(&c));
            }
            if s.require_each_included_type {
                for class in &classes {
                    prop_assert!(p.chars().any(|c| class.contains(&c)));
                }
            }
        }
    }
}
