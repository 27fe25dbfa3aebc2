//! Table-driven decision tests: every `tests/cases/*.json` file is an array of cases.
//!
//! A case: `name`, `expect` (`Allow` | `ExplicitDeny` | `ImplicitDeny`), and optionally
//! `identity` (array of policy objects), `identity_files` (files in `tests/data`),
//! `cond` (shorthand: an identity policy allowing `secretsmanager:*` on `*` under this
//! `Condition`), `boundary`, `session` (arrays; absent = none), `resource_policy` (object),
//! `principal` (`user:NAME[@ACCT]`, `root[@ACCT]`, `session:ROLE/SESSION[@ACCT]`,
//! `federated:NAME[@ACCT]`, `anonymous`, or an object), `action`, `resource`,
//! `resource_account`, `keys` (`{key: string | [strings]}`), `message_contains`.

use coffer_policy::*;
use serde_json::{Value, json};
use std::path::Path;

const ACCOUNT: &str = "111122223333";
const RESOURCE: &str = "arn:aws:secretsmanager:us-east-1:111122223333:secret:app/db-AbCdEf";

fn principal(v: Option<&Value>) -> Principal {
    let s = match v {
        None => "user:alice",
        Some(Value::String(s)) => s.as_str(),
        Some(Value::Object(o)) => {
            let g = |k: &str| o.get(k).and_then(Value::as_str).map(str::to_owned);
            let kind = match g("kind").as_deref() {
                Some("Root") => PrincipalKind::Root,
                Some("AssumedRole") => PrincipalKind::AssumedRole,
                Some("FederatedUser") => PrincipalKind::FederatedUser,
                Some("Anonymous") => PrincipalKind::Anonymous,
                _ => PrincipalKind::User,
            };
            return Principal {
                arn: g("arn").unwrap(),
                account: g("account").unwrap(),
                kind,
                role_arn: g("role_arn"),
            };
        }
        Some(other) => panic!("bad principal {other}"),
    };
    if s == "anonymous" {
        return Principal::anonymous();
    }
    let (body, acct) = s.split_once('@').unwrap_or((s, ACCOUNT));
    let (kind, name) = body.split_once(':').unwrap_or((body, ""));
    let p = |arn: String, kind, role_arn| Principal {
        arn,
        account: acct.to_owned(),
        kind,
        role_arn,
    };
    match kind {
        "user" => p(
            format!("arn:aws:iam::{acct}:user/{name}"),
            PrincipalKind::User,
            None,
        ),
        "root" => p(
            format!("arn:aws:iam::{acct}:root"),
            PrincipalKind::Root,
            None,
        ),
        "federated" => p(
            format!("arn:aws:sts::{acct}:federated-user/{name}"),
            PrincipalKind::FederatedUser,
            None,
        ),
        "session" => {
            let role = name.split('/').next().unwrap();
            p(
                format!("arn:aws:sts::{acct}:assumed-role/{name}"),
                PrincipalKind::AssumedRole,
                Some(format!("arn:aws:iam::{acct}:role/{role}")),
            )
        }
        other => panic!("bad principal kind {other}"),
    }
}

fn policies(v: Option<&Value>, name: &str) -> Vec<Policy> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| {
                    Policy::parse(&p.to_string()).unwrap_or_else(|e| {
                        panic!("case {name}: policy does not parse: {}", e.detail())
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn refs(ps: &[Policy], prefix: &str) -> Vec<(String, usize)> {
    (0..ps.len())
        .map(|i| (format!("{prefix}-{i}"), i))
        .collect()
}

/// Run one case; `Err` describes the failure.
fn run(case: &Value, data_dir: &Path) -> Result<(), String> {
    let name = case["name"].as_str().unwrap_or("<unnamed>");
    let mut identity = policies(case.get("identity"), name);
    if let Some(files) = case.get("identity_files").and_then(Value::as_array) {
        for f in files {
            let text = std::fs::read_to_string(data_dir.join(f.as_str().unwrap()))
                .map_err(|e| e.to_string())?;
            identity.push(Policy::parse(&text).map_err(|e| e.detail())?);
        }
    }
    if let Some(cond) = case.get("cond") {
        let doc = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*", "Condition": cond}]});
        identity.push(
            Policy::parse(&doc.to_string())
                .map_err(|e| format!("cond does not parse: {}", e.detail()))?,
        );
    }
    let boundary = case.get("boundary").map(|v| policies(Some(v), name));
    let session = case.get("session").map(|v| policies(Some(v), name));
    let resource_policy = match case.get("resource_policy") {
        Some(v) => Some(
            Policy::parse(&v.to_string())
                .map_err(|e| format!("resource policy: {}", e.detail()))?,
        ),
        None => None,
    };
    let action = case
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("secretsmanager:GetSecretValue");
    let resource = case
        .get("resource")
        .and_then(Value::as_str)
        .unwrap_or(RESOURCE);
    let mut ctx = RequestContext::new(action, resource, principal(case.get("principal")));
    if let Some(keys) = case.get("keys").and_then(Value::as_object) {
        for (k, v) in keys {
            match v {
                Value::String(s) => ctx.set(k, s.clone()),
                Value::Array(a) => ctx.set_multi(
                    k,
                    a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
                ),
                other => panic!("case {name}: bad key value {other}"),
            };
        }
    }
    let id_refs = refs(&identity, "identity");
    let identity_refs: Vec<PolicyRef> = id_refs
        .iter()
        .map(|(id, i)| PolicyRef {
            id,
            policy: &identity[*i],
        })
        .collect();
    let b_ids = boundary.as_ref().map(|b| refs(b, "boundary"));
    let boundary_refs: Option<Vec<PolicyRef>> = boundary.as_ref().map(|b| {
        b_ids
            .as_ref()
            .unwrap()
            .iter()
            .map(|(id, i)| PolicyRef { id, policy: &b[*i] })
            .collect()
    });
    let s_ids = session.as_ref().map(|s| refs(s, "session"));
    let session_refs: Option<Vec<PolicyRef>> = session.as_ref().map(|s| {
        s_ids
            .as_ref()
            .unwrap()
            .iter()
            .map(|(id, i)| PolicyRef { id, policy: &s[*i] })
            .collect()
    });
    let req = AuthzRequest {
        ctx: &ctx,
        identity: &identity_refs,
        boundary: boundary_refs.as_deref(),
        session: session_refs.as_deref(),
        resource_policy: resource_policy.as_ref().map(|p| PolicyRef {
            id: "resource",
            policy: p,
        }),
        resource_account: case
            .get("resource_account")
            .and_then(Value::as_str)
            .unwrap_or(ACCOUNT),
    };
    let out = authorize(&req);
    let want = case["expect"].as_str().unwrap_or("");
    let got = format!("{:?}", out.decision);
    let explanation = explain(&req);
    if explanation.outcome != out {
        return Err("explain() disagrees with authorize()".into());
    }
    if got != want {
        return Err(format!("expected {want}, got {got}\n{explanation}"));
    }
    if let Some(m) = case.get("message_contains").and_then(Value::as_str) {
        let msg = out.message(&ctx);
        if !msg.contains(m) {
            return Err(format!("message {msg:?} does not contain {m:?}"));
        }
    }
    Ok(())
}

#[test]
fn table_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut files: Vec<_> = std::fs::read_dir(root.join("cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let (mut total, mut failures) = (0, Vec::new());
    for f in &files {
        let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(f).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for case in &cases {
            total += 1;
            if let Err(e) = run(case, &root.join("data")) {
                let file = f.file_name().unwrap().to_string_lossy();
                failures.push(format!(
                    "[{file}] {}: {e}",
                    case["name"].as_str().unwrap_or("?")
                ));
            }
        }
    }
    for f in &failures {
        eprintln!("FAILED {f}");
    }
    eprintln!("{} of {total} cases passed", total - failures.len());
    assert!(total >= 250, "only {total} cases");
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed",
        failures.len()
    );
}
