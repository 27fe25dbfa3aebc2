//! XML response building for the Query protocol.

use super::Service;

/// Builds one `<{Action}Response>` document.
///
/// Element names come from code and are written as given; text is escaped. Elements
/// still open at [`XmlWriter::finish`] are closed, so an unbalanced caller cannot
/// produce malformed XML (only a differently nested one).
#[derive(Debug)]
pub struct XmlWriter {
    buf: String,
    stack: Vec<String>,
    action: String,
    result_depth: usize,
}

impl XmlWriter {
    /// Starts `<{action}Response xmlns=…><{action}Result>`.
    pub fn new(service: Service, action: &str) -> Self {
        let mut w = Self::without_result(service, action);
        w.start(&format!("{action}Result"));
        w.result_depth = 1;
        w
    }

    /// Starts a response that has no result element (e.g. `DeleteUser`): only
    /// `ResponseMetadata` follows.
    pub fn without_result(service: Service, action: &str) -> Self {
        let mut buf = String::with_capacity(512);
        buf.push_str(&format!(
            "<{action}Response xmlns=\"{}\">",
            service.namespace()
        ));
        Self {
            buf,
            stack: Vec::new(),
            action: action.to_owned(),
            result_depth: 0,
        }
    }

    /// Opens `<name>`.
    pub fn start(&mut self, name: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        self.stack.push(name.to_owned());
        self
    }

    /// Closes the innermost open element (never the result wrapper; a stray call is
    /// ignored).
    pub fn end(&mut self) -> &mut Self {
        if self.stack.len() > self.result_depth
            && let Some(name) = self.stack.pop()
        {
            self.close(&name);
        }
        self
    }

    /// `<name>escaped text</name>`.
    pub fn text(&mut self, name: &str, value: &str) -> &mut Self {
        self.buf.push('<');
        self.buf.push_str(name);
        self.buf.push('>');
        escape_into(&mut self.buf, value);
        self.close(name);
        self
    }

    /// [`XmlWriter::text`] when `value` is `Some`; nothing otherwise.
    pub fn opt_text(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.text(name, v);
        }
        self
    }

    /// `<name>true</name>` / `false`.
    pub fn bool(&mut self, name: &str, value: bool) -> &mut Self {
        self.text(name, if value { "true" } else { "false" })
    }

    /// An integer element.
    pub fn int(&mut self, name: &str, value: i64) -> &mut Self {
        self.text(name, &value.to_string())
    }

    /// A timestamp element, `2026-11-25T12:00:00Z`, from epoch milliseconds.
    pub fn timestamp(&mut self, name: &str, epoch_ms: i64) -> &mut Self {
        self.text(name, &format_timestamp(epoch_ms))
    }

    /// A policy document, URL-encoded as IAM returns them.
    pub fn policy_document(&mut self, name: &str, document: &str) -> &mut Self {
        self.text(name, &url_encode(document))
    }

    /// `<name><member>…</member>…</name>`, `item` writing each member's content.
    pub fn list<T>(
        &mut self,
        name: &str,
        items: impl IntoIterator<Item = T>,
        mut item: impl FnMut(&mut Self, T),
    ) -> &mut Self {
        self.start(name);
        for it in items {
            self.start("member");
            item(self, it);
            self.end();
        }
        self.end()
    }

    /// `<name><member>text</member>…</name>`.
    pub fn string_list<S: AsRef<str>>(
        &mut self,
        name: &str,
        items: impl IntoIterator<Item = S>,
    ) -> &mut Self {
        self.list(name, items, |w, s| {
            escape_into(&mut w.buf, s.as_ref());
        })
    }

    /// `<name><member><Key>k</Key><Value>v</Value></member>…</name>`.
    pub fn tags<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        name: &str,
        tags: impl IntoIterator<Item = (K, V)>,
    ) -> &mut Self {
        self.list(name, tags, |w, (k, v)| {
            w.text("Key", k.as_ref()).text("Value", v.as_ref());
        })
    }

    /// Closes everything, appends `ResponseMetadata` and returns the document.
    pub fn finish(mut self, request_id: &str) -> String {
        while let Some(name) = self.stack.pop() {
            self.close(&name);
        }
        self.buf.push_str("<ResponseMetadata>");
        self.buf.push_str("<RequestId>");
        escape_into(&mut self.buf, request_id);
        self.buf.push_str("</RequestId></ResponseMetadata>");
        let action = std::mem::take(&mut self.action);
        self.close(&format!("{action}Response"));
        self.buf
    }

    fn close(&mut self, name: &str) {
        self.buf.push_str("</");
        self.buf.push_str(name);
        self.buf.push('>');
    }
}

/// The `<ErrorResponse>` document.
pub fn error_xml(
    service: Service,
    code: &str,
    message: &str,
    sender: bool,
    request_id: &str,
) -> String {
    let mut s = format!(
        "<ErrorResponse xmlns=\"{}\"><Error><Type>",
        service.namespace()
    );
    s.push_str(if sender { "Sender" } else { "Receiver" });
    s.push_str("</Type><Code>");
    escape_into(&mut s, code);
    s.push_str("</Code><Message>");
    escape_into(&mut s, message);
    s.push_str("</Message></Error><RequestId>");
    escape_into(&mut s, request_id);
    s.push_str("</RequestId></ErrorResponse>");
    s
}

/// Escapes XML text: `& < > " '` as entities; tab, LF and CR as character references
/// (so parsers keep them verbatim); other characters XML 1.0 forbids (C0 controls,
/// U+FFFE, U+FFFF) become U+FFFD, since no XML 1.0 parser accepts them in any form.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// RFC 3986 percent-encoding of everything but unreserved characters, as IAM encodes
/// policy documents in responses.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Epoch milliseconds → `YYYY-MM-DDTHH:MM:SSZ` (UTC, seconds precision).
pub fn format_timestamp(epoch_ms: i64) -> String {
    let (date, h, m, s, _) = split(epoch_ms);
    format!("{date}T{h:02}:{m:02}:{s:02}Z")
}

/// Epoch milliseconds → `YYYY-MM-DDTHH:MM:SS.mmmZ` (STS `Expiration` style).
pub fn format_timestamp_millis(epoch_ms: i64) -> String {
    let (date, h, m, s, ms) = split(epoch_ms);
    format!("{date}T{h:02}:{m:02}:{s:02}.{ms:03}Z")
}

fn split(epoch_ms: i64) -> (String, i64, i64, i64, i64) {
    let ms = epoch_ms.rem_euclid(1000);
    let secs = epoch_ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    (
        format!("{y:04}-{mo:02}-{d:02}"),
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        ms,
    )
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (year, month, day).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(format_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_timestamp(1_795_608_000_000), "2026-11-25T12:00:00Z");
        assert_eq!(
            format_timestamp_millis(951_782_400_123),
            "2000-02-29T00:00:00.123Z"
        );
        assert_eq!(format_timestamp(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        escape_into(&mut s, "a&<>\"'\t\u{1}b");
        assert_eq!(s, "a&amp;&lt;&gt;&quot;&apos;&#9;\u{FFFD}b");
        assert_eq!(url_encode("{\"a\": 1}~"), "%7B%22a%22%3A%201%7D~");
    }
}
