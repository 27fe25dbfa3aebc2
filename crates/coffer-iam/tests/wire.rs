//! Query request parsing and XML response shapes.

use coffer_iam::IamError;
use coffer_iam::wire::{QueryRequest, Service, WireError, XmlWriter, error_xml};

#[test]
fn parses_form_body_and_lists() {
    let body = b"Action=CreateUser&Version=2010-05-08&UserName=alice&Path=%2Fteam%2F\
&Tags.member.2.Key=b&Tags.member.2.Value=&Tags.member.1.Key=a+b&Tags.member.1.Value=v%26w\
&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FX&TransitiveTagKeys.member.1=a+b";
    let q = QueryRequest::parse(body, None).unwrap();
    assert_eq!(q.action(), Some("CreateUser"));
    assert_eq!(q.version(), Some("2010-05-08"));
    assert_eq!(q.required("Path").unwrap(), "/team/");
    assert_eq!(
        q.tags("Tags").unwrap(),
        vec![("a b".into(), "v&w".into()), ("b".into(), String::new())]
    );
    let arns: Vec<_> = q
        .structs("PolicyArns")
        .unwrap()
        .iter()
        .map(|s| s.get("arn").unwrap())
        .collect();
    assert_eq!(arns, vec!["arn:aws:iam::aws:policy/X"]);
    assert_eq!(q.list("TransitiveTagKeys").unwrap(), vec!["a b"]);
    assert!(q.list("Missing").unwrap().is_empty());
    assert!(matches!(
        q.required("Nope"),
        Err(WireError::MissingParameter(_))
    ));
}

#[test]
fn nested_lists_in_structs() {
    let q = QueryRequest::parse(
        b"ContextEntries.member.1.ContextKeyName=aws%3ASourceIp\
&ContextEntries.member.1.ContextKeyType=ip\
&ContextEntries.member.1.ContextKeyValues.member.1=10.0.0.1\
&ContextEntries.member.1.ContextKeyValues.member.2=10.0.0.2\
&ContextEntries.member.2.ContextKeyName=k&ContextEntries.member.2.ContextKeyValues=",
        None,
    )
    .unwrap();
    let entries = q.structs("ContextEntries").unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].get("ContextKeyName"), Some("aws:SourceIp"));
    assert_eq!(
        entries[0].list("ContextKeyValues").unwrap(),
        vec!["10.0.0.1", "10.0.0.2"]
    );
    assert!(entries[1].list("ContextKeyValues").unwrap().is_empty());
}

#[test]
fn rejects_bad_input() {
    assert!(matches!(
        QueryRequest::parse(b"A=1&A=2", None),
        Err(WireError::DuplicateParameter(_))
    ));
    assert!(matches!(
        QueryRequest::parse(b"A=1", Some("A=2")),
        Err(WireError::DuplicateParameter(_))
    ));
    assert!(matches!(
        QueryRequest::parse(b"A=%zz", None),
        Err(WireError::Malformed(_))
    ));
    assert!(matches!(
        QueryRequest::parse(b"A=%ff", None),
        Err(WireError::Malformed(_))
    ));
    let many: String = (0..1001).map(|i| format!("k{i}=v&")).collect();
    assert_eq!(
        QueryRequest::parse(many.as_bytes(), None),
        Err(WireError::TooManyParameters)
    );
    let gap = QueryRequest::parse(b"L.member.1=a&L.member.3=c", None).unwrap();
    assert!(matches!(gap.list("L"), Err(WireError::BadListIndex(_))));
    let zero = QueryRequest::parse(b"L.member.0=a", None).unwrap();
    assert!(zero.list("L").is_err());
    let lead = QueryRequest::parse(b"L.member.01=a", None).unwrap();
    assert!(lead.list("L").is_err());
    let q = QueryRequest::parse(b"N=12x&B=yes&M=-5&T=TRUE", None).unwrap();
    assert!(q.get_i64("N").is_err());
    assert!(q.get_bool("B").is_err());
    assert_eq!(q.get_i64("M").unwrap(), Some(-5));
    assert_eq!(q.get_bool("T").unwrap(), Some(true));
    assert_eq!(q.get_i64("absent").unwrap(), None);
    let e: IamError = WireError::MissingParameter("UserName".into()).into();
    assert_eq!(e.code(), "ValidationError");
    assert!(e.message().contains("Value null at 'userName'"));
}

#[test]
fn query_string_get() {
    let q = QueryRequest::parse(b"", Some("Action=GetCallerIdentity&Version=2011-06-15")).unwrap();
    assert_eq!(q.action(), Some("GetCallerIdentity"));
}

#[test]
fn xml_response_shape() {
    let mut w = XmlWriter::new(Service::Iam, "CreateUser");
    w.start("User")
        .text("UserName", "a<b>&'\"")
        .text("Path", "/")
        .timestamp("CreateDate", 1_795_608_000_000)
        .tags("Tags", [("k", "v")])
        .end();
    w.bool("IsTruncated", false)
        .string_list("Names", ["x", "y"]);
    let xml = w.finish("req-1");
    assert_eq!(
        xml,
        "<CreateUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
<CreateUserResult><User><UserName>a&lt;b&gt;&amp;&apos;&quot;</UserName><Path>/</Path>\
<CreateDate>2026-11-25T12:00:00Z</CreateDate>\
<Tags><member><Key>k</Key><Value>v</Value></member></Tags></User>\
<IsTruncated>false</IsTruncated><Names><member>x</member><member>y</member></Names>\
</CreateUserResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>\
</CreateUserResponse>"
    );
    let mut w = XmlWriter::without_result(Service::Iam, "DeleteUser");
    w.end();
    assert_eq!(
        w.finish("r"),
        "<DeleteUserResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\
<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteUserResponse>"
    );
}

#[test]
fn error_document() {
    let e = IamError::NoSuchEntity("The user with name bob cannot be found.".into());
    assert_eq!(e.status(), 404);
    assert_eq!(
        e.to_xml(Service::Iam, "r1"),
        "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error>\
<Type>Sender</Type><Code>NoSuchEntity</Code>\
<Message>The user with name bob cannot be found.</Message></Error>\
<RequestId>r1</RequestId></ErrorResponse>"
    );
    assert!(
        error_xml(Service::Sts, "ServiceFailure", "x", false, "r")
            .contains("<Type>Receiver</Type>")
    );
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        if let Ok(q) = QueryRequest::parse(&body, None) {
            let _ = q.list("a");
            let _ = q.structs("a");
            let _ = q.tags("a");
        }
    }

    #[test]
    fn form_roundtrip(pairs in proptest::collection::btree_map("[ -~]{1,12}", "\\PC{0,12}", 0..8)) {
        let enc = |s: &str| coffer_iam::wire::url_encode(s);
        let body: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect();
        let q = QueryRequest::parse(body.join("&").as_bytes(), None).unwrap();
        for (k, v) in &pairs {
            proptest::prop_assert_eq!(q.get(k), Some(v.as_str()));
        }
    }
}
