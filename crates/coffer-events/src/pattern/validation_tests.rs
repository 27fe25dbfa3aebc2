//! Validation errors and limits of event patterns.

use super::*;

fn err(text: &str) -> PatternError {
    match Pattern::parse(text) {
        Ok(_) => panic!("{text} was accepted"),
        Err(e) => e,
    }
}

#[test]
fn validation_errors() {
    use PatternError as E;
    let op_err = |text: &str, want_op: &str| match err(text) {
        E::BadOperand { op, .. } => assert_eq!(op, want_op, "{text}"),
        other => panic!("{text}: {other:?}"),
    };
    assert!(matches!(err("[1]"), E::NotAnObject));
    assert!(matches!(err("\"x\""), E::NotAnObject));
    assert!(matches!(err("{"), E::Json(_)));
    assert!(matches!(err("{}"), E::EmptyObject { path } if path == "<root>"));
    assert!(matches!(err(r#"{"d":{}}"#), E::EmptyObject { path } if path == "d"));
    assert!(matches!(err(r#"{"d":{"s":[]}}"#), E::EmptyArray { path } if path == "d.s"));
    assert!(matches!(err(r#"{"s":"x"}"#), E::NotObjectOrArray { .. }));
    assert!(matches!(err(r#"{"s":5}"#), E::NotObjectOrArray { .. }));
    assert!(matches!(err(r#"{"s":[["x"]]}"#), E::BadMatchValue { .. }));
    assert!(matches!(err(r#"{"s":[{}]}"#), E::OperatorCount { .. }));
    assert!(matches!(
        err(r#"{"s":[{"prefix":"a","suffix":"b"}]}"#),
        E::OperatorCount { .. }
    ));
    assert!(
        matches!(err(r#"{"s":[{"contains":"a"}]}"#), E::UnknownOperator { op, .. } if op == "contains")
    );
    op_err(r#"{"s":[{"prefix":5}]}"#, "prefix");
    op_err(r#"{"s":[{"prefix":{"equals-ignore-case":5}}]}"#, "prefix");
    op_err(r#"{"s":[{"suffix":{"wildcard":"x"}}]}"#, "suffix");
    op_err(
        r#"{"s":[{"equals-ignore-case":["a"]}]}"#,
        "equals-ignore-case",
    );
    op_err(r#"{"s":[{"wildcard":"a**"}]}"#, "wildcard");
    op_err(r#"{"s":[{"wildcard":"a\\b"}]}"#, "wildcard");
    op_err(r#"{"s":[{"exists":"true"}]}"#, "exists");
    op_err(r#"{"s":[{"cidr":"10.0.0.0/33"}]}"#, "cidr");
    op_err(r#"{"s":[{"cidr":"10.0.0.1"}]}"#, "cidr");
    op_err(r#"{"s":[{"anything-but":[]}]}"#, "anything-but");
    op_err(r#"{"s":[{"anything-but":["a",1]}]}"#, "anything-but");
    op_err(r#"{"s":[{"anything-but":true}]}"#, "anything-but");
    op_err(r#"{"s":[{"anything-but":null}]}"#, "anything-but");
    op_err(r#"{"s":[{"anything-but":{"prefix":""}}]}"#, "anything-but");
    op_err(
        r#"{"s":[{"anything-but":{"numeric":[">",1]}}]}"#,
        "anything-but",
    );
    op_err(
        r#"{"s":[{"anything-but":{"prefix":"a","suffix":"b"}}]}"#,
        "anything-but",
    );
    op_err(
        r#"{"s":[{"anything-but":{"wildcard":"**"}}]}"#,
        "anything-but",
    );
    op_err(r#"{"s":[{"anything-but":1e10}]}"#, "anything-but");
    op_err(r#"{"s":[{"numeric":5}]}"#, "numeric");
    op_err(r#"{"s":[{"numeric":[]}]}"#, "numeric");
    op_err(r#"{"s":[{"numeric":[">"]}]}"#, "numeric");
    op_err(r#"{"s":[{"numeric":["!=",5]}]}"#, "numeric");
    op_err(r#"{"s":[{"numeric":[">","5"]}]}"#, "numeric");
    op_err(r#"{"s":[{"numeric":["<",5,">",0]}]}"#, "numeric");
    op_err(r#"{"s":[{"numeric":[">",5,">",6]}]}"#, "numeric");
    op_err(r#"{"s":[{"numeric":["=",5,"<",6]}]}"#, "numeric");
    op_err(r#"{"s":[{"numeric":[">",5,"<",5]}]}"#, "numeric");
    op_err(r#"{"s":[{"numeric":[">",0,"<",5,"<",6]}]}"#, "numeric");
    op_err(r#"{"s":[{"numeric":[">",6e9]}]}"#, "numeric");
    assert!(matches!(err(r#"{"$or":[{"a":["1"]}]}"#), E::BadOr { .. }));
    assert!(matches!(err(r#"{"$or":{"a":["1"]}}"#), E::BadOr { .. }));
    assert!(matches!(
        err(r#"{"$or":[{"a":["1"]},"b"]}"#),
        E::BadOr { .. }
    ));
    assert!(matches!(
        err(r#"{"$or":[{"a":["1"]},{}]}"#),
        E::EmptyObject { .. }
    ));
    assert!(matches!(
        err(r#"{"$or":[{"numeric":[1]},{"prefix":["a"]}]}"#),
        E::ReservedNameInOr { name, .. } if name == "numeric"
    ));
    assert!(matches!(
        err(r#"{"$or":[{"a":{"prefix":["x"]}},{"b":["a"]}]}"#),
        E::ReservedNameInOr { .. }
    ));
    // Outside $or an operator name is an ordinary field name.
    assert!(
        Pattern::parse(r#"{"prefix":["x"]}"#)
            .unwrap()
            .matches(&serde_json::json!({"prefix":"x"}))
    );
}

#[test]
fn limits() {
    let long = format!(r#"{{"s":["{}"]}}"#, "x".repeat(MAX_PATTERN_BYTES));
    assert!(matches!(err(&long), PatternError::TooLarge { .. }));
    let nested = |levels: usize| {
        let mut s = String::new();
        for _ in 0..levels {
            s.push_str(r#"{"a":"#);
        }
        s.push_str(r#"["x"]"#);
        for _ in 0..levels {
            s.push('}');
        }
        s
    };
    assert!(Pattern::parse(&nested(MAX_PATTERN_DEPTH - 1)).is_ok());
    assert!(matches!(
        err(&nested(MAX_PATTERN_DEPTH)),
        PatternError::TooDeep { .. }
    ));
    assert!(matches!(err(&nested(200)), PatternError::TooDeep { .. }));
    let deep = serde_json::from_str::<Value>(&nested(40)).unwrap();
    assert!(matches!(
        Pattern::from_value(&deep),
        Err(PatternError::TooDeep { .. })
    ));
}

#[test]
fn errors_display_path() {
    let e = err(r#"{"detail":{"state":[{"numeric":["<",1,">",0]}]}}"#);
    assert!(
        e.to_string()
            .starts_with("detail.state: invalid \"numeric\" operand"),
        "{e}"
    );
}
