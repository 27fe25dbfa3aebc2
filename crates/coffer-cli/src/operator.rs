//! `coffer operator ...` and `coffer account ...`.

use crate::client::Endpoint;
use anyhow::Context;
use clap::Subcommand;
use std::io::BufRead;
use zeroize::Zeroizing;

/// Operator commands.
#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Initialise a new server: generate the root key, split it into Shamir shares and
    /// create the first (admin) account. Prints the shares and root credentials once.
    Init {
        #[command(flatten)]
        endpoint: Endpoint,
        /// Number of shares to create.
        #[arg(long, default_value_t = 5)]
        shares: u8,
        /// Number of shares needed to unseal.
        #[arg(long, default_value_t = 3)]
        threshold: u8,
    },
    /// Submit one unseal share. Reads it from standard input unless given (giving it as an
    /// argument leaves it in your shell history).
    Unseal {
        #[command(flatten)]
        endpoint: Endpoint,
        /// The share (`coffer-share-v1:...`); `-` or absent reads standard input.
        share: Option<String>,
    },
    /// Replace the unseal shares: new shares of a new unseal key (the root key and all data
    /// stay as they are; the old shares stop working). Reads `threshold` current shares
    /// from standard input, one per line, and prints the new shares once.
    Rekey {
        #[command(flatten)]
        endpoint: Endpoint,
        /// Number of new shares.
        #[arg(long, default_value_t = 5)]
        shares: u8,
        /// Number of new shares needed to unseal.
        #[arg(long, default_value_t = 3)]
        threshold: u8,
    },
    /// Move an unsealed server to another way of holding its root key (needs an admin access
    /// key): `--to shamir` prints new shares; `--to kms` encrypts the root key with the
    /// external KMS the server was started with (`--seal-kms-*`). Secret data is untouched.
    MigrateSeal {
        #[command(flatten)]
        endpoint: Endpoint,
        /// `shamir` or `kms`.
        #[arg(long, value_parser = ["shamir", "kms"])]
        to: String,
        /// Number of new shares (to shamir).
        #[arg(long, default_value_t = 5)]
        shares: u8,
        /// Shares needed to unseal (to shamir).
        #[arg(long, default_value_t = 3)]
        threshold: u8,
    },
    /// Show whether the server is initialised and sealed.
    Status {
        #[command(flatten)]
        endpoint: Endpoint,
    },
    /// Seal the server: drop all key material from memory (needs an admin access key).
    Seal {
        #[command(flatten)]
        endpoint: Endpoint,
    },
}

/// Account commands.
#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create an account with a root access key (needs an admin access key in AWS_*).
    Create {
        #[command(flatten)]
        endpoint: Endpoint,
    },
}

/// Runs an operator command.
pub async fn run_operator(cmd: OperatorCommand) -> anyhow::Result<()> {
    match cmd {
        OperatorCommand::Init {
            endpoint,
            shares,
            threshold,
        } => {
            let v = endpoint
                .post(
                    "/coffer/v1/sys/init",
                    &serde_json::json!({"shares": shares, "threshold": threshold}),
                )
                .await?;
            println!(
                "Coffer initialized. Store each share with a different operator; they are shown only once."
            );
            println!("{threshold} of {shares} shares are needed to unseal.\n");
            for (i, s) in v["shares"].as_array().into_iter().flatten().enumerate() {
                println!("Unseal share {}: {}", i + 1, s.as_str().unwrap_or_default());
            }
            println!(
                "\nRoot access key of admin account {} (shown only once):",
                v["account_id"].as_str().unwrap_or_default()
            );
            println!(
                "  AWS_ACCESS_KEY_ID={}",
                v["access_key_id"].as_str().unwrap_or_default()
            );
            println!(
                "  AWS_SECRET_ACCESS_KEY={}",
                v["secret_access_key"].as_str().unwrap_or_default()
            );
            println!(
                "\nThe server is unsealed now; after every restart run `coffer operator unseal` {threshold} times."
            );
            Ok(())
        }
        OperatorCommand::Unseal { endpoint, share } => {
            let share = match share.filter(|s| s != "-") {
                Some(s) => Zeroizing::new(s),
                None => {
                    eprintln!("Unseal share:");
                    let mut line = Zeroizing::new(String::new());
                    std::io::stdin()
                        .lock()
                        .read_line(&mut line)
                        .context("reading the share")?;
                    Zeroizing::new(line.trim().to_owned())
                }
            };
            let v = endpoint
                .post(
                    "/coffer/v1/sys/unseal",
                    &serde_json::json!({"share": &*share}),
                )
                .await?;
            print_status(&v);
            Ok(())
        }
        OperatorCommand::Rekey {
            endpoint,
            shares,
            threshold,
        } => {
            let st = endpoint
                .post(
                    "/coffer/v1/sys/rekey/init",
                    &serde_json::json!({"shares": shares, "threshold": threshold}),
                )
                .await?;
            let nonce = st["nonce"].as_str().unwrap_or_default().to_owned();
            let required = st["required"].as_u64().unwrap_or(0);
            eprintln!("Rekey started: enter {required} current shares, one per line.");
            let stdin = std::io::stdin();
            let mut lines = stdin.lock();
            loop {
                let mut line = Zeroizing::new(String::new());
                if lines.read_line(&mut line).context("reading a share")? == 0 {
                    anyhow::bail!("standard input ended before the rekey completed");
                }
                let v = endpoint
                    .post(
                        "/coffer/v1/sys/rekey/update",
                        &serde_json::json!({"nonce": nonce, "share": line.trim()}),
                    )
                    .await?;
                if let Some(new) = v["new_shares"].as_array() {
                    for (i, s) in new.iter().enumerate() {
                        println!(
                            "New unseal share {}: {}",
                            i + 1,
                            s.as_str().unwrap_or_default()
                        );
                    }
                    println!(
                        "\nRekey complete: {threshold} of these {shares} shares unseal from now on; the old shares no longer do."
                    );
                    return Ok(());
                }
                eprintln!("progress: {}/{}", v["progress"], v["required"]);
            }
        }
        OperatorCommand::MigrateSeal {
            endpoint,
            to,
            shares,
            threshold,
        } => {
            let v = endpoint
                .signed(
                    "CofferAdmin.MigrateSeal",
                    &serde_json::json!({"To": to, "Shares": shares, "Threshold": threshold}),
                )
                .await?;
            if let Some(new) = v["Shares"].as_array() {
                for (i, s) in new.iter().enumerate() {
                    println!("Unseal share {}: {}", i + 1, s.as_str().unwrap_or_default());
                }
                println!(
                    "\nMigrated to Shamir shares: after the next start run `coffer operator unseal` {threshold} times."
                );
            } else {
                println!(
                    "Migrated to auto-unseal with key {}; keep the --seal-kms-* settings for every start.",
                    v["KeyId"].as_str().unwrap_or_default()
                );
            }
            Ok(())
        }
        OperatorCommand::Status { endpoint } => {
            let v = endpoint.get("/coffer/v1/sys/status").await?;
            print_status(&v);
            Ok(())
        }
        OperatorCommand::Seal { endpoint } => {
            endpoint
                .signed("CofferAdmin.Seal", &serde_json::json!({}))
                .await?;
            println!("Sealed.");
            Ok(())
        }
    }
}

fn print_status(v: &serde_json::Value) {
    println!("initialized: {}", v["initialized"]);
    println!("sealed:      {}", v["sealed"]);
    println!("mode:        {}", v["mode"].as_str().unwrap_or("-"));
    if v["threshold"].as_u64().unwrap_or(0) > 0 {
        println!("threshold:   {} of {}", v["threshold"], v["shares"]);
        println!("progress:    {}", v["progress"]);
    }
}

/// Runs an account command.
pub async fn run_account(cmd: AccountCommand) -> anyhow::Result<()> {
    match cmd {
        AccountCommand::Create { endpoint } => {
            let v = endpoint
                .signed("CofferAdmin.CreateAccount", &serde_json::json!({}))
                .await?;
            println!(
                "Account {} created. Root access key (shown only once):",
                v["AccountId"].as_str().unwrap_or_default()
            );
            println!(
                "  AWS_ACCESS_KEY_ID={}",
                v["AccessKeyId"].as_str().unwrap_or_default()
            );
            println!(
                "  AWS_SECRET_ACCESS_KEY={}",
                v["SecretAccessKey"].as_str().unwrap_or_default()
            );
            Ok(())
        }
    }
}
