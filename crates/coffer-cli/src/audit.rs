//! `coffer audit …`: verify, search and export the audit log straight from a data
//! directory (the server may be running, sealed or stopped: only public keys are needed).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use coffer_store::{AuditAttribute, AuditQuery, SqliteStore, Store};
use serde_json::Value;

/// `coffer audit` subcommands.
#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain and the signed digests; report the first record that was
    /// modified, removed, reordered or truncated. Exit status 0: intact, 2: tampered.
    Verify {
        /// Data directory of the server.
        #[arg(long, env = "COFFER_DATA_DIR", default_value = "./coffer-data")]
        data_dir: PathBuf,
        /// Trust only this digest-signing public key (hex, from `coffer audit verify`'s
        /// earlier output or a backup), not the keys published in the store.
        #[arg(long)]
        public_key: Vec<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search records (newest first).
    Search {
        /// Data directory of the server.
        #[arg(long, env = "COFFER_DATA_DIR", default_value = "./coffer-data")]
        data_dir: PathBuf,
        /// Only this account's records.
        #[arg(long)]
        account: Option<String>,
        /// Filter: event name (e.g. GetSecretValue).
        #[arg(long)]
        event_name: Option<String>,
        /// Filter: user name (`root`, an IAM user, a role session name).
        #[arg(long)]
        username: Option<String>,
        /// Filter: a resource name or ARN.
        #[arg(long)]
        resource: Option<String>,
        /// Filter: access key id.
        #[arg(long)]
        access_key_id: Option<String>,
        /// Filter: read-only calls (true) or writes (false).
        #[arg(long)]
        read_only: Option<bool>,
        /// Filter: failed calls only.
        #[arg(long)]
        errors: bool,
        /// Only records at or after this time (epoch seconds).
        #[arg(long)]
        since: Option<i64>,
        /// Most records to print.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// `table` or `jsonl` (one CloudTrail record per line).
        #[arg(long, default_value = "table", value_parser = ["table", "jsonl"])]
        format: String,
    },
    /// Export records as JSON lines, oldest first.
    Export {
        /// Data directory of the server.
        #[arg(long, env = "COFFER_DATA_DIR", default_value = "./coffer-data")]
        data_dir: PathBuf,
        /// Start after this sequence number.
        #[arg(long, default_value_t = 0)]
        after_seq: u64,
    },
}

fn open(data_dir: &std::path::Path) -> anyhow::Result<SqliteStore> {
    let db = data_dir.join("coffer.db");
    anyhow::ensure!(db.exists(), "no Coffer database at {}", db.display());
    SqliteStore::open_with_readers(&db, 1).with_context(|| format!("opening {}", db.display()))
}

/// Runs a subcommand.
pub async fn run(cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify {
            data_dir,
            public_key,
            json,
        } => {
            let store = open(&data_dir)?;
            let pinned = public_key
                .iter()
                .map(|k| hex::decode(k.trim()).context("--public-key is not hex"))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let report = coffer_service::audit::verify_log(&store, &pinned).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                match &report.problem {
                    None => println!(
                        "audit log intact: {} records (through #{}), {} signed digests checked, {} records after the last digest",
                        report.records, report.last_seq, report.digests, report.unsigned_tail
                    ),
                    Some(p) => println!(
                        "audit log TAMPERED at record #{} ({}): {}",
                        p.seq,
                        serde_json::to_value(p.kind)?.as_str().unwrap_or("?"),
                        p.detail
                    ),
                }
            }
            Ok(if report.problem.is_none() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            })
        }
        AuditCommand::Search {
            data_dir,
            account,
            event_name,
            username,
            resource,
            access_key_id,
            read_only,
            errors,
            since,
            limit,
            format,
        } => {
            let store = open(&data_dir)?;
            let attrs: Vec<AuditAttribute> = [
                event_name.map(AuditAttribute::EventName),
                username.map(AuditAttribute::Username),
                resource.map(AuditAttribute::ResourceName),
                access_key_id.map(AuditAttribute::AccessKeyId),
                read_only.map(AuditAttribute::ReadOnly),
            ]
            .into_iter()
            .flatten()
            .collect();
            // The store filters on the first attribute; the others are checked here.
            let mut q = AuditQuery {
                account_id: account,
                start_ms: since.map_or(0, |s| s.saturating_mul(1000)),
                end_ms: i64::MAX,
                attribute: attrs.first().cloned(),
                before_seq: None,
                limit: 500,
            };
            let mut shown = 0;
            if format == "table" {
                println!(
                    "{:>8}  {:<20}  {:<28}  {:<24}  {:<30}  RESOURCE",
                    "SEQ", "TIME", "EVENT", "USER", "ERROR"
                );
            }
            'outer: loop {
                let rows = store.audit_lookup(&q).await?;
                let done = rows.len() < q.limit;
                for row in rows {
                    q.before_seq = Some(row.seq);
                    let extra_ok = attrs.iter().skip(1).all(|a| {
                        AuditQuery {
                            attribute: Some(a.clone()),
                            account_id: None,
                            start_ms: i64::MIN,
                            end_ms: i64::MAX,
                            before_seq: None,
                            limit: 1,
                        }
                        .matches(row.seq, &row.entry)
                    });
                    let record: Value = serde_json::from_str(&row.entry.json)?;
                    if !extra_ok || (errors && record.get("errorCode").is_none()) {
                        continue;
                    }
                    if format == "jsonl" {
                        println!("{}", row.entry.json);
                    } else {
                        println!(
                            "{:>8}  {:<20}  {:<28}  {:<24}  {:<30}  {}",
                            row.seq,
                            record["eventTime"].as_str().unwrap_or(""),
                            record["eventName"].as_str().unwrap_or(""),
                            if row.entry.username.is_empty() {
                                record["userIdentity"]["type"].as_str().unwrap_or("")
                            } else {
                                &row.entry.username
                            },
                            record["errorCode"].as_str().unwrap_or("-"),
                            row.entry.resources.first().map_or("-", String::as_str),
                        );
                    }
                    shown += 1;
                    if shown >= limit {
                        break 'outer;
                    }
                }
                if done {
                    break;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Export {
            data_dir,
            after_seq,
        } => {
            let store = open(&data_dir)?;
            let mut after = after_seq;
            use std::io::Write;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            loop {
                let rows = store
                    .audit_range(after, coffer_service::audit::PAGE)
                    .await?;
                let Some(last) = rows.last() else { break };
                after = last.seq;
                for r in &rows {
                    writeln!(out, "{}", r.entry.json)?;
                }
            }
            out.flush()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
