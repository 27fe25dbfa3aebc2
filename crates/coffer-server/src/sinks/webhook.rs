//! `webhook:` sink: batches of records POSTed as one JSON array, signed with
//! [`coffer_events::SIGNATURE_HEADER`]. Anything but a 2xx answer is a failure: the batch
//! is sent again (the cursor does not move).

use super::SinkError;
use std::time::Duration;
use zeroize::Zeroizing;

/// Connect and whole-request timeout of webhook POSTs.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A webhook sink.
#[derive(Debug)]
pub struct WebhookSink {
    client: reqwest::Client,
    url: String,
    secret: Zeroizing<String>,
}

impl WebhookSink {
    /// A sink POSTing to `url`, signing with `secret`.
    pub fn new(url: String, secret: Zeroizing<String>) -> Result<WebhookSink, SinkError> {
        Ok(WebhookSink {
            client: client()?,
            url,
            secret,
        })
    }

    /// POSTs the records' JSON texts as one array.
    pub async fn deliver(&self, records: &[&str]) -> Result<(), SinkError> {
        let mut body = Vec::with_capacity(records.iter().map(|r| r.len() + 1).sum::<usize>() + 2);
        body.push(b'[');
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(r.as_bytes());
        }
        body.push(b']');
        post_signed(&self.client, &self.url, self.secret.as_bytes(), body).await
    }
}

/// The HTTP client of webhook deliveries (rustls, native roots, [`TIMEOUT`]).
pub fn client() -> Result<reqwest::Client, SinkError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .user_agent(concat!("coffer/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SinkError::Http(e.without_url().to_string()))
}

/// POSTs `body` (JSON) to `url` with a fresh signature; `Ok` only for a 2xx answer.
pub async fn post_signed(
    client: &reqwest::Client,
    url: &str,
    secret: &[u8],
    body: Vec<u8>,
) -> Result<(), SinkError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let signature = coffer_events::sign(secret, now, &body);
    let response = client
        .post(url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(coffer_events::SIGNATURE_HEADER, signature)
        .body(body)
        .send()
        .await
        // The URL may carry a token: errors never show it.
        .map_err(|e| SinkError::Http(e.without_url().to_string()))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(SinkError::Status(status.as_u16()))
    }
}
