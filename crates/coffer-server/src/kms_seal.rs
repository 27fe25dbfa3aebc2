//! Auto-unseal through an external KMS that speaks the AWS KMS API (AWS KMS itself, or
//! another Coffer): the root key is stored encrypted by a key there and decrypted at start.

use base64::Engine;
use coffer_service::RootKeyService;
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// Encryption context bound to the root key's ciphertext.
const CONTEXT: (&str, &str) = ("coffer:purpose", "root-key");

/// Settings of the external KMS.
#[derive(Clone)]
pub struct RemoteKms {
    /// e.g. `https://kms.eu-west-1.amazonaws.com` or another Coffer's URL.
    pub endpoint: String,
    /// Key id or ARN there.
    pub key_id: String,
    /// Region to sign for.
    pub region: String,
    /// Access key id of the credentials used.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: Zeroizing<String>,
    client: reqwest::Client,
}

impl std::fmt::Debug for RemoteKms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteKms")
            .field("endpoint", &self.endpoint)
            .field("key_id", &self.key_id)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl RemoteKms {
    /// A client for `key_id` at `endpoint`, signing with the given credentials.
    pub fn new(
        endpoint: &str,
        key_id: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: Zeroizing<String>,
    ) -> anyhow::Result<RemoteKms> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(RemoteKms {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            key_id: key_id.to_owned(),
            region: region.to_owned(),
            access_key_id: access_key_id.to_owned(),
            secret_access_key,
            client,
        })
    }

    async fn call(&self, op: &str, body: &Value) -> Result<Value, String> {
        let payload = serde_json::to_vec(body).map_err(|e| e.to_string())?;
        let url = format!("{}/", self.endpoint)
            .parse::<reqwest::Url>()
            .map_err(|e| e.to_string())?;
        let host = match url.port() {
            Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let target = format!("TrentService.{op}");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_millis() as i64;
        let amz_date = coffer_sigv4::format_amz_date(now);
        let content_type = "application/x-amz-json-1.1";
        let headers: Vec<(&str, &[u8])> = vec![
            ("host", host.as_bytes()),
            ("content-type", content_type.as_bytes()),
            ("x-amz-target", target.as_bytes()),
        ];
        let req = coffer_sigv4::Request {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: &payload,
        };
        let params = coffer_sigv4::SigningParams {
            access_key_id: &self.access_key_id,
            secret_access_key: &self.secret_access_key,
            region: &self.region,
            service: "kms",
            amz_date: &amz_date,
            ..Default::default()
        };
        let signed = coffer_sigv4::sign(&req, &params).map_err(|e| e.to_string())?;
        let resp = self
            .client
            .post(url)
            .header("content-type", content_type)
            .header("x-amz-target", &target)
            .header("x-amz-date", signed.x_amz_date)
            .header("authorization", signed.authorization)
            .body(payload)
            .send()
            .await
            .map_err(|e| format!("{op}: {}", e.without_url()))?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| format!("{op}: {e}"))?;
        let v: Value =
            serde_json::from_slice(&bytes).map_err(|_| format!("{op}: the answer is not JSON"))?;
        if !status.is_success() {
            let code = v["__type"].as_str().unwrap_or("error");
            let msg = v["message"]
                .as_str()
                .or(v["Message"].as_str())
                .unwrap_or("");
            return Err(format!("{op}: {code}: {msg}"));
        }
        Ok(v)
    }
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

#[async_trait::async_trait]
impl RootKeyService for RemoteKms {
    fn key_id(&self) -> String {
        self.key_id.clone()
    }

    async fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, String> {
        let body = json!({
            "KeyId": self.key_id,
            "Plaintext": b64().encode(plaintext),
            "EncryptionContext": {CONTEXT.0: CONTEXT.1},
        });
        let v = self.call("Encrypt", &body).await?;
        let blob = v["CiphertextBlob"]
            .as_str()
            .ok_or("Encrypt: no CiphertextBlob in the answer")?;
        b64().decode(blob).map_err(|e| e.to_string())
    }

    async fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, String> {
        let body = json!({
            "KeyId": self.key_id,
            "CiphertextBlob": b64().encode(ciphertext),
            "EncryptionContext": {CONTEXT.0: CONTEXT.1},
        });
        let v = self.call("Decrypt", &body).await?;
        let text = Zeroizing::new(
            v["Plaintext"]
                .as_str()
                .ok_or("Decrypt: no Plaintext in the answer")?
                .to_owned(),
        );
        b64()
            .decode(text.as_bytes())
            .map(Zeroizing::new)
            .map_err(|e| e.to_string())
    }
}
