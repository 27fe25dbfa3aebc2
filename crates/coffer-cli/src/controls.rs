//! `coffer controls`: runs the detective controls (`CofferAdmin.RunControls`) over the
//! caller's account and region, with credentials from the AWS_* environment, and prints the
//! findings. Exit status: 0 without findings, 3 with findings, 1 on errors.

use crate::client::Endpoint;

/// Exit status when the run reports findings.
pub const EXIT_FINDINGS: i32 = 3;

/// Options of `coffer controls`.
#[derive(clap::Args)]
pub struct ControlsArgs {
    #[command(flatten)]
    endpoint: Endpoint,
    /// Output format: an aligned table, or the server's JSON answer.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
}

/// Runs the controls; returns the process exit status.
pub async fn run(args: ControlsArgs) -> anyhow::Result<i32> {
    let out = args
        .endpoint
        .signed("CofferAdmin.RunControls", &serde_json::json!({}))
        .await?;
    let findings = out
        .get("Findings")
        .and_then(|f| f.as_array())
        .ok_or_else(|| anyhow::anyhow!("the server's answer has no Findings"))?;
    let rows: Vec<[&str; 3]> = findings
        .iter()
        .map(|f| {
            let s = |k: &str| f.get(k).and_then(|v| v.as_str()).unwrap_or("");
            [s("Control"), s("SecretName"), s("Detail")]
        })
        .collect();
    if args.format == "json" {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", table(&rows));
        let evaluated = out.get("Evaluated").and_then(|v| v.as_u64()).unwrap_or(0);
        println!(
            "{} finding{} in {evaluated} secret{} evaluated",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            if evaluated == 1 { "" } else { "s" },
        );
    }
    Ok(if rows.is_empty() { 0 } else { EXIT_FINDINGS })
}

/// Rows under a CONTROL / SECRET / DETAIL header, columns padded to their widest cell
/// (nothing but the header when there are no rows).
fn table(rows: &[[&str; 3]]) -> String {
    const HEADER: [&str; 3] = ["CONTROL", "SECRET", "DETAIL"];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([HEADER[i].len()])
            .max()
            .unwrap_or(0)
    };
    let (w0, w1) = (width(0), width(1));
    let mut out = String::new();
    for r in std::iter::once(&HEADER).chain(rows) {
        out.push_str(&format!("{:<w0$}  {:<w1$}  {}\n", r[0], r[1], r[2]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let t = table(&[
            ["required-tags", "prod/a", "missing required tags: team"],
            ["not-accessed", "b", "never accessed"],
        ]);
        assert_eq!(
            t,
            "CONTROL        SECRET  DETAIL\n\
             required-tags  prod/a  missing required tags: team\n\
             not-accessed   b       never accessed\n"
        );
        assert_eq!(table(&[]), "CONTROL  SECRET  DETAIL\n");
    }
}
