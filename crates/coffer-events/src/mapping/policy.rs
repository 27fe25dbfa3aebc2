//! Which accounts a resource policy grants access to.

use serde_json::Value;

/// Accounts (12-digit ids) and `"*"` named by the `Allow` statements of a resource
/// policy's `Principal` (`"*"`, or `AWS` entries: account ids, `arn:PARTITION:iam::ACCOUNT:…`,
/// `arn:PARTITION:sts::ACCOUNT:…`, `"*"`). An `Allow` with `NotPrincipal` grants everyone
/// but the listed principals, so it counts as `"*"`. Conditions are not evaluated: a
/// grant narrowed by a condition is still reported. Sorted, without duplicates.
/// `policy` is the policy document, as JSON text or as an already parsed object.
pub(super) fn granted_accounts(policy: &Value) -> Vec<String> {
    let parsed;
    let doc = match policy {
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(v) => {
                parsed = v;
                &parsed
            }
            Err(_) => return Vec::new(),
        },
        other => other,
    };
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for st in statements {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        if st.get("NotPrincipal").is_some() {
            out.push("*".to_string());
        }
        match st.get("Principal") {
            Some(Value::String(s)) if s == "*" => out.push("*".to_string()),
            Some(Value::Object(p)) => match p.get("AWS") {
                Some(Value::String(s)) => out.extend(account_of(s)),
                Some(Value::Array(items)) => out.extend(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .filter_map(account_of),
                ),
                _ => {}
            },
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The account an `AWS` principal entry names, or `"*"`.
fn account_of(entry: &str) -> Option<String> {
    let entry = entry.trim();
    if entry == "*" {
        return Some("*".to_string());
    }
    if is_account_id(entry) {
        return Some(entry.to_string());
    }
    // arn:PARTITION:iam::ACCOUNT:rest or arn:PARTITION:sts::ACCOUNT:rest
    let mut parts = entry.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("iam" | "sts"), Some(""), Some(account), Some(_)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    if is_account_id(account) {
        Some(account.to_string())
    } else {
        None
    }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn principals() {
        let policy = json!({"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:root",
                "777788889999","arn:aws:sts::222233334444:assumed-role/r/s","AIDAEXAMPLE",
                "arn:aws:iam::111122223333:user/me"]},"Action":"secretsmanager:GetSecretValue",
                "Resource":"*"},
            {"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"},
            {"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"*"}
        ]});
        assert_eq!(
            granted_accounts(&Value::String(policy.to_string())),
            [
                "111122223333",
                "222233334444",
                "444455556666",
                "777788889999"
            ]
        );
        let star = json!({"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}});
        assert_eq!(granted_accounts(&star), ["*"]);
        let star = json!({"Statement":{"Effect":"Allow","Principal":{"AWS":"*"}}});
        assert_eq!(granted_accounts(&star), ["*"]);
        let not = json!({"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"111122223333"}}});
        assert_eq!(granted_accounts(&not), ["*"]);
        assert!(granted_accounts(&json!("not json")).is_empty());
        assert!(granted_accounts(&json!({"Statement":"x"})).is_empty());
        assert_eq!(
            account_of("arn:aws-cn:iam::123456789012:role/x").as_deref(),
            Some("123456789012")
        );
        assert_eq!(account_of("arn:aws:s3:::123456789012"), None);
        assert_eq!(account_of("12345678901"), None);
    }
}
