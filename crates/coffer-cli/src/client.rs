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

    /// A SigV4-signed AWS JSON 1.1 call with credentials from the AWS_* environment.
    pub async fn signed(
        &self,
        target: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let akid = std::env::var("AWS_ACCESS_KEY_ID").context("AWS_ACCESS_KEY_ID is not set")?;
        let secret = Zeroizing::new(
            std::env::var("AWS_SECRET_ACCESS_KEY").context("AWS_SECRET_ACCESS_KEY is not set")?,
        );
        let region = std::env::var("AWS_REGION")
            .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|_| "us-east-1".to_owned());
        let url: reqwest::Url = self.url("/").parse()?;
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let payload = serde_json::to_vec(body)?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as i64;
        let amz_date = coffer_sigv4::format_amz_date(now);
        let headers: [(&str, &[u8]); 3] = [
            ("host", host.as_bytes()),
            ("content-type", b"application/x-amz-json-1.1"),
            ("x-amz-target", target.as_bytes()),
        ];
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
            region: &region,
            service: "secretsmanager",
            amz_date: &amz_date,
            ..Default::default()
        };
        let signed = coffer_sigv4::sign(&req_view, &params)
            .map_err(|e| anyhow::anyhow!("signing failed: {e}"))?;
        let req = self
            .client()?
            .post(url)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .header("x-amz-date", signed.x_amz_date)
            .header("authorization", signed.authorization)
            .body(payload);
        json_or_error(req.send().await?).await
    }
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
