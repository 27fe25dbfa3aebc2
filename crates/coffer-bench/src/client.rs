//! One keep-alive HTTP/1.1 connection that sends SigV4-signed AWS JSON 1.1 requests.

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::StatusCode;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::net::TcpStream;

/// Content type of every request.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// Longest a single request may take before it counts as an error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Credentials and scope used to sign.
#[derive(Clone)]
pub struct Credentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Region of the credential scope.
    pub region: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Where to send requests, and as whom.
#[derive(Debug)]
pub struct Target {
    /// Address to connect to.
    pub addr: SocketAddr,
    /// `Host` header value (the endpoint's authority).
    pub host: String,
    /// Signing credentials.
    pub creds: Credentials,
}

/// The result of one request.
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response body.
    pub body: Bytes,
}

/// A dedicated HTTP/1.1 connection (one request at a time).
pub struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
}

impl Conn {
    /// Opens a TCP connection (no Nagle) and performs the HTTP/1.1 handshake.
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::time::timeout(REQUEST_TIMEOUT, TcpStream::connect(addr))
            .await
            .context("connect timed out")?
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Self { sender })
    }

    /// Signs (fresh signature, current time) and sends `secretsmanager.<op>` with `body`,
    /// and reads the whole response.
    pub async fn call(&mut self, target: &Target, op: &str, body: Bytes) -> anyhow::Result<Reply> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.call_inner(target, op, body)).await {
            Ok(r) => r,
            Err(_) => bail!("request timed out after {REQUEST_TIMEOUT:?}"),
        }
    }

    async fn call_inner(
        &mut self,
        target: &Target,
        op: &str,
        body: Bytes,
    ) -> anyhow::Result<Reply> {
        self.sender.ready().await.context("connection closed")?;
        let amz_target = format!("secretsmanager.{op}");
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let amz_date = coffer_sigv4::format_amz_date(now_ms);
        let headers: [(&str, &[u8]); 3] = [
            ("host", target.host.as_bytes()),
            ("content-type", CONTENT_TYPE.as_bytes()),
            ("x-amz-target", amz_target.as_bytes()),
        ];
        let signed = coffer_sigv4::sign(
            &coffer_sigv4::Request {
                method: "POST",
                path: "/",
                query: "",
                headers: &headers,
                body: &body,
            },
            &coffer_sigv4::SigningParams {
                access_key_id: &target.creds.access_key_id,
                secret_access_key: &target.creds.secret_access_key,
                region: &target.creds.region,
                service: "secretsmanager",
                amz_date: &amz_date,
                ..Default::default()
            },
        )
        .map_err(|e| anyhow::anyhow!("signing failed: {e}"))?;
        let req = hyper::Request::post("/")
            .header("host", &target.host)
            .header("content-type", CONTENT_TYPE)
            .header("x-amz-target", amz_target)
            .header("x-amz-date", signed.x_amz_date)
            .header("authorization", signed.authorization)
            .body(Full::new(body))?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Reply { status, body })
    }
}
