//! `syslog+udp://` and `syslog+tcp://` sinks: one RFC 5424 message per record,
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME coffer PROCID AUDIT [coffer@32473 seq="N" eventName="…" account="…"] {record}
//! ```
//!
//! facility `auth` (10), severity notice (5) for successful calls and warning (4) for
//! failed or denied ones. Over TCP messages are framed by octet counting (RFC 6587
//! `LEN SP MSG`). A message is at most [`MAX_MESSAGE`] bytes (UDP: [`MAX_UDP`]); a
//! larger record's JSON is cut and ends with [`TRUNCATED`]; a message is never split.

use super::SinkError;
use super::spec::Transport;
use coffer_audit::AuditRow;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};

/// Largest message (64 KiB).
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Largest message over UDP (the largest IPv4 UDP payload).
pub const MAX_UDP: usize = 65_507;
/// Ends a cut record.
pub const TRUNCATED: &str = "…[truncated]";
/// IANA private enterprise number used for the structured-data id.
const SD_ID: &str = "coffer@32473";
const FACILITY_AUTH: u8 = 10;

/// A syslog sink.
#[derive(Debug)]
pub struct SyslogSink {
    transport: Transport,
    address: String,
    hostname: String,
    udp: Option<UdpSocket>,
    tcp: Option<TcpStream>,
}

impl SyslogSink {
    /// A sink sending to `address` (connected on first use).
    pub fn new(transport: Transport, address: String) -> SyslogSink {
        SyslogSink {
            transport,
            address,
            hostname: hostname(),
            udp: None,
            tcp: None,
        }
    }

    /// Sends one message per record, in order.
    pub async fn deliver(&mut self, rows: &[AuditRow]) -> Result<(), SinkError> {
        let result = self.send(rows).await;
        if result.is_err() {
            self.tcp = None;
            self.udp = None;
        }
        result
    }

    async fn send(&mut self, rows: &[AuditRow]) -> Result<(), SinkError> {
        match self.transport {
            Transport::Udp => {
                if self.udp.is_none() {
                    let addr = tokio::net::lookup_host(&self.address)
                        .await?
                        .next()
                        .ok_or(SinkError::Resolve)?;
                    let bind = if addr.is_ipv4() {
                        "0.0.0.0:0"
                    } else {
                        "[::]:0"
                    };
                    let s = UdpSocket::bind(bind).await?;
                    s.connect(addr).await?;
                    self.udp = Some(s);
                }
                let Some(sock) = &self.udp else {
                    return Err(SinkError::Stopped);
                };
                for row in rows {
                    let msg = message(row, &self.hostname, MAX_UDP);
                    sock.send(msg.as_bytes()).await?;
                }
            }
            Transport::Tcp => {
                if self.tcp.is_none() {
                    let s = tokio::time::timeout(
                        std::time::Duration::from_secs(10),
                        TcpStream::connect(&self.address),
                    )
                    .await
                    .map_err(|_| SinkError::Timeout)??;
                    s.set_nodelay(true)?;
                    self.tcp = Some(s);
                }
                let Some(stream) = self.tcp.as_mut() else {
                    return Err(SinkError::Stopped);
                };
                let mut buf = Vec::new();
                for row in rows {
                    let msg = message(row, &self.hostname, MAX_MESSAGE);
                    buf.extend_from_slice(format!("{} ", msg.len()).as_bytes());
                    buf.extend_from_slice(msg.as_bytes());
                }
                tokio::time::timeout(std::time::Duration::from_secs(10), async {
                    stream.write_all(&buf).await?;
                    stream.flush().await
                })
                .await
                .map_err(|_| SinkError::Timeout)??;
            }
        }
        Ok(())
    }
}

/// The RFC 5424 message of one record, at most `max` bytes.
pub fn message(row: &AuditRow, hostname: &str, max: usize) -> String {
    let json = &row.entry.json;
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
    let failed = v.get("errorCode").is_some_and(|c| !c.is_null());
    let severity = if failed { 4 } else { 5 };
    let timestamp = match field("eventTime") {
        "" => "-",
        t => t,
    };
    let head = format!(
        "<{}>1 {timestamp} {hostname} coffer {} AUDIT [{SD_ID} seq=\"{}\" eventName=\"{}\" account=\"{}\"] ",
        FACILITY_AUTH * 8 + severity,
        std::process::id(),
        row.seq,
        sd_escape(field("eventName")),
        sd_escape(&row.entry.account_id),
    );
    if head.len() + json.len() <= max {
        return head + json;
    }
    let mut end = max.saturating_sub(head.len() + TRUNCATED.len());
    while end > 0 && !json.is_char_boundary(end) {
        end -= 1;
    }
    format!("{head}{}{TRUNCATED}", &json[..end])
}

/// SD-PARAM value escaping: `"`, `\` and `]` get a backslash.
fn sd_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The host name (RFC 5424 HOSTNAME: printable ASCII without spaces), or `-`.
fn hostname() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default();
    let h: String = raw
        .trim()
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    if h.is_empty() { "-".to_owned() } else { h }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coffer_audit::AuditEntry;

    fn row(json: &str) -> AuditRow {
        AuditRow {
            seq: 7,
            prev_hash: [0; 32],
            hash: [0; 32],
            entry: AuditEntry {
                account_id: "111122223333".into(),
                time_ms: 0,
                event_id: "e".into(),
                event_name: "GetSecretValue".into(),
                username: String::new(),
                access_key_id: String::new(),
                read_only: true,
                resources: vec![],
                json: json.into(),
            },
        }
    }

    #[test]
    fn formats_rfc5424_with_structured_data() {
        let j = r#"{"eventTime":"2026-01-02T03:04:05Z","eventName":"Get\"X]"}"#;
        let m = message(&row(j), "host1", MAX_MESSAGE);
        let want = format!(
            "<85>1 2026-01-02T03:04:05Z host1 coffer {} AUDIT [coffer@32473 seq=\"7\" eventName=\"Get\\\"X\\]\" account=\"111122223333\"] {j}",
            std::process::id()
        );
        assert_eq!(m, want);
        let failed = message(
            &row(r#"{"errorCode":"AccessDeniedException"}"#),
            "h",
            MAX_MESSAGE,
        );
        assert!(failed.starts_with("<84>1 - h coffer "), "{failed}");
    }

    #[test]
    fn long_records_are_cut_not_split() {
        let big = format!("{{\"x\":\"{}\"}}", "é".repeat(40_000));
        let m = message(&row(&big), "h", MAX_MESSAGE);
        assert!(m.len() <= MAX_MESSAGE);
        assert!(m.ends_with(TRUNCATED));
        assert!(message(&row(&big), "h", MAX_UDP).len() <= MAX_UDP);
    }
}
