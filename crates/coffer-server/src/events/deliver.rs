//! Delivery of one event to one rule target: `webhook` (signed POST), `command` (argv,
//! no shell, event JSON on stdin) or `log`. Webhooks and commands are retried with
//! exponential backoff (100 ms doubling, at most 30 s) up to their attempt limit; then
//! the failure is logged and the event skipped for that target.

use crate::sinks::SinkError;
use crate::tail::Backoff;
use coffer_events::{DEFAULT_MAX_ATTEMPTS, Event, Target};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// Longest run of a command target.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// Why one attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The webhook POST failed or was answered with a non-2xx status.
    #[error(transparent)]
    Webhook(#[from] SinkError),
    /// The command could not be started or fed.
    #[error("command: {0}")]
    Spawn(#[from] std::io::Error),
    /// The command exited unsuccessfully.
    #[error("command exited with {0}")]
    Exit(std::process::ExitStatus),
    /// The command ran longer than [`COMMAND_TIMEOUT`] (it was killed).
    #[error("command timed out after {} s", COMMAND_TIMEOUT.as_secs())]
    Timeout,
}

/// Delivers `event` to `target`, retrying; returns whether it was delivered.
pub async fn deliver(
    client: &reqwest::Client,
    rule: &str,
    index: usize,
    target: &Target,
    event: &Event,
) -> bool {
    let body = event.to_json();
    let attempts = match target {
        Target::Log {} => {
            tracing::info!(rule, event = %body, "event");
            return true;
        }
        Target::Webhook { max_attempts, .. } => *max_attempts,
        Target::Command { .. } => DEFAULT_MAX_ATTEMPTS,
    };
    let mut backoff = Backoff::default();
    for attempt in 1..=attempts.max(1) {
        let result = match target {
            Target::Webhook { url, secret, .. } => crate::sinks::webhook::post_signed(
                client,
                url,
                secret.expose().as_bytes(),
                body.clone().into_bytes(),
            )
            .await
            .map_err(DeliveryError::from),
            Target::Command { argv } => run_command(argv, body.as_bytes()).await,
            Target::Log {} => Ok(()),
        };
        match result {
            Ok(()) => return true,
            Err(e) if attempt < attempts => {
                let delay = backoff.next_delay();
                tracing::debug!(rule, target = index, attempt, error = %e, "event delivery attempt failed");
                tokio::time::sleep(delay).await;
            }
            Err(e) => {
                tracing::warn!(rule, target = index, event_id = %event.id,
                    detail_type = %event.detail_type, attempts, error = %e,
                    "event delivery failed; skipping it for this target");
            }
        }
    }
    false
}

/// Runs `argv` with `input` on stdin; success is exit status 0 within the timeout.
async fn run_command(argv: &[String], input: &[u8]) -> Result<(), DeliveryError> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| DeliveryError::Spawn(std::io::Error::other("empty argv")))?;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let run = async {
        if let Some(mut stdin) = child.stdin.take() {
            // A command that does not read its input is not a failure.
            if let Err(e) = stdin.write_all(input).await
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(DeliveryError::Spawn(e));
            }
        }
        let status = child.wait().await?;
        if status.success() {
            Ok(())
        } else {
            Err(DeliveryError::Exit(status))
        }
    };
    tokio::time::timeout(COMMAND_TIMEOUT, run)
        .await
        .map_err(|_| DeliveryError::Timeout)?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn commands_get_the_event_on_stdin() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let argv = vec![
            "sh".to_owned(),
            "-c".to_owned(),
            format!("cat > {}", out.display()),
        ];
        run_command(&argv, b"{\"a\":1}").await.unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "{\"a\":1}");
        let fail = vec!["sh".to_owned(), "-c".to_owned(), "exit 3".to_owned()];
        assert!(matches!(
            run_command(&fail, b"").await,
            Err(DeliveryError::Exit(_))
        ));
        let missing = vec!["/nonexistent/coffer-test".to_owned()];
        assert!(matches!(
            run_command(&missing, b"").await,
            Err(DeliveryError::Spawn(_))
        ));
    }
}
