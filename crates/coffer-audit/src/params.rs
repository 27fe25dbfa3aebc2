//! `requestParameters` and `responseElements`: the call's JSON with CloudTrail's
//! lowerCamelCase keys and every piece of secret material replaced by [`HIDDEN`].

use serde_json::{Map, Value};

/// What stands in for a secret value, password, secret key or token — CloudTrail's own
/// placeholder.
pub const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Keys (lowerCamelCase, compared ignoring case) whose values are never recorded.
const SENSITIVE: &[&str] = &[
    "secretString",
    "secretBinary",
    "randomPassword",
    "password",
    "newPassword",
    "oldPassword",
    "secretAccessKey",
    "sessionToken",
    "webIdentityToken",
    "samlAssertion",
    "plaintext",
    "privateKey",
    "secret",
];

/// Longest string kept in a record; longer ones are cut (with a marker) so one call cannot
/// make a record of unbounded size.
pub const MAX_STRING: usize = 24 * 1024;

/// Converts an AWS JSON 1.1 request or response body (PascalCase keys) into CloudTrail's
/// element form: lowerCamelCase keys, secret material hidden, long strings cut.
pub fn redact_elements(body: &Value) -> Value {
    match body {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let key = lower_camel(k);
                let value = if is_sensitive(&key) {
                    Value::String(HIDDEN.to_owned())
                } else {
                    redact_elements(v)
                };
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(redact_elements).collect()),
        Value::String(s) if s.len() > MAX_STRING => Value::String(cut(s)),
        other => other.clone(),
    }
}

/// `requestParameters` of a Query-protocol (IAM/STS) call from its form fields, minus
/// `Action` and `Version`; keys keep their dotted paths (`tags.member.1.key`).
pub fn request_parameters_from_form<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Value {
    let mut out = Map::new();
    for (k, v) in fields {
        if k == "Action" || k == "Version" {
            continue;
        }
        let key: Vec<String> = k.split('.').map(lower_camel).collect();
        let key = key.join(".");
        let last = key.rsplit('.').next().unwrap_or("");
        let value = if is_sensitive(last) {
            HIDDEN.to_owned()
        } else if v.len() > MAX_STRING {
            cut(v)
        } else {
            v.to_owned()
        };
        out.insert(key, Value::String(value));
    }
    Value::Object(out)
}

fn is_sensitive(key: &str) -> bool {
    SENSITIVE.iter().any(|s| s.eq_ignore_ascii_case(key))
}

fn cut(s: &str) -> String {
    let mut end = MAX_STRING;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[truncated]", &s[..end])
}

/// `SecretId` → `secretId`, `ARN` → `arn`, `KmsKeyId` → `kmsKeyId`, `ARNs` → `aRNs` is
/// avoided: a leading run of capitals is lowered except the last one when it starts a word.
pub fn lower_camel(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let run = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    if run == 0 {
        return key.to_owned();
    }
    let lower_upto = if run == 1 || run == chars.len() {
        run
    } else if chars[run].is_ascii_lowercase() && !(run == chars.len() - 1 && chars[run] == 's') {
        run - 1
    } else {
        run
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < lower_upto {
                c.to_ascii_lowercase()
            } else {
                *c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_become_lower_camel_case() {
        for (from, to) in [
            ("SecretId", "secretId"),
            ("ARN", "arn"),
            ("KmsKeyId", "kmsKeyId"),
            ("ARNs", "arns"),
            ("VersionIdsToStages", "versionIdsToStages"),
            ("AWSCURRENT", "awscurrent"),
            ("name", "name"),
            ("MFASerial", "mfaSerial"),
            ("", ""),
        ] {
            assert_eq!(lower_camel(from), to, "{from}");
        }
    }

    #[test]
    fn secret_material_is_hidden_at_any_depth() {
        let body = json!({
            "Name": "db",
            "SecretString": "hunter2",
            "SecretBinary": "aHVudGVyMg==",
            "Nested": [{"Password": "p", "Other": "ok"}],
            "Tags": [{"Key": "k", "Value": "v"}]
        });
        let out = redact_elements(&body);
        assert_eq!(
            out,
            json!({
                "name": "db",
                "secretString": HIDDEN,
                "secretBinary": HIDDEN,
                "nested": [{"password": HIDDEN, "other": "ok"}],
                "tags": [{"key": "k", "value": "v"}]
            })
        );
        assert!(!out.to_string().contains("hunter2"));
    }

    #[test]
    fn long_strings_are_cut() {
        let long = "x".repeat(MAX_STRING + 10);
        let out = redact_elements(&json!({ "Description": long }));
        let s = out["description"].as_str().unwrap();
        assert!(s.len() < MAX_STRING + 20 && s.ends_with("[truncated]"));
    }

    #[test]
    fn form_fields_keep_paths_and_hide_tokens() {
        let out = request_parameters_from_form([
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", "arn:aws:iam::1:role/r"),
            ("WebIdentityToken", "eyJ.secret.jwt"),
            ("Tags.member.1.Key", "team"),
        ]);
        assert_eq!(
            out,
            json!({
                "roleArn": "arn:aws:iam::1:role/r",
                "webIdentityToken": HIDDEN,
                "tags.member.1.key": "team"
            })
        );
    }
}
