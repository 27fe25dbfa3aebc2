//! `--spawn`: runs `coffer serve --dev` in a temporary data directory on a loopback port
//! chosen by the kernel, reads the credentials and address it prints, and stops it at the end.

use crate::client::Credentials;
use anyhow::{Context, bail};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long the server may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long it may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// A running `coffer serve --dev`; killed if dropped without [`Server::stop`].
pub struct Server {
    child: Child,
    /// Process id.
    pub pid: u32,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Root credentials printed at first start.
    pub creds: Credentials,
    dir: tempfile::TempDir,
}

impl Server {
    /// Starts `binary serve --dev` with a fresh data directory under `parent` (or the system
    /// temporary directory).
    /// `extra` is appended to the `serve` arguments (e.g. `--audit-mode off`).
    pub async fn start(
        binary: &Path,
        parent: Option<&Path>,
        extra: &[String],
    ) -> anyhow::Result<Self> {
        let dir = match parent {
            Some(p) => tempfile::Builder::new()
                .prefix("coffer-bench-")
                .tempdir_in(p),
            None => tempfile::Builder::new().prefix("coffer-bench-").tempdir(),
        }
        .context("creating a temporary data directory")?;
        let log_path = dir.path().join("server.log");
        let log = std::fs::File::create(&log_path).context("creating the server log")?;
        let mut cmd = Command::new(binary);
        cmd.arg("serve")
            .arg("--dev")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--listen")
            .arg("127.0.0.1:0")
            .args(extra);
        // Settings from the caller's environment must not change what is measured.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("COFFER_") {
                cmd.env_remove(&k);
            }
        }
        cmd.env("COFFER_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let pid = child.id().context("server exited at once")?;
        let stdout = child.stdout.take().context("no server stdout")?;
        let mut lines = BufReader::new(stdout).lines();

        let (mut akid, mut secret, mut region) = (None, None, None);
        let read = async {
            while let Some(line) = lines.next_line().await? {
                let l = line.trim();
                if let Some(v) = l.strip_prefix("AWS_ACCESS_KEY_ID=") {
                    akid = Some(v.to_owned());
                } else if let Some(v) = l.strip_prefix("AWS_SECRET_ACCESS_KEY=") {
                    secret = Some(v.to_owned());
                } else if let Some(v) = l.strip_prefix("AWS_DEFAULT_REGION=") {
                    region = Some(v.to_owned());
                } else if let Some(v) = l.strip_prefix("Coffer listening on http://") {
                    return Ok::<_, anyhow::Error>(Some(v.parse::<SocketAddr>()?));
                } else if l.starts_with("Coffer listening on ") {
                    bail!("the server did not start plain HTTP: {l}");
                }
            }
            Ok(None)
        };
        let addr = match tokio::time::timeout(START_TIMEOUT, read).await {
            Ok(Ok(Some(a))) => a,
            Ok(Ok(None)) => {
                let _ = child.wait().await;
                bail!(
                    "the server exited before listening; its log:\n{}",
                    tail(&log_path)
                );
            }
            Ok(Err(e)) => return Err(e.context(format!("server log:\n{}", tail(&log_path)))),
            Err(_) => bail!(
                "the server did not listen within {START_TIMEOUT:?}; its log:\n{}",
                tail(&log_path)
            ),
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let (Some(access_key_id), Some(secret_access_key)) = (akid, secret) else {
            bail!("the server did not print AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY");
        };
        Ok(Self {
            child,
            pid,
            addr,
            creds: Credentials {
                access_key_id,
                secret_access_key,
                region: region.unwrap_or_else(|| "us-east-1".to_owned()),
            },
            dir,
        })
    }

    /// Where the server's data and log are.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// SIGTERM (graceful stop), then SIGKILL if it lingers; removes the data directory.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let termed = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .map(|s| s.success())
            .unwrap_or(false);
        let exited = termed
            && tokio::time::timeout(STOP_TIMEOUT, self.child.wait())
                .await
                .is_ok();
        if !exited {
            self.child.kill().await.context("killing the server")?;
        }
        Ok(())
    }
}

/// The last lines of the server log, for error messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
