//! `stdout:` sink: the records as JSON lines on standard output.

use super::SinkError;
use std::io::Write;

/// The stdout sink.
#[derive(Debug, Default)]
pub struct StdoutSink;

impl StdoutSink {
    /// Writes one line per record, the whole batch in one locked write, then flushes.
    pub async fn deliver(&self, lines: Vec<String>) -> Result<(), SinkError> {
        tokio::task::spawn_blocking(move || {
            let mut buf = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
            for l in &lines {
                buf.extend_from_slice(l.as_bytes());
                buf.push(b'\n');
            }
            let mut out = std::io::stdout().lock();
            out.write_all(&buf)?;
            out.flush()?;
            Ok(())
        })
        .await
        .map_err(|_| SinkError::Stopped)?
    }
}
