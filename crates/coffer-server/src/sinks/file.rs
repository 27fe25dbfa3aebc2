//! `file:` sink: the records as JSON lines, rotated by size (`audit.jsonl` →
//! `audit.jsonl.1` … `.N`, the oldest dropped), files created with mode 0600, fsync after
//! every batch.

use super::SinkError;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A file sink. The file work runs on the blocking pool.
#[derive(Debug, Clone)]
pub struct FileSink {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    max_bytes: u64,
    max_files: u32,
    file: Option<(File, u64)>,
}

impl FileSink {
    /// A sink writing to `path` (opened on first write; its directory must exist).
    pub fn new(path: PathBuf, max_bytes: u64, max_files: u32) -> Result<FileSink, SinkError> {
        let mut inner = Inner {
            path,
            max_bytes,
            max_files,
            file: None,
        };
        inner.open()?; // fail at start on a bad path
        Ok(FileSink {
            inner: Arc::new(Mutex::new(inner)),
        })
    }

    /// Appends one line per record and syncs the file.
    pub async fn deliver(&self, lines: Vec<String>) -> Result<(), SinkError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
            let result = inner.write_batch(&lines);
            if result.is_err() {
                inner.file = None; // reopen on the retry
            }
            result
        })
        .await
        .map_err(|_| SinkError::Stopped)?
    }
}

impl Inner {
    fn open(&mut self) -> Result<(), SinkError> {
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)?;
        let len = f.metadata()?.len();
        self.file = Some((f, len));
        Ok(())
    }

    fn write_batch(&mut self, lines: &[String]) -> Result<(), SinkError> {
        if self.file.is_none() {
            self.open()?;
        }
        for line in lines {
            let need = line.len() as u64 + 1;
            let size = self.file.as_ref().map_or(0, |f| f.1);
            if size > 0 && size + need > self.max_bytes {
                self.rotate()?;
            }
            let Some((f, size)) = self.file.as_mut() else {
                return Err(SinkError::Stopped);
            };
            let mut buf = Vec::with_capacity(line.len() + 1);
            buf.extend_from_slice(line.as_bytes());
            buf.push(b'\n');
            f.write_all(&buf)?;
            *size += need;
        }
        if let Some((f, _)) = &self.file {
            f.sync_data()?;
        }
        Ok(())
    }

    /// Closes the live file (synced) and shifts `path` → `.1` → `.2` …, dropping the last.
    fn rotate(&mut self) -> Result<(), SinkError> {
        if let Some((f, _)) = self.file.take() {
            f.sync_all()?;
        }
        let n = self.max_files;
        let _ = std::fs::remove_file(numbered(&self.path, n));
        for i in (1..n).rev() {
            let from = numbered(&self.path, i);
            if from.exists() {
                std::fs::rename(&from, numbered(&self.path, i + 1))?;
            }
        }
        std::fs::rename(&self.path, numbered(&self.path, 1))?;
        self.open()?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

fn numbered(path: &Path, i: u32) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{i}"));
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[tokio::test]
    async fn rotates_by_size_and_keeps_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let sink = FileSink::new(path.clone(), 25, 2).unwrap();
        for i in 0..5 {
            sink.deliver(vec![format!("{{\"n\":{i:011}}}")])
                .await
                .unwrap(); // 18 bytes + \n
        }
        let read = |p: &Path| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(&path), "{\"n\":00000000004}\n");
        assert_eq!(read(&numbered(&path, 1)), "{\"n\":00000000003}\n");
        assert_eq!(read(&numbered(&path, 2)), "{\"n\":00000000002}\n");
        assert!(!numbered(&path, 3).exists());
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A batch larger than max_bytes still lands whole, one record per file at most.
        sink.deliver(vec!["a".repeat(40), "b".into()])
            .await
            .unwrap();
        assert_eq!(read(&path), "b\n");
    }
}
