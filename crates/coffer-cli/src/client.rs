//! A small HTTP client for the operator commands: plain JSON to the sys endpoints, and
//! SigV4-signed AWS JSON 1.1 calls for administrative operations.

use anyhow::{Context, bail};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Where and how to reach the server.
#[derive(clap::Args, Clone)]
pub struct Endpoint {
    /// Server URL.
    #[arg(long, env = "COFFER_ENDPOINT", default_value = "http://127.0.0.1:8080")]
    pub endpoint: String,
    /// Extra CA certificate (PEM) to trust for https endpoints.
    #[arg(long, env = "COFFER_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
}

impl Endpoint {
    fn client(&self) -> anyhow::Result<reqwest::Client> {
        let mut b = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30));
        if let Some(ca) = &self.ca_cert {
            let pem = std::fs::read(ca).with_context(|| format!("reading {}", ca.display()))?;
            b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem)?);
        }
        Ok(b.build()?)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.endpoint.trim_end_matches('/'), path)
    }

    /// GET a sys endpoint.
    pub async fn get(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let r = self.client()?.get(self.url(path)).send().await?;
        json_or_error(r).await
    }

    /// POST JSON to a sys endpoint.
    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let r = self
            .client()?
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body)?)
            .send()
            .await?;
        json_or_error(r).await
    }

    /// A SigV4-signed AWS Query call (IAM/STS) with credentials from the AWS_* environment;
    /// returns the XML response body.
    pub async fn signed_query(
        &self,
        service: &str,
        params: &[(String, String)],
    ) -> anyhow::Result<String> {
        let body: String = params
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    coffer_iam::wire::url_encode(k),
                    coffer_iam::wire::url_encode(v)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let ctype = "application/x-www-form-urlencoded; charset=utf-8";
        let r = self
            .sign_and_send(service, ctype, None, body.into_bytes())
            .await?;
        let status = r.status();
        let text = r.text().await?;
        if !status.is_success() {
            let code = xml_field(&text, "Code").unwrap_or_default();
            let msg = xml_field(&text, "Message").unwrap_or_default();
            bail!("{code}: {msg}");
        }
        Ok(text)
    }

    /// A SigV4-signed AWS JSON 1.1 call with credentials from the AWS_* environment.
    pub async fn signed(
        &self,
        target: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let payload = serde_json::to_vec(body)?;
        let r = self
            .sign_and_send(
                "secretsmanager",
                "application/x-amz-json-1.1",
                Some(target),
                payload,
            )
            .await?;
        json_or_error(r).await
    }

    async fn sign_and_send(
        &self,
        service: &str,
        content_type: &str,
        target: Option<&str>,
        payload: Vec<u8>,
    ) -> anyhow::Result<reqwest::Response> {
        let akid = std::env::var("AWS_ACCESS_KEY_ID").context("AWS_ACCESS_KEY_ID is not set")?;
        let secret = Zeroizing::new(
            std::env::var("AWS_SECRET_ACCESS_KEY").context("AWS_SECRET_ACCESS_KEY is not set")?,
        );
        let token = std::env::var("AWS_SESSION_TOKEN").ok();
        let region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|_| "us-east-1".to_owned());
        let url: reqwest::Url = self.url("/").parse()?;
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as i64;
        let amz_date = coffer_sigv4::format_amz_date(now);
        let mut headers: Vec<(&str, &[u8])> = vec![
            ("host", host.as_bytes()),
            ("content-type", content_type.as_bytes()),
        ];
        if let Some(t) = target {
            headers.push(("x-amz-target", t.as_bytes()));
        }
        let req_view = coffer_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: &payload,
        };
        let params = coffer_sigv4::SigningParams {
            access_key_id: &akid,
            secret_access_key: &secret,
            session_token: token.as_deref(),
            region: &region,
            service,
            amz_date: &amz_date,
            ..Default::default()
        };
        let signed = coffer_sigv4::sign(&req_view, &params)
            .map_err(|e| anyhow::anyhow!("signing failed: {e}"))?;
        let mut req = self
            .client()?
            .post(url)
            .header("content-type", content_type)
            .header("x-amz-date", signed.x_amz_date)
            .header("authorization", signed.authorization);
        if let Some(t) = target {
            req = req.header("x-amz-target", t);
        }
        if let Some(t) = &token {
            req = req.header("x-amz-security-token", t);
        }
        Ok(req.body(payload).send().await?)
    }
}

/// The text of the first `<name>…</name>` element, XML entities decoded.
pub fn xml_field(xml: &str, name: &str) -> Option<String> {
    xml_fields(xml, name).into_iter().next()
}

/// The texts of every `<name>…</name>` element, XML entities decoded.
pub fn xml_fields(xml: &str, name: &str) -> Vec<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(unescape(&after[..j]));
        rest = &after[j + close.len()..];
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let ent = &tail[1..end];
        let ch = match ent {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match ch {
            Some(c) => out.push(c),
            None => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

async fn json_or_error(r: reqwest::Response) -> anyhow::Result<serde_json::Value> {
    let status = r.status();
    let bytes = r.bytes().await?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).context("server did not answer with JSON")?;
    if !status.is_success() {
        let code = v.get("__type").and_then(|t| t.as_str()).unwrap_or("Error");
        let msg = v.get("message").and_then(|t| t.as_str()).unwrap_or("");
        bail!("{code}: {msg} (HTTP {status})");
    }
    Ok(v)
}
