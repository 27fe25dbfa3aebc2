//! `coffer rules ...`: manage the server's event rules with the signed `CofferAdmin`
//! operations (credentials of an admin account in AWS_*).

use crate::client::Endpoint;
use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Event-rule commands.
#[derive(Subcommand)]
pub enum RulesCommand {
    /// Add a rule, or replace the rule with the same name. The file holds one rule object,
    /// or a rules file `{"rules": [...]}` whose rules are all put.
    Put {
        #[command(flatten)]
        endpoint: Endpoint,
        /// The rule (JSON); `-` reads standard input.
        #[arg(long)]
        file: PathBuf,
    },
    /// Delete a rule by name.
    Delete {
        #[command(flatten)]
        endpoint: Endpoint,
        /// The rule's name.
        name: String,
    },
    /// List the rules (webhook secrets are shown as REDACTED).
    List {
        #[command(flatten)]
        endpoint: Endpoint,
        /// Print the server's JSON answer instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Check whether an event matches an EventBridge event pattern. Prints true or false;
    /// exit status 0 on a match, 1 otherwise.
    TestPattern {
        #[command(flatten)]
        endpoint: Endpoint,
        /// The event pattern (JSON).
        #[arg(long)]
        pattern: String,
        /// The event (JSON).
        #[arg(long)]
        event: String,
    },
}

/// Runs a rules command; returns the process exit status.
pub async fn run(cmd: RulesCommand) -> anyhow::Result<u8> {
    match cmd {
        RulesCommand::Put { endpoint, file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?
            };
            let v: Value = serde_json::from_str(&text).context("the rule file is not JSON")?;
            let rules = match v.get("rules").and_then(Value::as_array) {
                Some(list) => list.clone(),
                None => vec![v],
            };
            for rule in rules {
                let out = endpoint
                    .signed("CofferAdmin.PutRule", &json!({ "Rule": rule }))
                    .await?;
                let name = out.get("Name").and_then(Value::as_str).unwrap_or("");
                let verb = if out.get("Created") == Some(&Value::Bool(true)) {
                    "created"
                } else {
                    "replaced"
                };
                println!("rule {name} {verb}");
            }
        }
        RulesCommand::Delete { endpoint, name } => {
            endpoint
                .signed("CofferAdmin.DeleteRule", &json!({ "Name": name }))
                .await?;
            println!("rule {name} deleted");
        }
        RulesCommand::List { endpoint, json } => {
            let out = endpoint.signed("CofferAdmin.ListRules", &json!({})).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                print!("{}", table(out.get("Rules").and_then(Value::as_array)));
            }
        }
        RulesCommand::TestPattern {
            endpoint,
            pattern,
            event,
        } => {
            let out = endpoint
                .signed(
                    "CofferAdmin.TestEventPattern",
                    &json!({ "EventPattern": pattern, "Event": event }),
                )
                .await?;
            let matched = out.get("Result") == Some(&Value::Bool(true));
            println!("{matched}");
            return Ok(if matched { 0 } else { 1 });
        }
    }
    Ok(0)
}

/// NAME / ENABLED / TARGETS / PATTERN rows.
fn table(rules: Option<&Vec<Value>>) -> String {
    let mut out = String::from("NAME\tENABLED\tTARGETS\tPATTERN\n");
    for r in rules.into_iter().flatten() {
        let name = r.get("name").and_then(Value::as_str).unwrap_or("");
        let enabled = r.get("enabled").and_then(Value::as_bool).unwrap_or(true);
        let targets: Vec<&str> = r
            .get("targets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("type").and_then(Value::as_str))
            .collect();
        let pattern = r
            .get("event_pattern")
            .or_else(|| r.get("eventPattern"))
            .map(|p| match p {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "{name}\t{enabled}\t{}\t{pattern}\n",
            targets.join(",")
        ));
    }
    out
}
