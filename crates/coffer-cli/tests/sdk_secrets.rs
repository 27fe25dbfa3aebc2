//! Every implemented Secrets Manager operation, through the AWS SDK for Rust, against a real
//! `coffer serve --dev` process. Each test starts its own server.

mod common;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::primitives::{Blob, DateTime};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, SortByType, SortOrderType, Tag};
use common::{REGION, Server, expect_err, unique};
use std::collections::{BTreeSet, HashMap};

const DAY_MS: i64 = 86_400_000;

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(v).build()
}

fn filter(key: &str, values: &[&str]) -> Filter {
    let mut b = Filter::builder().key(FilterNameStringType::from(key));
    for v in values {
        b = b.values(*v);
    }
    b.build()
}

fn ms(d: Option<&DateTime>) -> i64 {
    d.expect("date present").to_millis().expect("date in range")
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// A 36-character version id that exists nowhere.
const NO_SUCH_VERSION: &str = "00000000-0000-4000-8000-000000000000";

async fn create(c: &Client, name: &str, value: &str) -> (String, String) {
    let out = c
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create");
    (
        out.arn().expect("arn").to_owned(),
        out.version_id().expect("version").to_owned(),
    )
}

async fn put(c: &Client, id: &str, value: &str) -> String {
    c.put_secret_value()
        .secret_id(id)
        .secret_string(value)
        .send()
        .await
        .expect("put")
        .version_id()
        .expect("version")
        .to_owned()
}

async fn get_string(c: &Client, id: &str) -> String {
    c.get_secret_value()
        .secret_id(id)
        .send()
        .await
        .expect("get")
        .secret_string()
        .expect("string")
        .to_owned()
}

async fn stages(c: &Client, id: &str) -> HashMap<String, Vec<String>> {
    let d = c
        .describe_secret()
        .secret_id(id)
        .send()
        .await
        .expect("describe");
    d.version_ids_to_stages()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, sorted(&v)))
        .collect()
}

fn labels(l: &[&str]) -> Vec<String> {
    sorted(&l.iter().map(|s| s.to_string()).collect::<Vec<_>>())
}

/// All names ListSecrets returns for `filters`, following NextToken with `page` per call.
async fn list_all(
    c: &Client,
    filters: &[Filter],
    page: Option<i32>,
    order: Option<SortOrderType>,
) -> Vec<String> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..1000 {
        let out = c
            .list_secrets()
            .set_filters((!filters.is_empty()).then(|| filters.to_vec()))
            .set_max_results(page)
            .set_sort_order(order.clone())
            .set_next_token(token.clone())
            .send()
            .await
            .expect("list");
        if let Some(p) = page {
            assert!(
                out.secret_list().len() <= p as usize,
                "page larger than MaxResults"
            );
        }
        names.extend(
            out.secret_list()
                .iter()
                .map(|s| s.name().expect("name").to_owned()),
        );
        match out.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return names,
        }
    }
    panic!("ListSecrets never ended");
}

// ---------------------------------------------------------------------------------------
// CreateSecret / GetSecretValue
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn create_string_secret_with_description_and_tags() {
    let s = Server::dev().await;
    let root = s.root();
    let c = s.client(&root);
    let name = unique("app/db");
    let out = c
        .create_secret()
        .name(&name)
        .secret_string(r#"{"user":"admin","password":"hunter2"}"#)
        .description("Primary database")
        .tags(tag("env", "prod"))
        .tags(tag("team", "core"))
        .send()
        .await
        .expect("create");
    assert_eq!(out.name(), Some(name.as_str()));
    let arn = out.arn().expect("arn");
    let prefix = format!(
        "arn:aws:secretsmanager:{REGION}:{}:secret:{name}-",
        root.account_id
    );
    assert!(arn.starts_with(&prefix), "{arn} should start with {prefix}");
    let suffix = &arn[prefix.len()..];
    assert_eq!(suffix.len(), 6, "random suffix of {arn}");
    assert!(suffix.bytes().all(|b| b.is_ascii_alphanumeric()));
    let vid = out.version_id().expect("version id");
    assert!(!vid.is_empty());

    let g = c
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .expect("get");
    assert_eq!(
        g.secret_string(),
        Some(r#"{"user":"admin","password":"hunter2"}"#)
    );
    assert!(g.secret_binary().is_none());
    assert_eq!(g.arn(), Some(arn));
    assert_eq!(g.name(), Some(name.as_str()));
    assert_eq!(g.version_id(), Some(vid));
    assert_eq!(g.version_stages(), ["AWSCURRENT"]);
    assert!(g.created_date().is_some());

    let d = c
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .expect("describe");
    assert_eq!(d.description(), Some("Primary database"));
    let mut tags: Vec<(String, String)> = d
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        [
            ("env".into(), "prod".into()),
            ("team".into(), "core".into())
        ]
    );
}

#[tokio::test]
async fn create_binary_secret() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("bin");
    let bytes: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
    let out = c
        .create_secret()
        .name(&name)
        .secret_binary(Blob::new(bytes.clone()))
        .send()
        .await
        .expect("create");
    let g = c
        .get_secret_value()
        .secret_id(out.arn().unwrap())
        .send()
        .await
        .expect("get");
    assert_eq!(g.secret_binary().map(|b| b.as_ref().to_vec()), Some(bytes));
    assert!(g.secret_string().is_none());
    assert_eq!(g.version_id(), out.version_id());
}

#[tokio::test]
async fn create_without_value_then_put() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("empty");
    let out = c
        .create_secret()
        .name(&name)
        .description("no value yet")
        .send()
        .await
        .expect("create");
    assert!(
        out.version_id().is_none(),
        "no version without a value: {out:?}"
    );
    expect_err(
        c.get_secret_value().secret_id(&name).send().await,
        "ResourceNotFoundException",
    );
    let d = c
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .expect("describe");
    assert!(d.version_ids_to_stages().is_none_or(|m| m.is_empty()));
    let versions = c
        .list_secret_version_ids()
        .secret_id(&name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert!(versions.versions().is_empty());

    let p = c
        .put_secret_value()
        .secret_id(&name)
        .secret_string("first")
        .send()
        .await
        .expect("put");
    assert_eq!(p.version_stages(), ["AWSCURRENT"]);
    assert_eq!(p.name(), Some(name.as_str()));
    assert_eq!(p.arn(), out.arn());
    let g = c
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .expect("get");
    assert_eq!(g.secret_string(), Some("first"));
    assert_eq!(g.version_id(), p.version_id());
    assert_eq!(g.version_stages(), ["AWSCURRENT"]);
}

#[tokio::test]
async fn first_version_always_gets_awscurrent() {
    // PutSecretValue docs: "If this operation creates the first version for the secret, then
    // Secrets Manager automatically attaches the staging label AWSCURRENT to it."
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("first-custom");
    c.create_secret().name(&name).send().await.expect("create");
    let p = c
        .put_secret_value()
        .secret_id(&name)
        .secret_string("staged first")
        .version_stages("STAGING")
        .send()
        .await
        .expect("put");
    let vid = p.version_id().unwrap().to_owned();
    assert_eq!(
        sorted(p.version_stages()),
        labels(&["AWSCURRENT", "STAGING"])
    );
    let g = c
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .expect("AWSCURRENT exists");
    assert_eq!(g.secret_string(), Some("staged first"));
    assert_eq!(g.version_id(), Some(vid.as_str()));
    assert_eq!(
        stages(&c, &name).await[&vid],
        labels(&["AWSCURRENT", "STAGING"])
    );
    // Later puts with custom labels leave AWSCURRENT alone.
    let p2 = c
        .put_secret_value()
        .secret_id(&name)
        .secret_string("next")
        .version_stages("STAGING")
        .send()
        .await
        .unwrap();
    assert_eq!(p2.version_stages(), ["STAGING"]);
    assert_eq!(get_string(&c, &name).await, "staged first");
    assert_eq!(stages(&c, &name).await[&vid], labels(&["AWSCURRENT"]));
}

#[tokio::test]
async fn get_by_name_full_arn_and_partial_arn() {
    let s = Server::dev().await;
    let root = s.root();
    let c = s.client(&root);
    let name = unique("svc/api-key");
    let (arn, _) = create(&c, &name, "v").await;
    let partial = format!(
        "arn:aws:secretsmanager:{REGION}:{}:secret:{name}",
        root.account_id
    );
    assert_ne!(partial, arn);
    for id in [name.as_str(), arn.as_str(), partial.as_str()] {
        let g = c
            .get_secret_value()
            .secret_id(id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{id}: {e:?}"));
        assert_eq!(g.secret_string(), Some("v"), "by {id}");
        assert_eq!(g.arn(), Some(arn.as_str()));
        let d = c
            .describe_secret()
            .secret_id(id)
            .send()
            .await
            .expect("describe");
        assert_eq!(d.arn(), Some(arn.as_str()));
    }
    // A full ARN with the wrong suffix does not match.
    let wrong = format!("{}XXXXXX", &arn[..arn.len() - 6]);
    if wrong != arn {
        expect_err(
            c.get_secret_value().secret_id(&wrong).send().await,
            "ResourceNotFoundException",
        );
    }
    expect_err(
        c.get_secret_value()
            .secret_id(unique("missing"))
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

#[tokio::test]
async fn get_by_version_id_and_stage() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("versions");
    let (_, v1) = create(&c, &name, "one").await;
    let v2 = put(&c, &name, "two").await;
    assert_ne!(v1, v2);

    let g = c
        .get_secret_value()
        .secret_id(&name)
        .version_id(&v1)
        .send()
        .await
        .expect("by id");
    assert_eq!(g.secret_string(), Some("one"));
    assert_eq!(g.version_stages(), ["AWSPREVIOUS"]);
    let g = c
        .get_secret_value()
        .secret_id(&name)
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .expect("by stage");
    assert_eq!(g.secret_string(), Some("one"));
    assert_eq!(g.version_id(), Some(v1.as_str()));
    let g = c
        .get_secret_value()
        .secret_id(&name)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .expect("current");
    assert_eq!(g.secret_string(), Some("two"));
    // Matching id + stage.
    let g = c
        .get_secret_value()
        .secret_id(&name)
        .version_id(&v2)
        .version_stage("AWSCURRENT")
        .send()
        .await
        .expect("id+stage");
    assert_eq!(g.secret_string(), Some("two"));
    // Mismatched id + stage.
    expect_err(
        c.get_secret_value()
            .secret_id(&name)
            .version_id(&v1)
            .version_stage("AWSCURRENT")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.get_secret_value()
            .secret_id(&name)
            .version_id(NO_SUCH_VERSION)
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.get_secret_value()
            .secret_id(&name)
            .version_stage("NOPE")
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

// ---------------------------------------------------------------------------------------
// PutSecretValue, idempotency, UpdateSecret
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn put_moves_current_and_previous_labels() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("labels");
    let (_, v1) = create(&c, &name, "1").await;
    let v2 = put(&c, &name, "2").await;
    let st = stages(&c, &name).await;
    assert_eq!(st.len(), 2);
    assert_eq!(st[&v1], labels(&["AWSPREVIOUS"]));
    assert_eq!(st[&v2], labels(&["AWSCURRENT"]));

    let v3 = put(&c, &name, "3").await;
    let st = stages(&c, &name).await;
    assert_eq!(st.len(), 2, "v1 has no labels any more: {st:?}");
    assert!(!st.contains_key(&v1));
    assert_eq!(st[&v2], labels(&["AWSPREVIOUS"]));
    assert_eq!(st[&v3], labels(&["AWSCURRENT"]));
    assert_eq!(get_string(&c, &name).await, "3");
    // The unlabeled version is still readable by id.
    let g = c
        .get_secret_value()
        .secret_id(&name)
        .version_id(&v1)
        .send()
        .await
        .expect("old version");
    assert_eq!(g.secret_string(), Some("1"));
    assert!(g.version_stages().is_empty());
}

#[tokio::test]
async fn put_with_custom_stages_keeps_current() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("custom");
    let (_, v1) = create(&c, &name, "live").await;
    let p = c
        .put_secret_value()
        .secret_id(&name)
        .secret_string("staged")
        .version_stages("STAGING")
        .version_stages("CANARY")
        .send()
        .await
        .expect("put");
    let v2 = p.version_id().unwrap().to_owned();
    assert_eq!(sorted(p.version_stages()), labels(&["CANARY", "STAGING"]));
    assert_eq!(get_string(&c, &name).await, "live");
    let st = stages(&c, &name).await;
    assert_eq!(st[&v1], labels(&["AWSCURRENT"]));
    assert_eq!(st[&v2], labels(&["CANARY", "STAGING"]));
    let g = c
        .get_secret_value()
        .secret_id(&name)
        .version_stage("STAGING")
        .send()
        .await
        .unwrap();
    assert_eq!(g.secret_string(), Some("staged"));

    // A later put with STAGING takes the label away from v2; CANARY stays.
    let v3 = c
        .put_secret_value()
        .secret_id(&name)
        .secret_string("staged2")
        .version_stages("STAGING")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    let st = stages(&c, &name).await;
    assert_eq!(st[&v1], labels(&["AWSCURRENT"]));
    assert_eq!(st[&v2], labels(&["CANARY"]));
    assert_eq!(st[&v3], labels(&["STAGING"]));
}

#[tokio::test]
async fn put_is_idempotent_per_client_request_token() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("idem");
    create(&c, &name, "base").await;
    let token = "11111111-2222-4333-8444-555555555555";
    let count = |c: Client, name: String| async move {
        c.list_secret_version_ids()
            .secret_id(name)
            .include_deprecated(true)
            .send()
            .await
            .expect("versions")
            .versions()
            .len()
    };
    let p1 = c
        .put_secret_value()
        .secret_id(&name)
        .secret_string("x")
        .client_request_token(token)
        .send()
        .await;
    let p1 = p1.expect("first put");
    assert_eq!(p1.version_id(), Some(token));
    assert_eq!(count(c.clone(), name.clone()).await, 2);

    let p2 = c
        .put_secret_value()
        .secret_id(&name)
        .secret_string("x")
        .client_request_token(token)
        .send()
        .await;
    let p2 = p2.expect("retry");
    assert_eq!(p2.version_id(), Some(token));
    assert_eq!(p2.version_stages(), ["AWSCURRENT"]);
    assert_eq!(
        count(c.clone(), name.clone()).await,
        2,
        "a retry creates no version"
    );

    expect_err(
        c.put_secret_value()
            .secret_id(&name)
            .secret_string("y")
            .client_request_token(token)
            .send()
            .await,
        "ResourceExistsException",
    );
    // A binary value with the same bytes is a different value.
    expect_err(
        c.put_secret_value()
            .secret_id(&name)
            .secret_binary(Blob::new(b"x".to_vec()))
            .client_request_token(token)
            .send()
            .await,
        "ResourceExistsException",
    );
    assert_eq!(get_string(&c, &name).await, "x");
    assert_eq!(count(c.clone(), name.clone()).await, 2);
}

#[tokio::test]
async fn create_secret_retry_with_same_token() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("create-retry");
    let token = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
    let a = c
        .create_secret()
        .name(&name)
        .secret_string("v")
        .client_request_token(token)
        .send()
        .await
        .unwrap();
    let b = c
        .create_secret()
        .name(&name)
        .secret_string("v")
        .client_request_token(token)
        .send()
        .await;
    let b = b.expect("idempotent retry");
    assert_eq!(a.arn(), b.arn());
    assert_eq!(b.version_id(), Some(token));
    expect_err(
        c.create_secret()
            .name(&name)
            .secret_string("other")
            .client_request_token(token)
            .send()
            .await,
        "ResourceExistsException",
    );
    expect_err(
        c.create_secret()
            .name(&name)
            .secret_string("v")
            .send()
            .await,
        "ResourceExistsException",
    );
    let versions = c
        .list_secret_version_ids()
        .secret_id(&name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(versions.versions().len(), 1);
}

#[tokio::test]
async fn update_secret_description_and_value() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("upd");
    let (arn, v1) = create(&c, &name, "old").await;
    let before = c.describe_secret().secret_id(&name).send().await.unwrap();

    let u = c
        .update_secret()
        .secret_id(&name)
        .description("new description")
        .send()
        .await
        .expect("update");
    assert_eq!(u.arn(), Some(arn.as_str()));
    assert_eq!(u.name(), Some(name.as_str()));
    assert!(
        u.version_id().is_none(),
        "no new version for a description change"
    );
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(d.description(), Some("new description"));
    assert!(ms(d.last_changed_date()) >= ms(before.last_changed_date()));
    assert_eq!(stages(&c, &name).await.len(), 1);
    assert_eq!(get_string(&c, &name).await, "old");

    let u = c
        .update_secret()
        .secret_id(&name)
        .secret_string("new")
        .send()
        .await
        .expect("update value");
    let v2 = u.version_id().expect("new version").to_owned();
    assert_eq!(get_string(&c, &name).await, "new");
    let st = stages(&c, &name).await;
    assert_eq!(st[&v1], labels(&["AWSPREVIOUS"]));
    assert_eq!(st[&v2], labels(&["AWSCURRENT"]));
    assert_eq!(
        c.describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .description(),
        Some("new description"),
        "a value-only update keeps the description"
    );

    // Both at once.
    let u = c
        .update_secret()
        .secret_id(&name)
        .secret_string("newer")
        .description("d2")
        .send()
        .await
        .unwrap();
    assert!(u.version_id().is_some());
    assert_eq!(get_string(&c, &name).await, "newer");
    assert_eq!(
        c.describe_secret()
            .secret_id(&name)
            .send()
            .await
            .unwrap()
            .description(),
        Some("d2")
    );

    expect_err(
        c.update_secret()
            .secret_id(unique("missing"))
            .description("x")
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_keep_label_invariants() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("concurrent");
    create(&c, &name, "0").await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (c, name) = (c.clone(), name.clone());
        tasks.push(tokio::spawn(async move {
            c.put_secret_value()
                .secret_id(name)
                .secret_string(format!("v{i}"))
                .send()
                .await
                .map(|_| ())
        }));
    }
    for t in tasks {
        t.await
            .expect("task")
            .expect("every concurrent put succeeds");
    }
    let st = stages(&c, &name).await;
    let holders = |label: &str| st.values().filter(|v| v.iter().any(|l| l == label)).count();
    assert_eq!(holders("AWSCURRENT"), 1, "{st:?}");
    assert_eq!(holders("AWSPREVIOUS"), 1, "{st:?}");
    let all = c
        .list_secret_version_ids()
        .secret_id(&name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(all.versions().len(), 17);

    // Concurrent idempotent creates: one secret, one version, every call succeeds.
    let name = unique("concurrent-create");
    let token = "cccccccc-cccc-4ccc-8ccc-cccccccccccc";
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (c, name) = (c.clone(), name.clone());
        tasks.push(tokio::spawn(async move {
            c.create_secret()
                .name(name)
                .secret_string("same")
                .client_request_token(token)
                .send()
                .await
        }));
    }
    let mut arns = BTreeSet::new();
    for t in tasks {
        let out = t
            .await
            .expect("task")
            .expect("every idempotent create succeeds");
        assert_eq!(out.version_id(), Some(token));
        arns.insert(out.arn().unwrap().to_owned());
    }
    assert_eq!(arns.len(), 1);
    let all = c
        .list_secret_version_ids()
        .secret_id(&name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(all.versions().len(), 1);
}

// ---------------------------------------------------------------------------------------
// UpdateSecretVersionStage
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn update_secret_version_stage_moves_and_errors() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("uvs");
    let (_, v1) = create(&c, &name, "1").await;
    let v2 = put(&c, &name, "2").await;

    // AWSCURRENT is on v2: moving it needs RemoveFromVersionId.
    let m = expect_err(
        c.update_secret_version_stage()
            .secret_id(&name)
            .version_stage("AWSCURRENT")
            .move_to_version_id(&v1)
            .send()
            .await,
        "InvalidParameterException",
    );
    assert!(m.contains(&v2), "message names the holder: {m}");
    // Removing AWSCURRENT without moving it.
    expect_err(
        c.update_secret_version_stage()
            .secret_id(&name)
            .version_stage("AWSCURRENT")
            .remove_from_version_id(&v2)
            .send()
            .await,
        "InvalidParameterException",
    );
    // Unknown versions.
    expect_err(
        c.update_secret_version_stage()
            .secret_id(&name)
            .version_stage("AWSCURRENT")
            .move_to_version_id(NO_SUCH_VERSION)
            .remove_from_version_id(&v2)
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.update_secret_version_stage()
            .secret_id(&name)
            .version_stage("CUSTOM")
            .remove_from_version_id(NO_SUCH_VERSION)
            .send()
            .await,
        "ResourceNotFoundException",
    );
    // Removing a label from a version that does not hold it.
    expect_err(
        c.update_secret_version_stage()
            .secret_id(&name)
            .version_stage("AWSCURRENT")
            .move_to_version_id(&v1)
            .remove_from_version_id(&v1)
            .send()
            .await,
        "InvalidParameterException",
    );
    // Neither MoveTo nor RemoveFrom.
    expect_err(
        c.update_secret_version_stage()
            .secret_id(&name)
            .version_stage("X")
            .send()
            .await,
        "InvalidParameterException",
    );
    // Unknown secret.
    expect_err(
        c.update_secret_version_stage()
            .secret_id(unique("missing"))
            .version_stage("X")
            .move_to_version_id(&v1)
            .send()
            .await,
        "ResourceNotFoundException",
    );
    // Nothing changed.
    let st = stages(&c, &name).await;
    assert_eq!(st[&v1], labels(&["AWSPREVIOUS"]));
    assert_eq!(st[&v2], labels(&["AWSCURRENT"]));

    // Roll back: AWSCURRENT to v1; v2 becomes AWSPREVIOUS.
    let out = c
        .update_secret_version_stage()
        .secret_id(&name)
        .version_stage("AWSCURRENT")
        .move_to_version_id(&v1)
        .remove_from_version_id(&v2)
        .send()
        .await
        .expect("move current");
    assert_eq!(out.name(), Some(name.as_str()));
    let st = stages(&c, &name).await;
    assert_eq!(st[&v1], labels(&["AWSCURRENT"]));
    assert_eq!(st[&v2], labels(&["AWSPREVIOUS"]));
    assert_eq!(get_string(&c, &name).await, "1");

    // A custom label: attach to v2 (free label, no RemoveFrom needed), then remove it.
    c.update_secret_version_stage()
        .secret_id(&name)
        .version_stage("BLUE")
        .move_to_version_id(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stages(&c, &name).await[&v2],
        labels(&["AWSPREVIOUS", "BLUE"])
    );
    expect_err(
        c.update_secret_version_stage()
            .secret_id(&name)
            .version_stage("BLUE")
            .move_to_version_id(&v1)
            .send()
            .await,
        "InvalidParameterException",
    );
    c.update_secret_version_stage()
        .secret_id(&name)
        .version_stage("BLUE")
        .remove_from_version_id(&v2)
        .send()
        .await
        .unwrap();
    assert_eq!(stages(&c, &name).await[&v2], labels(&["AWSPREVIOUS"]));
}

// ---------------------------------------------------------------------------------------
// DescribeSecret
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn describe_secret_fields() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("describe");
    let t0 = common::now_ms();
    let out = c
        .create_secret()
        .name(&name)
        .secret_string("v")
        .description("desc")
        .tags(tag("k", "v"))
        .send()
        .await
        .unwrap();
    let t1 = common::now_ms();
    let vid = out.version_id().unwrap().to_owned();
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(d.arn(), out.arn());
    assert_eq!(d.name(), Some(name.as_str()));
    assert_eq!(d.description(), Some("desc"));
    assert_eq!(d.primary_region(), Some(REGION));
    assert_eq!(d.tags().len(), 1);
    let vts = d.version_ids_to_stages().expect("VersionIdsToStages");
    assert_eq!(vts.len(), 1);
    assert_eq!(vts[&vid], ["AWSCURRENT"]);
    let created = ms(d.created_date());
    assert!(
        (t0 - 1000..=t1 + 1000).contains(&created),
        "CreatedDate {created} not in [{t0}, {t1}]"
    );
    assert!(ms(d.last_changed_date()) >= created);
    assert!(d.deleted_date().is_none());
    assert!(d.last_accessed_date().is_none(), "never read yet");
    assert!(d.rotation_enabled().is_none_or(|r| !r));

    // A read records LastAccessedDate (asynchronously, at day resolution).
    get_string(&c, &name).await;
    let mut accessed = None;
    let deadline = tokio::time::Instant::now() + common::START_TIMEOUT;
    while accessed.is_none() {
        let d = c.describe_secret().secret_id(&name).send().await.unwrap();
        accessed = d.last_accessed_date().map(|d| d.to_millis().unwrap());
        if accessed.is_none() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "LastAccessedDate never appeared"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let accessed = accessed.unwrap();
    let now = common::now_ms();
    assert!(
        accessed <= now && accessed > now - 2 * DAY_MS,
        "LastAccessedDate {accessed} vs now {now}"
    );
    assert_eq!(accessed % DAY_MS, 0, "day resolution");

    // DescribeSecret works on a secret scheduled for deletion and shows DeletedDate.
    let del = c
        .delete_secret()
        .secret_id(&name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    let d = c
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .expect("describe deleted");
    let deleted = ms(d.deleted_date());
    assert!(deleted >= created);
    assert!((ms(del.deletion_date()) - deleted - 7 * DAY_MS).abs() <= 1000);
    expect_err(
        c.describe_secret()
            .secret_id(unique("missing"))
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

// ---------------------------------------------------------------------------------------
// ListSecrets
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn list_secrets_filters() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let p = unique("lst");
    let alpha = format!("{p}/app/alpha");
    let beta = format!("{p}/app/beta");
    let gamma = format!("{p}/db/gamma");
    c.create_secret()
        .name(&alpha)
        .secret_string("a")
        .description("Alpha Database credentials")
        .tags(tag("env", "prod"))
        .tags(tag("team", "payments"))
        .send()
        .await
        .unwrap();
    c.create_secret()
        .name(&beta)
        .secret_string("b")
        .description("beta cache")
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap();
    c.create_secret()
        .name(&gamma)
        .secret_string("g")
        .description("GAMMA db")
        .tags(tag("owner", "ops"))
        .send()
        .await
        .unwrap();
    let set = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();
    let exp = |v: &[&String]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();

    assert_eq!(
        set(list_all(&c, &[], None, None).await),
        exp(&[&alpha, &beta, &gamma])
    );
    assert_eq!(
        set(list_all(&c, &[filter("name", &[&format!("{p}/app")])], None, None).await),
        exp(&[&alpha, &beta])
    );
    // name is case-sensitive.
    assert!(
        list_all(&c, &[filter("name", &[&format!("{p}/APP")])], None, None)
            .await
            .is_empty()
    );
    assert_eq!(
        set(list_all(&c, &[filter("tag-key", &["env"])], None, None).await),
        exp(&[&alpha, &beta])
    );
    assert_eq!(
        set(list_all(&c, &[filter("tag-key", &["te"])], None, None).await),
        exp(&[&alpha])
    );
    assert_eq!(
        set(list_all(&c, &[filter("tag-value", &["prod"])], None, None).await),
        exp(&[&alpha])
    );
    assert_eq!(
        set(list_all(&c, &[filter("tag-value", &["op", "de"])], None, None).await),
        exp(&[&beta, &gamma])
    );
    // description is a case-insensitive prefix.
    assert_eq!(
        set(list_all(&c, &[filter("description", &["alpha data"])], None, None).await),
        exp(&[&alpha])
    );
    assert_eq!(
        set(list_all(&c, &[filter("description", &["gamma"])], None, None).await),
        exp(&[&gamma])
    );
    assert!(
        list_all(&c, &[filter("description", &["database"])], None, None)
            .await
            .is_empty()
    );
    // Negation.
    assert_eq!(
        set(list_all(
            &c,
            &[filter("name", &[&p, &format!("!{p}/app")])],
            None,
            None
        )
        .await),
        exp(&[&gamma])
    );
    assert_eq!(
        set(list_all(&c, &[filter("tag-key", &["!env"])], None, None).await),
        exp(&[&gamma])
    );
    // Several filters: all must match.
    assert_eq!(
        set(list_all(
            &c,
            &[
                filter("name", &[&format!("{p}/app")]),
                filter("tag-value", &["dev"])
            ],
            None,
            None
        )
        .await),
        exp(&[&beta])
    );
    // all: words of names, descriptions, tags, case-insensitive.
    assert_eq!(
        set(list_all(&c, &[filter("all", &["GAMMA"])], None, None).await),
        exp(&[&gamma])
    );
    assert_eq!(
        set(list_all(&c, &[filter("all", &["payments"])], None, None).await),
        exp(&[&alpha])
    );
    assert_eq!(
        set(list_all(&c, &[filter("all", &["cache"])], None, None).await),
        exp(&[&beta])
    );
    assert_eq!(
        set(list_all(&c, &[filter("all", &["app"])], None, None).await),
        exp(&[&alpha, &beta])
    );
    assert_eq!(
        set(list_all(&c, &[filter("primary-region", &[REGION])], None, None).await),
        exp(&[&alpha, &beta, &gamma])
    );

    // Entries carry metadata but no values.
    let out = c
        .list_secrets()
        .filters(filter("name", &[&alpha]))
        .send()
        .await
        .unwrap();
    let e = &out.secret_list()[0];
    assert_eq!(e.description(), Some("Alpha Database credentials"));
    assert_eq!(e.tags().len(), 2);
    assert_eq!(e.secret_versions_to_stages().map(|m| m.len()), Some(1));
    assert!(e.created_date().is_some());

    // Invalid filters.
    expect_err(
        c.list_secrets()
            .filters(filter("name", &["bad#char"]))
            .send()
            .await,
        "InvalidParameterException",
    );
    expect_err(
        c.list_secrets()
            .filters(filter("color", &["x"]))
            .send()
            .await,
        "InvalidParameterException",
    );
}

#[tokio::test]
async fn list_secrets_sort_and_paging() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let p = unique("page");
    let mut names: Vec<String> = Vec::new();
    for i in 0..7 {
        let n = format!("{p}-{i}");
        create(&c, &n, "v").await;
        names.push(n);
    }
    let asc = list_all(&c, &[], None, Some(SortOrderType::Asc)).await;
    let desc = list_all(&c, &[], None, Some(SortOrderType::Desc)).await;
    assert_eq!(asc.len(), 7);
    let mut rev = desc.clone();
    rev.reverse();
    assert_eq!(asc, rev, "desc is asc reversed");
    assert_eq!(set_of(&asc), set_of(&names));
    // Default order is ascending created date.
    assert_eq!(list_all(&c, &[], None, None).await, asc);

    // Paging covers every secret exactly once, in the same order, in both directions.
    for page in [1, 2, 3, 6, 7, 100] {
        assert_eq!(
            list_all(&c, &[], Some(page), Some(SortOrderType::Asc)).await,
            asc,
            "asc page {page}"
        );
        assert_eq!(
            list_all(&c, &[], Some(page), Some(SortOrderType::Desc)).await,
            desc,
            "desc page {page}"
        );
    }
    let first = c.list_secrets().max_results(2).send().await.unwrap();
    assert_eq!(first.secret_list().len(), 2);
    assert!(first.next_token().is_some());
    let all = c.list_secrets().max_results(7).send().await.unwrap();
    assert!(all.next_token().is_none(), "no token when everything fits");

    // SortBy name.
    let by_name = c
        .list_secrets()
        .sort_by(SortByType::Name)
        .sort_order(SortOrderType::Asc)
        .send()
        .await
        .unwrap();
    let got: Vec<String> = by_name
        .secret_list()
        .iter()
        .map(|e| e.name().unwrap().to_owned())
        .collect();
    let mut want = names.clone();
    want.sort();
    assert_eq!(got, want);

    // Bad tokens.
    expect_err(
        c.list_secrets().next_token("garbage!!").send().await,
        "InvalidNextTokenException",
    );
    // A token from another query.
    let other = c
        .list_secrets()
        .max_results(1)
        .filters(filter("name", &[&p]))
        .send()
        .await
        .unwrap();
    let t = other.next_token().expect("token").to_owned();
    expect_err(
        c.list_secrets().max_results(1).next_token(t).send().await,
        "InvalidNextTokenException",
    );
    expect_err(
        c.list_secrets().max_results(0).send().await,
        "InvalidParameterException",
    );
    expect_err(
        c.list_secrets().max_results(101).send().await,
        "InvalidParameterException",
    );
}

fn set_of(v: &[String]) -> BTreeSet<String> {
    v.iter().cloned().collect()
}

#[tokio::test]
async fn list_secrets_include_planned_deletion() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let keep = unique("keep");
    let gone = unique("gone");
    create(&c, &keep, "k").await;
    create(&c, &gone, "g").await;
    c.delete_secret().secret_id(&gone).send().await.unwrap();
    let without = list_all(&c, &[], None, None).await;
    assert_eq!(without, std::slice::from_ref(&keep));
    let out = c
        .list_secrets()
        .include_planned_deletion(true)
        .send()
        .await
        .unwrap();
    let mut with: Vec<(String, bool)> = out
        .secret_list()
        .iter()
        .map(|e| (e.name().unwrap().to_owned(), e.deleted_date().is_some()))
        .collect();
    with.sort();
    let mut want = vec![(keep, false), (gone, true)];
    want.sort();
    assert_eq!(with, want);
}

// ---------------------------------------------------------------------------------------
// ListSecretVersionIds
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn list_secret_version_ids_paging_and_deprecated() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("lsv");
    let (arn, v1) = create(&c, &name, "0").await;
    let mut ids = vec![v1];
    for i in 1..5 {
        ids.push(put(&c, &name, &i.to_string()).await);
    }
    let current = ids[4].clone();
    let previous = ids[3].clone();

    let out = c
        .list_secret_version_ids()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(out.arn(), Some(arn.as_str()));
    assert_eq!(out.name(), Some(name.as_str()));
    let labeled: HashMap<String, Vec<String>> = out
        .versions()
        .iter()
        .map(|v| {
            (
                v.version_id().unwrap().to_owned(),
                sorted(v.version_stages()),
            )
        })
        .collect();
    assert_eq!(
        labeled.len(),
        2,
        "only labeled versions by default: {labeled:?}"
    );
    assert_eq!(labeled[&current], labels(&["AWSCURRENT"]));
    assert_eq!(labeled[&previous], labels(&["AWSPREVIOUS"]));
    for v in out.versions() {
        assert!(v.created_date().is_some());
        assert_eq!(v.kms_key_ids().len(), 1);
    }

    let all = c
        .list_secret_version_ids()
        .secret_id(&name)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(all.versions().len(), 5);
    let created: Vec<i64> = all
        .versions()
        .iter()
        .map(|v| ms(v.created_date()))
        .collect();
    assert!(
        created.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {created:?}"
    );

    // Paging with IncludeDeprecated covers every version once.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c
            .list_secret_version_ids()
            .secret_id(&name)
            .include_deprecated(true)
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(out.versions().len() <= 2);
        seen.extend(
            out.versions()
                .iter()
                .map(|v| v.version_id().unwrap().to_owned()),
        );
        match out.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    let full: Vec<String> = all
        .versions()
        .iter()
        .map(|v| v.version_id().unwrap().to_owned())
        .collect();
    assert_eq!(seen, full);
    assert_eq!(set_of(&seen), set_of(&ids));

    // A token of the deprecated listing is not valid for the labeled-only one.
    let t = c
        .list_secret_version_ids()
        .secret_id(&name)
        .include_deprecated(true)
        .max_results(1)
        .send()
        .await
        .unwrap()
        .next_token()
        .unwrap()
        .to_owned();
    expect_err(
        c.list_secret_version_ids()
            .secret_id(&name)
            .max_results(1)
            .next_token(t)
            .send()
            .await,
        "InvalidNextTokenException",
    );
    expect_err(
        c.list_secret_version_ids()
            .secret_id(&name)
            .next_token("not-a-token")
            .send()
            .await,
        "InvalidNextTokenException",
    );
    expect_err(
        c.list_secret_version_ids()
            .secret_id(unique("missing"))
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

// ---------------------------------------------------------------------------------------
// BatchGetSecretValue
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn batch_get_by_ids_with_missing() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let a = unique("batch-a");
    let b = unique("batch-b");
    let missing = unique("batch-missing");
    let (arn_b, _) = create(&c, &b, "B").await;
    create(&c, &a, "A").await;
    let out = c
        .batch_get_secret_value()
        .secret_id_list(&a)
        .secret_id_list(&missing)
        .secret_id_list(&arn_b)
        .send()
        .await
        .expect("batch");
    let mut got: Vec<(String, String)> = out
        .secret_values()
        .iter()
        .map(|v| {
            (
                v.name().unwrap().to_owned(),
                v.secret_string().unwrap().to_owned(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![(a.clone(), "A".to_owned()), (b.clone(), "B".to_owned())];
    want.sort();
    assert_eq!(got, want);
    for v in out.secret_values() {
        assert_eq!(v.version_stages(), ["AWSCURRENT"]);
        assert!(v.version_id().is_some() && v.arn().is_some() && v.created_date().is_some());
    }
    assert_eq!(out.errors().len(), 1);
    let e = &out.errors()[0];
    assert_eq!(e.secret_id(), Some(missing.as_str()));
    assert_eq!(e.error_code(), Some("ResourceNotFoundException"));
    assert!(e.message().is_some_and(|m| !m.is_empty()));
    assert!(out.next_token().is_none());

    // Both ids and filters, and neither, are rejected.
    expect_err(
        c.batch_get_secret_value()
            .secret_id_list(&a)
            .filters(filter("name", &["x"]))
            .send()
            .await,
        "InvalidParameterException",
    );
    expect_err(
        c.batch_get_secret_value().send().await,
        "InvalidParameterException",
    );
}

#[tokio::test]
async fn batch_get_by_filters_with_paging() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let p = unique("bf");
    let mut want = BTreeSet::new();
    for i in 0..5 {
        let n = format!("{p}/{i}");
        create(&c, &n, &format!("value-{i}")).await;
        want.insert((n, format!("value-{i}")));
    }
    create(&c, &unique("other"), "not me").await;
    let deleted = format!("{p}/deleted");
    create(&c, &deleted, "deleted").await;
    c.delete_secret().secret_id(&deleted).send().await.unwrap();

    let mut got = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c
            .batch_get_secret_value()
            .filters(filter("name", &[&p]))
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("batch page");
        pages += 1;
        assert!(out.secret_values().len() <= 2);
        assert!(out.errors().is_empty(), "{:?}", out.errors());
        got.extend(out.secret_values().iter().map(|v| {
            (
                v.name().unwrap().to_owned(),
                v.secret_string().unwrap().to_owned(),
            )
        }));
        match out.next_token() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    assert_eq!(got.len(), 5, "each secret once: {got:?}");
    assert_eq!(got.into_iter().collect::<BTreeSet<_>>(), want);

    expect_err(
        c.batch_get_secret_value()
            .filters(filter("name", &[&p]))
            .next_token("bogus")
            .send()
            .await,
        "InvalidNextTokenException",
    );
}

// ---------------------------------------------------------------------------------------
// TagResource / UntagResource
// ---------------------------------------------------------------------------------------

async fn tag_map(c: &Client, id: &str) -> HashMap<String, String> {
    let d = c.describe_secret().secret_id(id).send().await.unwrap();
    d.tags()
        .iter()
        .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
        .collect()
}

#[tokio::test]
async fn tag_and_untag() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("tags");
    let (arn, _) = create(&c, &name, "v").await;
    c.tag_resource()
        .secret_id(&name)
        .tags(tag("a", "1"))
        .tags(tag("b", "2"))
        .send()
        .await
        .expect("tag");
    assert_eq!(
        tag_map(&c, &name).await,
        HashMap::from([("a".into(), "1".into()), ("b".into(), "2".into())])
    );
    // Overwrite a value, by ARN.
    c.tag_resource()
        .secret_id(&arn)
        .tags(tag("a", "one"))
        .send()
        .await
        .expect("retag");
    assert_eq!(tag_map(&c, &name).await["a"], "one");
    // Untag one key, plus a key that is not there.
    c.untag_resource()
        .secret_id(&name)
        .tag_keys("b")
        .tag_keys("zzz")
        .send()
        .await
        .expect("untag");
    assert_eq!(
        tag_map(&c, &name).await,
        HashMap::from([("a".into(), "one".into())])
    );

    // Reserved prefix.
    expect_err(
        c.tag_resource()
            .secret_id(&name)
            .tags(tag("aws:owner", "x"))
            .send()
            .await,
        "InvalidParameterException",
    );
    expect_err(
        c.tag_resource()
            .secret_id(&name)
            .tags(tag("AWS:owner", "x"))
            .send()
            .await,
        "InvalidParameterException",
    );
    expect_err(
        c.create_secret()
            .name(unique("awstag"))
            .secret_string("v")
            .tags(tag("aws:x", "y"))
            .send()
            .await,
        "InvalidParameterException",
    );
    // More than 50 in one request.
    let mut req = c.tag_resource().secret_id(&name);
    for i in 0..51 {
        req = req.tags(tag(&format!("k{i}"), "v"));
    }
    expect_err(req.send().await, "InvalidParameterException");
    // More than 50 in total (1 existing + 50 new).
    let mut req = c.tag_resource().secret_id(&name);
    for i in 0..50 {
        req = req.tags(tag(&format!("k{i}"), "v"));
    }
    expect_err(req.send().await, "InvalidParameterException");
    // Exactly 50 in total works.
    let mut req = c.tag_resource().secret_id(&name);
    for i in 0..49 {
        req = req.tags(tag(&format!("k{i}"), "v"));
    }
    req.send().await.expect("50 tags");
    assert_eq!(tag_map(&c, &name).await.len(), 50);
    expect_err(
        c.tag_resource()
            .secret_id(unique("missing"))
            .tags(tag("a", "b"))
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

// ---------------------------------------------------------------------------------------
// DeleteSecret / RestoreSecret
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn delete_recovery_window_validation_and_restore() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("del");
    let (arn, _) = create(&c, &name, "v").await;

    for bad in [6, 31, 0, -1] {
        expect_err(
            c.delete_secret()
                .secret_id(&name)
                .recovery_window_in_days(bad)
                .send()
                .await,
            "InvalidParameterException",
        );
    }
    expect_err(
        c.delete_secret()
            .secret_id(&name)
            .recovery_window_in_days(7)
            .force_delete_without_recovery(true)
            .send()
            .await,
        "InvalidParameterException",
    );
    // Still live after all that.
    assert_eq!(get_string(&c, &name).await, "v");

    for days in [7i64, 30] {
        let out = c
            .delete_secret()
            .secret_id(&name)
            .recovery_window_in_days(days)
            .send()
            .await
            .expect("delete");
        assert_eq!(out.arn(), Some(arn.as_str()));
        assert_eq!(out.name(), Some(name.as_str()));
        let d = c.describe_secret().secret_id(&name).send().await.unwrap();
        let window = ms(out.deletion_date()) - ms(d.deleted_date());
        assert!(
            (window - days * DAY_MS).abs() <= 1000,
            "{days}-day window, got {window} ms"
        );

        // A deleted secret can't be read, changed or deleted again.
        let m = expect_err(
            c.get_secret_value().secret_id(&name).send().await,
            "InvalidRequestException",
        );
        assert!(m.contains("deletion"), "{m}");
        expect_err(
            c.put_secret_value()
                .secret_id(&name)
                .secret_string("x")
                .send()
                .await,
            "InvalidRequestException",
        );
        expect_err(
            c.update_secret()
                .secret_id(&name)
                .description("x")
                .send()
                .await,
            "InvalidRequestException",
        );
        expect_err(
            c.delete_secret().secret_id(&name).send().await,
            "InvalidRequestException",
        );
        expect_err(
            c.create_secret()
                .name(&name)
                .secret_string("x")
                .send()
                .await,
            "InvalidRequestException",
        );

        let r = c
            .restore_secret()
            .secret_id(&name)
            .send()
            .await
            .expect("restore");
        assert_eq!(r.arn(), Some(arn.as_str()));
        assert_eq!(r.name(), Some(name.as_str()));
        let d = c.describe_secret().secret_id(&name).send().await.unwrap();
        assert!(d.deleted_date().is_none());
        assert_eq!(get_string(&c, &name).await, "v");
    }
    // Restoring a live secret is a no-op.
    c.restore_secret()
        .secret_id(&name)
        .send()
        .await
        .expect("restore live");
    expect_err(
        c.restore_secret().secret_id(unique("missing")).send().await,
        "ResourceNotFoundException",
    );
    // Default window is 30 days.
    let out = c.delete_secret().secret_id(&name).send().await.unwrap();
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert!((ms(out.deletion_date()) - ms(d.deleted_date()) - 30 * DAY_MS).abs() <= 1000);
}

#[tokio::test]
async fn force_delete_then_reuse_name() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let name = unique("force");
    let (arn1, _) = create(&c, &name, "first").await;
    let out = c
        .delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("force");
    assert_eq!(out.arn(), Some(arn1.as_str()));
    assert!(out.deletion_date().is_some());
    expect_err(
        c.describe_secret().secret_id(&name).send().await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.get_secret_value().secret_id(&arn1).send().await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.restore_secret().secret_id(&name).send().await,
        "ResourceNotFoundException",
    );

    let (arn2, _) = create(&c, &name, "second").await;
    assert_eq!(get_string(&c, &name).await, "second");
    let versions = c
        .list_secret_version_ids()
        .secret_id(&arn2)
        .include_deprecated(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        versions.versions().len(),
        1,
        "no versions survive a forced delete"
    );

    // A secret already scheduled for deletion can still be force-deleted.
    c.delete_secret()
        .secret_id(&name)
        .recovery_window_in_days(7)
        .send()
        .await
        .unwrap();
    c.delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .expect("force scheduled");
    expect_err(
        c.describe_secret().secret_id(&name).send().await,
        "ResourceNotFoundException",
    );
}

// ---------------------------------------------------------------------------------------
// GetRandomPassword
// ---------------------------------------------------------------------------------------

const PUNCT: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

#[tokio::test]
async fn get_random_password_options() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let pw =
        |o: aws_sdk_secretsmanager::operation::get_random_password::GetRandomPasswordOutput| {
            o.random_password().expect("password").to_owned()
        };
    let has = |p: &str, f: fn(char) -> bool| p.chars().any(f);
    let is_punct = |c: char| PUNCT.contains(c);

    // Defaults: 32 characters with every type present.
    let mut distinct = BTreeSet::new();
    for _ in 0..20 {
        let p = pw(c.get_random_password().send().await.unwrap());
        assert_eq!(p.chars().count(), 32);
        assert!(has(&p, |c| c.is_ascii_lowercase()), "{p}");
        assert!(has(&p, |c| c.is_ascii_uppercase()), "{p}");
        assert!(has(&p, |c| c.is_ascii_digit()), "{p}");
        assert!(p.chars().any(is_punct), "{p}");
        assert!(!p.contains(' '));
        distinct.insert(p);
    }
    assert_eq!(distinct.len(), 20, "passwords repeat");

    // Length and exclusions.
    for _ in 0..10 {
        let p = pw(c
            .get_random_password()
            .password_length(100)
            .exclude_characters("abcXYZ012!")
            .send()
            .await
            .unwrap());
        assert_eq!(p.len(), 100);
        assert!(!p.chars().any(|ch| "abcXYZ012!".contains(ch)), "{p}");
    }
    let p = pw(c
        .get_random_password()
        .password_length(64)
        .exclude_punctuation(true)
        .exclude_numbers(true)
        .send()
        .await
        .unwrap());
    assert!(p.chars().all(|c| c.is_ascii_alphabetic()), "{p}");
    let p = pw(c
        .get_random_password()
        .password_length(64)
        .exclude_lowercase(true)
        .exclude_uppercase(true)
        .exclude_punctuation(true)
        .send()
        .await
        .unwrap());
    assert!(p.chars().all(|c| c.is_ascii_digit()), "{p}");
    // Space, required when included.
    for _ in 0..10 {
        let p = pw(c
            .get_random_password()
            .password_length(8)
            .include_space(true)
            .send()
            .await
            .unwrap());
        assert_eq!(p.len(), 8);
        assert!(p.contains(' '), "{p:?}");
    }
    // The smallest password that can hold every type.
    let p = pw(c
        .get_random_password()
        .password_length(4)
        .send()
        .await
        .unwrap());
    assert_eq!(p.len(), 4);
    assert!(has(&p, |c| c.is_ascii_lowercase()) && has(&p, |c| c.is_ascii_uppercase()));
    assert!(
        has(&p, |c| c.is_ascii_digit()) && p.chars().any(is_punct),
        "{p}"
    );
    // Without RequireEachIncludedType a 1-character password is fine.
    let p = pw(c
        .get_random_password()
        .password_length(1)
        .require_each_included_type(false)
        .send()
        .await
        .unwrap());
    assert_eq!(p.len(), 1);
    let p = pw(c
        .get_random_password()
        .password_length(4096)
        .send()
        .await
        .unwrap());
    assert_eq!(p.len(), 4096);

    for bad in [0, 4097] {
        expect_err(
            c.get_random_password().password_length(bad).send().await,
            "InvalidParameterException",
        );
    }
    // Too short to hold one character of each of the four types.
    expect_err(
        c.get_random_password().password_length(3).send().await,
        "InvalidParameterException",
    );
    // Everything excluded.
    expect_err(
        c.get_random_password()
            .exclude_lowercase(true)
            .exclude_uppercase(true)
            .exclude_numbers(true)
            .exclude_punctuation(true)
            .send()
            .await,
        "InvalidParameterException",
    );
}

// ---------------------------------------------------------------------------------------
// Limits and validation
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn value_size_and_name_limits() {
    let s = Server::dev().await;
    let c = s.client(&s.root());
    let max = "x".repeat(65536);
    let name = unique("big");
    create(&c, &name, &max).await;
    assert_eq!(get_string(&c, &name).await, max);
    // Multi-byte characters count in bytes: 32768 two-byte characters = 65536 bytes.
    let wide = "é".repeat(32768);
    let (_, _) = create(&c, &unique("wide"), &wide).await;
    expect_err(
        c.create_secret()
            .name(unique("wide2"))
            .secret_string(format!("{wide}x"))
            .send()
            .await,
        "InvalidParameterException",
    );
    let over = "x".repeat(65537);
    expect_err(
        c.create_secret()
            .name(unique("big2"))
            .secret_string(&over)
            .send()
            .await,
        "InvalidParameterException",
    );
    expect_err(
        c.put_secret_value()
            .secret_id(&name)
            .secret_string(&over)
            .send()
            .await,
        "InvalidParameterException",
    );
    expect_err(
        c.update_secret()
            .secret_id(&name)
            .secret_string(&over)
            .send()
            .await,
        "InvalidParameterException",
    );
    expect_err(
        c.create_secret()
            .name(unique("big3"))
            .secret_binary(Blob::new(vec![7u8; 65537]))
            .send()
            .await,
        "InvalidParameterException",
    );
    c.put_secret_value()
        .secret_id(&name)
        .secret_binary(Blob::new(vec![7u8; 65536]))
        .send()
        .await
        .expect("64 KiB binary");
    expect_err(
        c.create_secret()
            .name(unique("empty"))
            .secret_string("")
            .send()
            .await,
        "InvalidParameterException",
    );

    // Names.
    let long_ok = "n".repeat(512);
    create(&c, &long_ok, "v").await;
    expect_err(
        c.create_secret()
            .name("n".repeat(513))
            .secret_string("v")
            .send()
            .await,
        "InvalidParameterException",
    );
    for bad in [
        "has space",
        "hash#tag",
        "star*",
        "naïve",
        "quote\"",
        "semi;colon",
        "bang!",
    ] {
        expect_err(
            c.create_secret().name(bad).secret_string("v").send().await,
            "InvalidParameterException",
        );
    }
    create(&c, &format!("{}/a_b+c=d.e@f-g", unique("ok")), "v").await;

    // Both a string and a binary value.
    expect_err(
        c.create_secret()
            .name(unique("both"))
            .secret_string("s")
            .secret_binary(Blob::new(b"b".to_vec()))
            .send()
            .await,
        "InvalidParameterException",
    );
    expect_err(
        c.put_secret_value()
            .secret_id(&name)
            .secret_string("s")
            .secret_binary(Blob::new(b"b".to_vec()))
            .send()
            .await,
        "InvalidParameterException",
    );
    // No value at all on PutSecretValue.
    expect_err(
        c.put_secret_value().secret_id(&name).send().await,
        "InvalidParameterException",
    );
    // Descriptions over 2048 characters.
    expect_err(
        c.create_secret()
            .name(unique("desc"))
            .description("d".repeat(2049))
            .send()
            .await,
        "InvalidParameterException",
    );
    // Client request tokens must be 32-64 characters.
    expect_err(
        c.put_secret_value()
            .secret_id(&name)
            .secret_string("s")
            .client_request_token("short")
            .send()
            .await,
        "InvalidParameterException",
    );
}

#[tokio::test]
async fn kms_key_id_forms_of_the_default_key_and_unknown_keys() {
    let s = Server::dev().await;
    let root = s.root();
    let c = s.client(&root);
    let name = unique("kms");
    c.create_secret()
        .name(&name)
        .secret_string("v")
        .kms_key_id("alias/aws/secretsmanager")
        .send()
        .await
        .expect("default alias");
    let versions = c
        .list_secret_version_ids()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let key_arn = versions.versions()[0].kms_key_ids()[0].clone();
    assert!(
        key_arn.starts_with(&format!("arn:aws:kms:{REGION}:{}:key/", root.account_id)),
        "{key_arn}"
    );
    c.update_secret()
        .secret_id(&name)
        .kms_key_id(&key_arn)
        .send()
        .await
        .expect("the key's ARN");
    let alias_arn = format!(
        "arn:aws:kms:{REGION}:{}:alias/aws/secretsmanager",
        root.account_id
    );
    c.update_secret()
        .secret_id(&name)
        .kms_key_id(alias_arn)
        .send()
        .await
        .expect("the alias ARN");
    let m = expect_err(
        c.create_secret()
            .name(unique("kms2"))
            .secret_string("v")
            .kms_key_id("alias/my-key")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    assert!(m.contains("alias/my-key"), "{m}");
    expect_err(
        c.update_secret()
            .secret_id(&name)
            .kms_key_id("alias/my-key")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    assert_eq!(get_string(&c, &name).await, "v");
    // Another account's AWS managed key is not usable.
    let b = s.create_account(&root).await;
    expect_err(
        s.client(&b)
            .create_secret()
            .name(unique("kms3"))
            .secret_string("v")
            .kms_key_id(&key_arn)
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

// ---------------------------------------------------------------------------------------
// Accounts and regions
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn accounts_are_isolated() {
    let s = Server::dev().await;
    let a = s.root();
    let b = s.create_account(&a).await;
    assert_ne!(a.account_id, b.account_id);
    assert_eq!(b.account_id.len(), 12);
    let ca = s.client(&a);
    let cb = s.client(&b);

    let name = unique("shared-name");
    let (arn_a, _) = create(&ca, &name, "from A").await;
    assert!(arn_a.contains(&format!(":{}:secret:", a.account_id)));

    // B can't see A's secret.
    expect_err(
        cb.get_secret_value().secret_id(&name).send().await,
        "ResourceNotFoundException",
    );
    expect_err(
        cb.describe_secret().secret_id(&name).send().await,
        "ResourceNotFoundException",
    );
    let m = expect_err(
        cb.get_secret_value().secret_id(&arn_a).send().await,
        "AccessDeniedException",
    );
    assert!(!m.contains("from A"));
    expect_err(
        cb.put_secret_value()
            .secret_id(&arn_a)
            .secret_string("x")
            .send()
            .await,
        "AccessDeniedException",
    );
    expect_err(
        cb.delete_secret().secret_id(&arn_a).send().await,
        "AccessDeniedException",
    );
    let batch = cb
        .batch_get_secret_value()
        .secret_id_list(&arn_a)
        .secret_id_list(&name)
        .send()
        .await
        .unwrap();
    assert!(batch.secret_values().is_empty());
    let mut codes: Vec<String> = batch
        .errors()
        .iter()
        .map(|e| e.error_code().unwrap().to_owned())
        .collect();
    codes.sort();
    assert_eq!(
        codes,
        ["AccessDeniedException", "ResourceNotFoundException"]
    );
    assert!(list_all(&cb, &[], None, None).await.is_empty());

    // The same name in B is a different secret.
    let (arn_b, _) = create(&cb, &name, "from B").await;
    assert_ne!(arn_a, arn_b);
    assert!(arn_b.contains(&format!(":{}:secret:", b.account_id)));
    assert_eq!(get_string(&ca, &name).await, "from A");
    assert_eq!(get_string(&cb, &name).await, "from B");
    assert_eq!(
        list_all(&ca, &[], None, None).await,
        std::slice::from_ref(&name)
    );
    assert_eq!(
        list_all(&cb, &[], None, None).await,
        std::slice::from_ref(&name)
    );
    // A non-admin account can't create accounts.
    let r = s
        .call(&b, "CofferAdmin.CreateAccount", &serde_json::json!({}))
        .await;
    r.assert_error(400, "AccessDeniedException");
}

#[tokio::test]
async fn regions_are_separate_namespaces() {
    let s = Server::dev().await;
    let root = s.root();
    let east = s.client_in(&root, "us-east-1");
    let west = s.client_in(&root, "eu-west-1");
    let name = unique("regional");
    let (arn_e, _) = create(&east, &name, "east").await;
    let (arn_w, _) = create(&west, &name, "west").await;
    assert!(arn_e.starts_with("arn:aws:secretsmanager:us-east-1:"));
    assert!(arn_w.starts_with("arn:aws:secretsmanager:eu-west-1:"));
    assert_eq!(get_string(&east, &name).await, "east");
    assert_eq!(get_string(&west, &name).await, "west");
    let d = west
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(d.primary_region(), Some("eu-west-1"));
    // An ARN of another region is not reachable from this one.
    expect_err(
        east.get_secret_value().secret_id(&arn_w).send().await,
        "AccessDeniedException",
    );
    west.delete_secret()
        .secret_id(&name)
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert_eq!(get_string(&east, &name).await, "east");
    expect_err(
        west.get_secret_value().secret_id(&name).send().await,
        "ResourceNotFoundException",
    );
    let only = s.client_in(&root, "ap-south-1");
    assert!(list_all(&only, &[], None, None).await.is_empty());
}
