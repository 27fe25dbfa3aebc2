//! `coffer iam explain`: which statement decides a request, and why, through the server's
//! SimulatePrincipalPolicy (it prints the per-statement trace Coffer adds to each result).

use crate::client::{Endpoint, xml_field, xml_fields};

/// IAM helpers.
#[derive(clap::Subcommand)]
pub enum IamCommand {
    /// Explain the decision for a user or role doing an action on a resource.
    Explain {
        #[command(flatten)]
        endpoint: Endpoint,
        /// ARN of the user or role whose policies are evaluated.
        #[arg(long)]
        principal: String,
        /// Action, e.g. secretsmanager:GetSecretValue (repeatable).
        #[arg(long = "action", required = true)]
        actions: Vec<String>,
        /// Resource ARN (repeatable; default `*`).
        #[arg(long = "resource")]
        resources: Vec<String>,
        /// Context key, `key=value` (repeatable), e.g. aws:SourceIp=10.0.0.1.
        #[arg(long = "context")]
        context: Vec<String>,
    },
}

/// Runs an IAM helper command.
pub async fn run(cmd: IamCommand) -> anyhow::Result<()> {
    let IamCommand::Explain {
        endpoint,
        principal,
        actions,
        resources,
        context,
    } = cmd;
    let mut params = vec![
        ("Action".to_owned(), "SimulatePrincipalPolicy".to_owned()),
        ("Version".to_owned(), "2010-05-08".to_owned()),
        ("PolicySourceArn".to_owned(), principal),
    ];
    for (i, a) in actions.iter().enumerate() {
        params.push((format!("ActionNames.member.{}", i + 1), a.clone()));
    }
    for (i, r) in resources.iter().enumerate() {
        params.push((format!("ResourceArns.member.{}", i + 1), r.clone()));
    }
    for (i, kv) in context.iter().enumerate() {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--context wants key=value, got {kv:?}"))?;
        let p = format!("ContextEntries.member.{}", i + 1);
        params.push((format!("{p}.ContextKeyName"), k.to_owned()));
        params.push((format!("{p}.ContextKeyValues.member.1"), v.to_owned()));
        params.push((format!("{p}.ContextKeyType"), "string".to_owned()));
    }
    let xml = endpoint.signed_query("iam", &params).await?;
    for member in xml_fields(&xml, "CofferExplanation") {
        println!("{member}");
    }
    if xml_field(&xml, "CofferExplanation").is_none() {
        anyhow::bail!("the server returned no explanation");
    }
    Ok(())
}
