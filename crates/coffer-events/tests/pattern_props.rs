//! Property tests for event patterns.

use coffer_events::Pattern;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-zA-Z0-9 ._/-]{0,8}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1.0e12f64..1.0e12).prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn event() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => scalar(),
        1 => prop::collection::vec(scalar(), 0..4).prop_map(Value::from),
    ];
    let tree = leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::btree_map("[a-z]{1,3}", inner.clone(), 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            prop::collection::vec(
                prop::collection::btree_map("[a-z]{1,3}", inner, 1..3)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
                1..3
            )
            .prop_map(Value::from),
        ]
    });
    prop::collection::btree_map("[a-z]{1,3}", tree, 1..5)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// A pattern that lists each leaf value of `event` (None if nothing can be listed).
fn pattern_from(event: &Map<String, Value>) -> Option<Value> {
    let mut out = Map::new();
    for (k, v) in event {
        let field = match v {
            Value::Object(m) => pattern_from(m),
            Value::Array(items) if items.is_empty() => None,
            Value::Array(items) => match &items[0] {
                Value::Object(m) => pattern_from(m),
                Value::Array(_) => None,
                _ => Some(Value::Array(items.clone())),
            },
            scalar => Some(json!([scalar])),
        };
        if let Some(f) = field {
            out.insert(k.clone(), f);
        }
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn compile(v: Value) -> Pattern {
    Pattern::from_value(&v).unwrap_or_else(|e| panic!("{v}: {e}"))
}

proptest! {
    #[test]
    fn own_leaf_values_match(ev in event()) {
        let Some(p) = pattern_from(ev.as_object().unwrap()) else { return Ok(()) };
        prop_assert!(compile(p.clone()).matches(&ev), "pattern {} event {}", p, ev);
    }

    #[test]
    fn anything_but_is_the_negation_of_exact(
        v in scalar(),
        x in prop_oneof!["[a-c]{0,2}".prop_map(Value::from), (-3i64..3).prop_map(Value::from),
                         (-3i64..3).prop_map(|n| Value::from(n as f64))],
        same in any::<bool>(),
    ) {
        // Half the time test against the value itself when it is a valid operand.
        let x = if same && (v.is_string() || v.as_f64().is_some_and(|f| f.abs() <= 5e9)) {
            v.clone()
        } else {
            x
        };
        let ev = json!({"f": v});
        let exact = compile(json!({"f": [x.clone()]})).matches(&ev);
        let but = compile(json!({"f": [{"anything-but": x.clone()}]})).matches(&ev);
        let but_list = compile(json!({"f": [{"anything-but": [x]}]})).matches(&ev);
        prop_assert_eq!(but, !exact);
        prop_assert_eq!(but_list, !exact);
    }

    #[test]
    fn prefix_suffix_and_case(s in "[a-zA-Zà-ÿ0-9]{0,12}", cut in 0usize..13) {
        let chars: Vec<char> = s.chars().collect();
        let cut = cut.min(chars.len());
        let head: String = chars[..cut].iter().collect();
        let tail: String = chars[cut..].iter().collect();
        let ev = json!({"f": s});
        let ok = compile(json!({"f": [{"prefix": head}]})).matches(&ev);
        prop_assert!(ok);
        let ok = compile(json!({"f": [{"suffix": tail}]})).matches(&ev);
        prop_assert!(ok);
        let upper = s.to_uppercase();
        let ok = compile(json!({"f": [{"equals-ignore-case": upper}]})).matches(&ev);
        prop_assert!(ok);
        let ok = compile(json!({"f": [{"prefix": {"equals-ignore-case": head.to_uppercase()}}]})).matches(&ev);
        prop_assert!(ok);
        let ok = compile(json!({"f": [{"suffix": {"equals-ignore-case": tail.to_uppercase()}}]})).matches(&ev);
        prop_assert!(ok);
        let ok = !compile(json!({"f": [{"anything-but": {"prefix": format!("{head}~")}}]})).matches(&json!({"f": format!("{head}~x")}));
        prop_assert!(ok);
    }

    #[test]
    fn wildcard_from_a_cut_matches(s in "[a-c*\\\\]{0,10}", a in 0usize..11, b in 0usize..11) {
        let (a, b) = (a.min(s.len()).min(b.min(s.len())), a.max(b).min(s.len()));
        let esc = |t: &str| t.replace('\\', "\\\\").replace('*', "\\*");
        let glob = format!("{}*{}", esc(&s[..a]), esc(&s[b..]));
        let ok = compile(json!({"f": [{"wildcard": glob}]})).matches(&json!({"f": s}));
        prop_assert!(ok);
        // Without a star the wildcard is an exact match.
        let ok = compile(json!({"f": [{"wildcard": esc(&s)}]})).matches(&json!({"f": s.clone()}));
        prop_assert!(ok);
        let ok = !compile(json!({"f": [{"wildcard": esc(&s)}]})).matches(&json!({"f": format!("{s}a")}));
        prop_assert!(ok);
    }

    #[test]
    fn numeric_range_is_an_interval(lo in -1.0e9f64..1.0e9, width in 0.001f64..1.0e6, x in -2.0e9f64..2.0e9,
                                    lo_incl in any::<bool>(), hi_incl in any::<bool>()) {
        let hi = lo + width;
        let p = compile(json!({"n": [{"numeric": [if lo_incl {">="} else {">"}, lo, if hi_incl {"<="} else {"<"}, hi]}]}));
        let want = (if lo_incl { x >= lo } else { x > lo }) && (if hi_incl { x <= hi } else { x < hi });
        prop_assert_eq!(p.matches(&json!({"n": x})), want);
        let ok = compile(json!({"n": [{"numeric": ["=", lo]}]})).matches(&json!({"n": lo}));
        prop_assert!(ok);
    }

    #[test]
    fn or_is_a_disjunction(a in "[xy]", b in "[xy]", va in "[xy]", vb in "[xy]") {
        let ev = json!({"a": va, "b": vb});
        let pa = json!({"a": [a]});
        let pb = json!({"b": [b]});
        let either = compile(pa.clone()).matches(&ev) || compile(pb.clone()).matches(&ev);
        prop_assert_eq!(compile(json!({"$or": [pa, pb]})).matches(&ev), either);
    }

    #[test]
    fn parse_never_panics(text in "[\\[\\]{}\",:a-z0-9 *\\\\$-]{0,64}") {
        let _ = Pattern::parse(&text);
    }
}
