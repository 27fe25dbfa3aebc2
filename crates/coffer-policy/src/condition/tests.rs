use super::*;
use crate::context::{Principal, PrincipalKind};

fn ctx(keys: &[(&str, &[&str])]) -> RequestContext {
    let p = Principal {
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        account: "111122223333".into(),
        kind: PrincipalKind::User,
        role_arn: None,
    };
    let mut c = RequestContext::new(
        "secretsmanager:GetSecretValue",
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:x",
        p,
    );
    for (k, v) in keys {
        c.set_multi(k, v.iter().map(|s| s.to_string()).collect());
    }
    c
}

fn clause(op: &str, key: &str, values: &[&str]) -> ConditionClause {
    let vals: Vec<J> = values.iter().map(|v| J::Str(v.to_string())).collect();
    let j = J::Obj(vec![(op.into(), J::Obj(vec![(key.into(), J::Arr(vals))]))]);
    parse_block(&j, true).unwrap().remove(0)
}

fn eval(op: &str, vals: &[&str], req: Option<&[&str]>) -> bool {
    let c = match req {
        Some(r) => ctx(&[("k:x", r)]),
        None => ctx(&[]),
    };
    clause(op, "k:x", vals).evaluate(&c)
}

#[test]
fn operator_names() {
    for name in [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
    ] {
        assert!(parse_operator(name).is_some(), "{name}");
        assert!(
            parse_operator(&format!("{name}IfExists"))
                .unwrap()
                .if_exists,
            "{name}IfExists"
        );
        assert_eq!(
            parse_operator(&format!("ForAllValues:{name}")).unwrap().set,
            SetQualifier::ForAllValues
        );
        assert_eq!(
            parse_operator(&format!("ForAnyValue:{name}IfExists"))
                .unwrap()
                .set,
            SetQualifier::ForAnyValue
        );
    }
    assert!(parse_operator("Null").is_some());
    assert!(parse_operator("NullIfExists").is_none());
    assert!(parse_operator("ForAllValues:Null").is_none());
    assert!(parse_operator("StringEqualz").is_none());
    assert!(parse_operator("stringequals").is_none());
    assert!(parse_operator("ForSomeValues:StringEquals").is_none());
}

#[test]
fn strings() {
    assert!(eval("StringEquals", &["a"], Some(&["a"])));
    assert!(!eval("StringEquals", &["a"], Some(&["A"])));
    assert!(!eval("StringEquals", &["a"], None));
    assert!(eval("StringNotEquals", &["a"], None));
    assert!(eval("StringNotEquals", &["a"], Some(&["b"])));
    assert!(!eval("StringNotEquals", &["a", "b"], Some(&["b"])));
    assert!(eval(
        "StringEqualsIgnoreCase",
        &["straße"],
        Some(&["STRASSE".to_lowercase().replace("ss", "ß").as_str()])
    ));
    assert!(eval("StringEqualsIgnoreCase", &["ÉTÉ"], Some(&["été"])));
    assert!(!eval("StringNotEqualsIgnoreCase", &["A"], Some(&["a"])));
    assert!(eval("StringLike", &["a*z"], Some(&["abcz"])));
    assert!(!eval("StringNotLike", &["a*z"], Some(&["abcz"])));
    assert!(eval("StringEqualsIfExists", &["a"], None));
}

#[test]
fn numbers_dates_bools() {
    assert!(eval("NumericEquals", &["10"], Some(&["10.0"])));
    assert!(eval("NumericNotEquals", &["10"], Some(&["11"])));
    assert!(eval("NumericLessThan", &["10"], Some(&["9"])));
    assert!(eval("NumericLessThanEquals", &["10"], Some(&["10"])));
    assert!(eval("NumericGreaterThan", &["10"], Some(&["11"])));
    assert!(eval("NumericGreaterThanEquals", &["10"], Some(&["10"])));
    assert!(!eval("NumericGreaterThanEquals", &["ten"], Some(&["10"])));
    assert!(eval(
        "DateEquals",
        &["2026-11-25T12:00:00Z"],
        Some(&["1795608000"])
    ));
    assert!(eval(
        "DateNotEquals",
        &["2026-11-25T12:00:00Z"],
        Some(&["1795608001"])
    ));
    assert!(eval(
        "DateLessThan",
        &["2026-11-25T12:00:00Z"],
        Some(&["2026-11-25T11:59:59Z"])
    ));
    assert!(eval(
        "DateLessThanEquals",
        &["2026-11-25T12:00:00Z"],
        Some(&["2026-11-25T12:00:00Z"])
    ));
    assert!(eval(
        "DateGreaterThan",
        &["2026-11-25"],
        Some(&["2026-11-25T00:00:01Z"])
    ));
    assert!(eval(
        "DateGreaterThanEquals",
        &["2026-11-25"],
        Some(&["2026-11-25T00:00:00Z"])
    ));
    assert!(!eval(
        "DateGreaterThanEquals",
        &["bad"],
        Some(&["2026-11-25T00:00:00Z"])
    ));
    assert!(eval("Bool", &["true"], Some(&["True"])));
    assert!(!eval("Bool", &["true"], Some(&["1"])));
    assert!(eval("BinaryEquals", &["AAEC"], Some(&["AAEC"])));
    assert!(!eval("BinaryEquals", &["AAEC"], Some(&["AAED"])));
}

#[test]
fn ip_arn_null() {
    assert!(eval("IpAddress", &["10.0.0.0/8"], Some(&["10.9.9.9"])));
    assert!(eval("NotIpAddress", &["10.0.0.0/8"], Some(&["11.0.0.1"])));
    assert!(eval(
        "IpAddress",
        &["2001:db8::/32"],
        Some(&["2001:db8::5"])
    ));
    assert!(eval(
        "ArnLike",
        &["arn:aws:s3:::bucket/*"],
        Some(&["arn:aws:s3:::bucket/a:b"])
    ));
    assert!(eval(
        "ArnEquals",
        &["arn:aws:iam::*:role/x"],
        Some(&["arn:aws:iam::123456789012:role/x"])
    ));
    assert!(!eval(
        "ArnLike",
        &["arn:aws:iam::*:role/x"],
        Some(&["arn:aws:iam:123456789012:role/x"])
    ));
    assert!(eval(
        "ArnNotLike",
        &["arn:aws:iam::*:role/x"],
        Some(&["arn:aws:iam::1:role/y"])
    ));
    assert!(!eval(
        "ArnNotEquals",
        &["arn:aws:iam::*:role/x"],
        Some(&["arn:aws:iam::1:role/x"])
    ));
    assert!(eval("Null", &["true"], None));
    assert!(!eval("Null", &["true"], Some(&["v"])));
    assert!(eval("Null", &["false"], Some(&["v"])));
    assert!(eval("Null", &["true"], Some(&[])));
}

#[test]
fn set_qualifiers() {
    assert!(eval(
        "ForAllValues:StringEquals",
        &["a", "b"],
        Some(&["a", "b"])
    ));
    assert!(!eval(
        "ForAllValues:StringEquals",
        &["a"],
        Some(&["a", "b"])
    ));
    assert!(eval("ForAllValues:StringEquals", &["a"], None));
    assert!(eval("ForAnyValue:StringEquals", &["a"], Some(&["a", "b"])));
    assert!(!eval("ForAnyValue:StringEquals", &["a"], None));
    assert!(eval(
        "ForAnyValue:StringNotEquals",
        &["a"],
        Some(&["a", "b"])
    ));
    assert!(!eval(
        "ForAllValues:StringNotEquals",
        &["a"],
        Some(&["a", "b"])
    ));
    assert!(eval("ForAnyValue:StringEqualsIfExists", &["a"], None));
}

#[test]
fn variables_in_values() {
    let c = ctx(&[("aws:username", &["alice"]), ("k:x", &["alice"])]);
    assert!(clause("StringEquals", "k:x", &["${aws:username}"]).evaluate(&c));
    assert!(!clause("StringEquals", "k:x", &["${aws:userid}"]).evaluate(&c));
    assert!(clause("StringEquals", "k:x", &["${aws:userid, 'alice'}"]).evaluate(&c));
    assert_eq!(
        clause("StringEquals", "k:x", &["${aws:userid}"]).missing_keys(&c),
        vec!["aws:userid".to_string()]
    );
    assert_eq!(
        clause("StringEquals", "k:y", &["v"]).missing_keys(&c),
        vec!["k:y".to_string()]
    );
}

#[test]
fn malformed_values_are_reported() {
    assert_eq!(
        clause("NumericEquals", "k:x", &["1", "x"]).malformed_values(),
        vec!["x"]
    );
    assert_eq!(
        clause("DateEquals", "k:x", &["2026-02-30"]).malformed_values(),
        vec!["2026-02-30"]
    );
    assert_eq!(
        clause("IpAddress", "k:x", &["1.2.3.4/40"]).malformed_values(),
        vec!["1.2.3.4/40"]
    );
    assert_eq!(
        clause("Bool", "k:x", &["maybe"]).malformed_values(),
        vec!["maybe"]
    );
    assert!(
        clause("StringEquals", "k:x", &["anything"])
            .malformed_values()
            .is_empty()
    );
}
