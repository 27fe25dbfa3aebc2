//! `--audit-sink` specifications: `KIND:LOCATION[?option=value&…]`.
//!
//! ```text
//! file:/var/log/coffer/audit.jsonl?max_bytes=104857600&max_files=10
//! stdout:
//! syslog+udp://logs.example.com:514        syslog+tcp://10.0.0.5:6514
//! webhook:https://siem.example.com/coffer?batch=100&interval_ms=1000&secret_env=SIEM_KEY
//! ```
//!
//! Every kind accepts `from=start` (a new sink delivers the whole log instead of starting
//! at its head). Webhook options are removed from the URL; other query parameters stay.

use crate::tail::StartAt;
use std::path::PathBuf;
use std::time::Duration;

/// Default size at which a file sink rotates (100 MiB).
pub const DEFAULT_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// Default number of rotated files kept.
pub const DEFAULT_MAX_FILES: u32 = 10;
/// Default records per webhook POST.
pub const DEFAULT_BATCH: usize = 100;
/// Default longest wait before a partial webhook batch is sent.
pub const DEFAULT_INTERVAL_MS: u64 = 1000;

/// A parsed `--audit-sink`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkSpec {
    /// The spec without its query (which may carry tokens) or URL credentials; shown in
    /// logs and metrics.
    pub name: String,
    /// Where a sink without a stored cursor starts.
    pub start: StartAt,
    /// What kind of sink, with its settings.
    pub kind: SinkKind,
}

/// Syslog transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// One datagram per message.
    Udp,
    /// A stream with RFC 6587 octet-counting framing.
    Tcp,
}

/// The kinds of sink and their settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SinkKind {
    /// JSON lines in a file rotated by size.
    File {
        /// The live file; rotated copies get `.1` … `.max_files` appended.
        path: PathBuf,
        /// Size at which the file is rotated.
        max_bytes: u64,
        /// Rotated files kept.
        max_files: u32,
    },
    /// JSON lines on standard output.
    Stdout,
    /// RFC 5424 messages to a syslog collector.
    Syslog {
        /// UDP or TCP.
        transport: Transport,
        /// `host:port` (IPv6 hosts in brackets).
        address: String,
    },
    /// Signed JSON arrays POSTed to a URL.
    Webhook {
        /// Target URL (the sink's own options removed).
        url: String,
        /// Most records per POST.
        batch: usize,
        /// Longest wait for a batch to fill.
        interval: Duration,
        /// Name of the environment variable holding the signing secret.
        secret_env: String,
    },
}

/// Why a spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// No `KIND:` prefix, or a kind Coffer does not know.
    #[error(
        "audit sink {spec:?}: unknown kind (expected file:, stdout:, syslog+udp://, syslog+tcp:// or webhook:)"
    )]
    UnknownKind {
        /// The spec (query removed).
        spec: String,
    },
    /// The location part is missing or malformed.
    #[error("audit sink {name}: {reason}")]
    BadLocation {
        /// The sink.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An option this kind does not take.
    #[error("audit sink {name}: unknown option {option:?}")]
    UnknownOption {
        /// The sink.
        name: String,
        /// The option.
        option: String,
    },
    /// An option with a value out of range or not a number.
    #[error("audit sink {name}: option {option} must be {expected}")]
    BadValue {
        /// The sink.
        name: String,
        /// The option.
        option: &'static str,
        /// What is accepted.
        expected: &'static str,
    },
    /// A webhook without `secret_env`, or naming an unset variable.
    #[error(
        "audit sink {name}: webhooks need secret_env=VARNAME naming a set, non-empty environment variable{}",
        var.as_ref().map(|v| format!(" ({v} is not set)")).unwrap_or_default()
    )]
    MissingSecret {
        /// The sink.
        name: String,
        /// The variable named, if any.
        var: Option<String>,
    },
    /// Two sinks with one name (they would share a cursor).
    #[error("audit sink {name} is given twice")]
    Duplicate {
        /// The sink.
        name: String,
    },
}

impl SinkSpec {
    /// Meta key of this sink's cursor: `audit.sink.<id>.cursor`, the id a hash of the name.
    pub fn cursor_key(&self) -> String {
        let d = ring::digest::digest(&ring::digest::SHA256, self.name.as_bytes());
        format!("audit.sink.{}.cursor", hex::encode(&d.as_ref()[..8]))
    }

    /// Parses one spec; `env` looks up environment variables (webhook secrets).
    pub fn parse(spec: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<SinkSpec, SpecError> {
        let spec = spec.trim();
        let (base, query) = spec.split_once('?').unwrap_or((spec, ""));
        let mut opts: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect();
        let (kind_text, location) = base.split_once(':').ok_or_else(|| SpecError::UnknownKind {
            spec: base.to_owned(),
        })?;
        let name = match kind_text {
            "webhook" => format!("webhook:{}", strip_userinfo(location)),
            _ => base.to_owned(),
        };
        let start = match take(&mut opts, "from").as_deref() {
            None | Some("head") => StartAt::Head,
            Some("start") => StartAt::Start,
            Some(_) => {
                return Err(SpecError::BadValue {
                    name,
                    option: "from",
                    expected: "start or head",
                });
            }
        };
        let bad = |name: &str, reason| SpecError::BadLocation {
            name: name.to_owned(),
            reason,
        };
        let kind = match kind_text {
            "file" => {
                if location.is_empty() {
                    return Err(bad(&name, "file: needs a path"));
                }
                let max_bytes = number(&mut opts, &name, "max_bytes", 1, u64::MAX, "≥ 1")?
                    .unwrap_or(DEFAULT_MAX_BYTES);
                let max_files = number(&mut opts, &name, "max_files", 1, 1000, "1 to 1000")?
                    .map_or(DEFAULT_MAX_FILES, |n| n as u32);
                SinkKind::File {
                    path: PathBuf::from(location),
                    max_bytes,
                    max_files,
                }
            }
            "stdout" => {
                if !location.is_empty() {
                    return Err(bad(&name, "stdout: takes no location"));
                }
                SinkKind::Stdout
            }
            "syslog+udp" | "syslog+tcp" => {
                let address = location
                    .strip_prefix("//")
                    .filter(|a| valid_host_port(a))
                    .ok_or_else(|| bad(&name, "syslog sinks need //host:port"))?;
                SinkKind::Syslog {
                    transport: if kind_text == "syslog+udp" {
                        Transport::Udp
                    } else {
                        Transport::Tcp
                    },
                    address: address.to_owned(),
                }
            }
            "webhook" => {
                let lower = location.to_ascii_lowercase();
                if !(lower.starts_with("http://") || lower.starts_with("https://"))
                    || location.split('/').nth(2).is_none_or(str::is_empty)
                {
                    return Err(bad(&name, "webhook: needs an http:// or https:// URL"));
                }
                let batch = number(&mut opts, &name, "batch", 1, 10_000, "1 to 10000")?
                    .map_or(DEFAULT_BATCH, |n| n as usize);
                let interval = number(
                    &mut opts,
                    &name,
                    "interval_ms",
                    0,
                    3_600_000,
                    "0 to 3600000",
                )?
                .unwrap_or(DEFAULT_INTERVAL_MS);
                let var = take(&mut opts, "secret_env").filter(|v| !v.is_empty());
                if var.as_deref().and_then(env).is_none_or(|s| s.is_empty()) {
                    return Err(SpecError::MissingSecret { name, var });
                }
                // What is left of the query belongs to the receiver.
                let rest: Vec<String> = opts.drain(..).map(|(k, v)| format!("{k}={v}")).collect();
                let url = if rest.is_empty() {
                    location.to_owned()
                } else {
                    format!("{location}?{}", rest.join("&"))
                };
                SinkKind::Webhook {
                    url,
                    batch,
                    interval: Duration::from_millis(interval),
                    secret_env: var.unwrap_or_default(),
                }
            }
            _ => return Err(SpecError::UnknownKind { spec: name }),
        };
        if let Some((option, _)) = opts.into_iter().next() {
            return Err(SpecError::UnknownOption { name, option });
        }
        Ok(SinkSpec { name, start, kind })
    }

    /// Parses every spec and refuses duplicates.
    pub fn parse_all(
        specs: &[String],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Vec<SinkSpec>, SpecError> {
        let mut out: Vec<SinkSpec> = Vec::with_capacity(specs.len());
        for s in specs.iter().filter(|s| !s.trim().is_empty()) {
            let spec = SinkSpec::parse(s, env)?;
            if out.iter().any(|o| o.name == spec.name) {
                return Err(SpecError::Duplicate { name: spec.name });
            }
            out.push(spec);
        }
        Ok(out)
    }
}

fn take(opts: &mut Vec<(String, String)>, key: &str) -> Option<String> {
    let i = opts.iter().position(|(k, _)| k == key)?;
    Some(opts.remove(i).1)
}

fn number(
    opts: &mut Vec<(String, String)>,
    name: &str,
    option: &'static str,
    min: u64,
    max: u64,
    expected: &'static str,
) -> Result<Option<u64>, SpecError> {
    let Some(v) = take(opts, option) else {
        return Ok(None);
    };
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(SpecError::BadValue {
            name: name.to_owned(),
            option,
            expected,
        }),
    }
}

/// `scheme://user:pass@host/…` → `scheme://host/…`.
fn strip_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

fn valid_host_port(a: &str) -> bool {
    let Some((host, port)) = a.rsplit_once(':') else {
        return false;
    };
    !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok_and(|p| p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        (k == "HOOK_KEY").then(|| "s3cret".to_owned())
    }

    fn parse(s: &str) -> Result<SinkSpec, SpecError> {
        SinkSpec::parse(s, &env)
    }

    #[test]
    fn every_kind_parses() {
        let f = parse("file:/var/log/a.jsonl?max_bytes=1000&max_files=3&from=start").unwrap();
        assert_eq!(f.name, "file:/var/log/a.jsonl");
        assert_eq!(f.start, StartAt::Start);
        assert_eq!(
            f.kind,
            SinkKind::File {
                path: "/var/log/a.jsonl".into(),
                max_bytes: 1000,
                max_files: 3
            }
        );
        assert_eq!(parse("stdout:").unwrap().kind, SinkKind::Stdout);
        let s = parse("syslog+tcp://[::1]:6514").unwrap();
        assert_eq!(
            s.kind,
            SinkKind::Syslog {
                transport: Transport::Tcp,
                address: "[::1]:6514".into()
            }
        );
        let w =
            parse("webhook:https://u:p@h.example/x?batch=5&secret_env=HOOK_KEY&token=t").unwrap();
        assert_eq!(w.name, "webhook:https://h.example/x");
        assert_eq!(
            w.kind,
            SinkKind::Webhook {
                url: "https://u:p@h.example/x?token=t".into(),
                batch: 5,
                interval: Duration::from_millis(1000),
                secret_env: "HOOK_KEY".into()
            }
        );
        assert_ne!(w.cursor_key(), f.cursor_key());
        assert!(f.cursor_key().starts_with("audit.sink.") && f.cursor_key().ends_with(".cursor"));
    }

    #[test]
    fn errors_are_specific() {
        assert!(matches!(
            parse("ftp://x"),
            Err(SpecError::UnknownKind { .. })
        ));
        assert!(matches!(
            parse("nothing"),
            Err(SpecError::UnknownKind { .. })
        ));
        assert!(matches!(parse("file:"), Err(SpecError::BadLocation { .. })));
        assert!(matches!(
            parse("syslog+udp://host"),
            Err(SpecError::BadLocation { .. })
        ));
        assert!(matches!(
            parse("file:/a?max_bytes=0"),
            Err(SpecError::BadValue {
                option: "max_bytes",
                ..
            })
        ));
        assert!(matches!(
            parse("file:/a?colour=red"),
            Err(SpecError::UnknownOption { .. })
        ));
        assert!(matches!(
            parse("webhook:http://h/x"),
            Err(SpecError::MissingSecret { var: None, .. })
        ));
        let e = parse("webhook:http://h/x?secret_env=NOPE").unwrap_err();
        assert!(e.to_string().contains("NOPE is not set"), "{e}");
        assert!(matches!(
            SinkSpec::parse_all(&["stdout:".into(), "stdout:".into()], &env),
            Err(SpecError::Duplicate { .. })
        ));
    }
}
