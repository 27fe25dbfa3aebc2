//! Table-driven tests: each operator with matching and non-matching events, and the
//! validation errors.

use super::*;

/// (pattern, event, expected match)
const CASES: &[(&str, &str, bool)] = &[
    // exact strings, OR within an array, AND across fields, nesting
    (r#"{"source":["a"]}"#, r#"{"source":"a"}"#, true),
    (r#"{"source":["a"]}"#, r#"{"source":"b"}"#, false),
    (r#"{"source":["a"]}"#, r#"{}"#, false),
    (r#"{"source":["a","b"]}"#, r#"{"source":"b"}"#, true),
    (
        r#"{"source":["a"],"x":["1"]}"#,
        r#"{"source":"a","x":"1"}"#,
        true,
    ),
    (
        r#"{"source":["a"],"x":["1"]}"#,
        r#"{"source":"a","x":"2"}"#,
        false,
    ),
    (r#"{"d":{"s":["on"]}}"#, r#"{"d":{"s":"on","t":1}}"#, true),
    (r#"{"d":{"s":["on"]}}"#, r#"{"d":{"s":"off"}}"#, false),
    (r#"{"d":{"s":["on"]}}"#, r#"{"d":"on"}"#, false),
    (
        r#"{"d":{"e":{"f":["x"]}}}"#,
        r#"{"d":{"e":{"f":"x"}}}"#,
        true,
    ),
    (r#"{"source":["A"]}"#, r#"{"source":"a"}"#, false),
    (r#"{"s":[""]}"#, r#"{"s":""}"#, true),
    (r#"{"s":[""]}"#, r#"{"s":null}"#, false),
    // numbers, booleans, null: typed and numeric
    (r#"{"n":[3]}"#, r#"{"n":3.0}"#, true),
    (r#"{"n":[3.0]}"#, r#"{"n":3}"#, true),
    (r#"{"n":[3e0]}"#, r#"{"n":3}"#, true),
    (r#"{"n":[3]}"#, r#"{"n":"3"}"#, false),
    (r#"{"n":["3"]}"#, r#"{"n":3}"#, false),
    (r#"{"n":[111122223333]}"#, r#"{"n":111122223333}"#, true),
    (
        r#"{"n":[9007199254740993]}"#,
        r#"{"n":9007199254740992}"#,
        false,
    ),
    (r#"{"b":[true]}"#, r#"{"b":true}"#, true),
    (r#"{"b":[true]}"#, r#"{"b":"true"}"#, false),
    (r#"{"b":[false]}"#, r#"{"b":true}"#, false),
    (r#"{"u":[null]}"#, r#"{"u":null}"#, true),
    (r#"{"u":[null]}"#, r#"{}"#, false),
    (r#"{"u":[null]}"#, r#"{"u":"null"}"#, false),
    // array-valued event fields: any element; arrays of objects element-consistent
    (r#"{"r":["x"]}"#, r#"{"r":["w","x"]}"#, true),
    (r#"{"r":["x"]}"#, r#"{"r":["w","y"]}"#, false),
    (r#"{"r":["x"]}"#, r#"{"r":[]}"#, false),
    (r#"{"r":["x"]}"#, r#"{"r":[["w"],["x"]]}"#, true),
    (
        r#"{"e":{"f":["Anna"]}}"#,
        r#"{"e":[{"f":"John"},{"f":"Anna"}]}"#,
        true,
    ),
    (
        r#"{"e":{"f":["Anna"],"l":["Jones"]}}"#,
        r#"{"e":[{"f":"Anna","l":"Smith"},{"f":"Peter","l":"Jones"}]}"#,
        false,
    ),
    (
        r#"{"e":{"f":["Anna"],"l":["Smith"]}}"#,
        r#"{"e":[{"f":"John","l":"Doe"},{"f":"Anna","l":"Smith"}]}"#,
        true,
    ),
    // prefix / suffix (+ ignore case)
    (
        r#"{"t":[{"prefix":"2017-10-02"}]}"#,
        r#"{"t":"2017-10-02T18:43:48Z"}"#,
        true,
    ),
    (
        r#"{"t":[{"prefix":"2017-10-02"}]}"#,
        r#"{"t":"2017-10-03T18:43:48Z"}"#,
        false,
    ),
    (r#"{"t":[{"prefix":"1"}]}"#, r#"{"t":12}"#, false),
    (r#"{"t":[{"prefix":""}]}"#, r#"{"t":"anything"}"#, true),
    (
        r#"{"s":[{"prefix":{"equals-ignore-case":"EventB"}}]}"#,
        r#"{"s":"eventbridge"}"#,
        true,
    ),
    (
        r#"{"s":[{"prefix":{"equals-ignore-case":"EventB"}}]}"#,
        r#"{"s":"Event"}"#,
        false,
    ),
    (r#"{"f":[{"suffix":".png"}]}"#, r#"{"f":"a.png"}"#, true),
    (r#"{"f":[{"suffix":".png"}]}"#, r#"{"f":"a.PNG"}"#, false),
    (
        r#"{"f":[{"suffix":{"equals-ignore-case":".png"}}]}"#,
        r#"{"f":"a.PNG"}"#,
        true,
    ),
    (
        r#"{"f":[{"suffix":{"equals-ignore-case":".png"}}]}"#,
        r#"{"f":"a.jpg"}"#,
        false,
    ),
    // equals-ignore-case
    (
        r#"{"n":[{"equals-ignore-case":"alice"}]}"#,
        r#"{"n":"ALICE"}"#,
        true,
    ),
    (
        r#"{"n":[{"equals-ignore-case":"alice"}]}"#,
        r#"{"n":"alicia"}"#,
        false,
    ),
    (
        r#"{"n":[{"equals-ignore-case":"ÉTÉ"}]}"#,
        r#"{"n":"été"}"#,
        true,
    ),
    // wildcard
    (
        r#"{"p":[{"wildcard":"dir/*.png"}]}"#,
        r#"{"p":"dir/a/b.png"}"#,
        true,
    ),
    (
        r#"{"p":[{"wildcard":"dir/*.png"}]}"#,
        r#"{"p":"dir/a/b.jpg"}"#,
        false,
    ),
    (r#"{"p":[{"wildcard":"a\\*b"}]}"#, r#"{"p":"a*b"}"#, true),
    (r#"{"p":[{"wildcard":"a\\*b"}]}"#, r#"{"p":"axxb"}"#, false),
    (r#"{"p":[{"wildcard":"*"}]}"#, r#"{"p":5}"#, false),
    // anything-but: single, list, numbers, nested forms; field must be present
    (
        r#"{"s":[{"anything-but":"init"}]}"#,
        r#"{"s":"running"}"#,
        true,
    ),
    (
        r#"{"s":[{"anything-but":"init"}]}"#,
        r#"{"s":"init"}"#,
        false,
    ),
    (r#"{"s":[{"anything-but":"init"}]}"#, r#"{}"#, false),
    (r#"{"s":[{"anything-but":"init"}]}"#, r#"{"s":null}"#, true),
    (
        r#"{"s":[{"anything-but":["a","b"]}]}"#,
        r#"{"s":"b"}"#,
        false,
    ),
    (
        r#"{"s":[{"anything-but":["a","b"]}]}"#,
        r#"{"s":"c"}"#,
        true,
    ),
    (r#"{"x":[{"anything-but":123}]}"#, r#"{"x":123.0}"#, false),
    (r#"{"x":[{"anything-but":123}]}"#, r#"{"x":"123"}"#, true),
    (
        r#"{"x":[{"anything-but":[100,200]}]}"#,
        r#"{"x":300}"#,
        true,
    ),
    (
        r#"{"x":[{"anything-but":[100,200]}]}"#,
        r#"{"x":200}"#,
        false,
    ),
    (
        r#"{"s":[{"anything-but":{"prefix":"init"}}]}"#,
        r#"{"s":"initializing"}"#,
        false,
    ),
    (
        r#"{"s":[{"anything-but":{"prefix":"init"}}]}"#,
        r#"{"s":"running"}"#,
        true,
    ),
    (
        r#"{"s":[{"anything-but":{"prefix":["a","b"]}}]}"#,
        r#"{"s":"bee"}"#,
        false,
    ),
    (
        r#"{"f":[{"anything-but":{"suffix":".png"}}]}"#,
        r#"{"f":"a.png"}"#,
        false,
    ),
    (
        r#"{"f":[{"anything-but":{"suffix":".png"}}]}"#,
        r#"{"f":"a.gif"}"#,
        true,
    ),
    (
        r#"{"s":[{"anything-but":{"equals-ignore-case":"init"}}]}"#,
        r#"{"s":"INIT"}"#,
        false,
    ),
    (
        r#"{"s":[{"anything-but":{"equals-ignore-case":["x","init"]}}]}"#,
        r#"{"s":"Init"}"#,
        false,
    ),
    (
        r#"{"s":[{"anything-but":{"equals-ignore-case":"init"}}]}"#,
        r#"{"s":"run"}"#,
        true,
    ),
    (
        r#"{"p":[{"anything-but":{"wildcard":"*/lib/*"}}]}"#,
        r#"{"p":"/usr/lib/x"}"#,
        false,
    ),
    (
        r#"{"p":[{"anything-but":{"wildcard":"*/lib/*"}}]}"#,
        r#"{"p":"/usr/bin/x"}"#,
        true,
    ),
    (
        r#"{"s":[{"anything-but":"a"}]}"#,
        r#"{"s":["a","b"]}"#,
        true,
    ),
    (r#"{"s":[{"anything-but":"a"}]}"#, r#"{"s":["a"]}"#, false),
    // numeric
    (r#"{"c":[{"numeric":[">",0,"<=",5]}]}"#, r#"{"c":5}"#, true),
    (r#"{"c":[{"numeric":[">",0,"<=",5]}]}"#, r#"{"c":0}"#, false),
    (
        r#"{"c":[{"numeric":[">",0,"<=",5]}]}"#,
        r#"{"c":5.000001}"#,
        false,
    ),
    (r#"{"c":[{"numeric":[">=",0,"<",5]}]}"#, r#"{"c":0}"#, true),
    (r#"{"c":[{"numeric":[">=",0,"<",5]}]}"#, r#"{"c":5}"#, false),
    (r#"{"c":[{"numeric":["<",10]}]}"#, r#"{"c":-3}"#, true),
    (r#"{"c":[{"numeric":["<=",10]}]}"#, r#"{"c":10}"#, true),
    (r#"{"c":[{"numeric":[">",10]}]}"#, r#"{"c":10}"#, false),
    (
        r#"{"c":[{"numeric":["=",301.8]}]}"#,
        r#"{"c":3.018e2}"#,
        true,
    ),
    (r#"{"c":[{"numeric":["=",5]}]}"#, r#"{"c":"5"}"#, false),
    (r#"{"c":[{"numeric":[">",0]}]}"#, r#"{"c":[-1,2]}"#, true),
    // exists
    (r#"{"c":[{"exists":true}]}"#, r#"{"c":1}"#, true),
    (r#"{"c":[{"exists":true}]}"#, r#"{"c":null}"#, true),
    (r#"{"c":[{"exists":true}]}"#, r#"{"d":1}"#, false),
    (r#"{"c":[{"exists":true}]}"#, r#"{"c":{"c1":1}}"#, false),
    (r#"{"c":[{"exists":false}]}"#, r#"{"d":1}"#, true),
    (r#"{"c":[{"exists":false}]}"#, r#"{"c":"x"}"#, false),
    (r#"{"c":[{"exists":false}]}"#, r#"{"c":{"c1":100}}"#, true),
    (r#"{"c":[{"exists":false}]}"#, r#"{"c":[]}"#, true),
    (r#"{"d":{"c":[{"exists":false}]}}"#, r#"{}"#, true),
    (
        r#"{"d":{"c":[{"exists":true}]}}"#,
        r#"{"d":{"c":[1]}}"#,
        true,
    ),
    (r#"{"c":[{"exists":false},"x"]}"#, r#"{"c":"x"}"#, true),
    // cidr
    (
        r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#,
        r#"{"ip":"10.0.0.33"}"#,
        true,
    ),
    (
        r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#,
        r#"{"ip":"10.0.1.33"}"#,
        false,
    ),
    (
        r#"{"ip":[{"cidr":"10.0.0.0/24"}]}"#,
        r#"{"ip":"not an ip"}"#,
        false,
    ),
    (
        r#"{"ip":[{"cidr":"2001:db8::/32"}]}"#,
        r#"{"ip":"2001:db8::1"}"#,
        true,
    ),
    (
        r#"{"ip":[{"cidr":"2001:db8::/32"}]}"#,
        r#"{"ip":"2001:db9::1"}"#,
        false,
    ),
    (
        r#"{"ip":[{"cidr":"2001:db8::/32"}]}"#,
        r#"{"ip":"10.0.0.1"}"#,
        false,
    ),
    // $or
    (
        r#"{"s":["x"],"$or":[{"a":["1"]},{"b":["2"]}]}"#,
        r#"{"s":"x","b":"2"}"#,
        true,
    ),
    (
        r#"{"s":["x"],"$or":[{"a":["1"]},{"b":["2"]}]}"#,
        r#"{"s":"x","b":"3"}"#,
        false,
    ),
    (
        r#"{"s":["x"],"$or":[{"a":["1"]},{"b":["2"]}]}"#,
        r#"{"s":"y","a":"1"}"#,
        false,
    ),
    (
        r#"{"$or":[{"a":["1"]},{"a":["2"],"b":["3"]}]}"#,
        r#"{"a":"2","b":"3"}"#,
        true,
    ),
    (
        r#"{"$or":[{"a":["1"]},{"a":["2"],"b":["3"]}]}"#,
        r#"{"a":"2"}"#,
        false,
    ),
    (
        r#"{"d":{"$or":[{"a":["1"]},{"b":["2"]}]}}"#,
        r#"{"d":{"b":"2"}}"#,
        true,
    ),
    (
        r#"{"d":{"$or":[{"a":["1"]},{"b":["2"]}]}}"#,
        r#"{"b":"2"}"#,
        false,
    ),
    (
        r#"{"$or":[{"a":["1"]},{"b":["2"],"$or":[{"c":[3]},{"e":[4]}]}]}"#,
        r#"{"b":"2","e":4}"#,
        true,
    ),
    (
        r#"{"$or":[{"a":["1"]},{"b":["2"],"$or":[{"c":[3]},{"e":[4]}]}]}"#,
        r#"{"b":"2","e":5}"#,
        false,
    ),
    // mixed operators in one array are ORed
    (
        r#"{"s":[{"prefix":"a"},{"numeric":[">",5]},"z"]}"#,
        r#"{"s":9}"#,
        true,
    ),
    (
        r#"{"s":[{"prefix":"a"},{"numeric":[">",5]},"z"]}"#,
        r#"{"s":"z"}"#,
        true,
    ),
    (
        r#"{"s":[{"prefix":"a"},{"numeric":[">",5]},"z"]}"#,
        r#"{"s":"b"}"#,
        false,
    ),
];

#[test]
fn table() {
    for (i, (pattern, event, want)) in CASES.iter().enumerate() {
        let p = Pattern::parse(pattern).unwrap_or_else(|e| panic!("case {i}: {pattern}: {e}"));
        let ev: Value = serde_json::from_str(event).unwrap();
        assert_eq!(p.matches(&ev), *want, "case {i}: {pattern} vs {event}");
    }
}

#[test]
fn documented_example() {
    let p = Pattern::parse(
        r#"{"time":[{"prefix":"2017-10-02"}],"detail":{"state":[{"anything-but":"initializing"}],
        "c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],
        "x-limit":[{"anything-but":[100,200,300]}],"source-ip":[{"cidr":"10.0.0.0/8"}]}}"#,
    )
    .unwrap();
    let mut ev = serde_json::json!({"version":"0","time":"2017-10-02T16:24:49Z",
        "detail":{"c-count":5,"d-count":3,"x-limit":301.8,"source-ip":"10.0.0.33",
        "state":"running"}});
    assert!(p.matches(&ev));
    ev["detail"]["x-limit"] = 200.into();
    assert!(!p.matches(&ev));
}

#[test]
fn non_object_events() {
    let p = Pattern::parse(r#"{"a":[{"exists":false}]}"#).unwrap();
    assert!(p.matches(&Value::Null));
    let p = Pattern::parse(r#"{"a":["x"]}"#).unwrap();
    assert!(!p.matches(&serde_json::json!("x")));
}
