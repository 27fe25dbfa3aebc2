//! Owned requests for the integration tests.
#![allow(dead_code)]

use coffer_sigv4::{
    Parsed, Policy, Request, SigV4Error, SigningParams, derive_signing_key, parse, presign, sign,
    verify,
};

pub const AKID: &str = "AKIDCOFFER";
pub const SECRET: &str = "coffer/Secret+Key/0123456789abcdefEXAMPLE";
pub const REGION: &str = "us-east-1";
pub const SERVICE: &str = "secretsmanager";
pub const DATE: &str = "20251106T132608Z";

/// An owned wire request.
#[derive(Clone, Debug)]
pub struct Wire {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Wire {
    pub fn with<T>(&self, f: impl FnOnce(&Request) -> T) -> T {
        let headers: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        f(&Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            body: &self.body,
        })
    }

    pub fn add(&mut self, name: &str, value: &str) -> &mut Self {
        self.headers.push((name.into(), value.as_bytes().to_vec()));
        self
    }

    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.remove(name);
        self.add(name, value)
    }

    pub fn remove(&mut self, name: &str) -> &mut Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub fn get(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
    }
}

/// A typical unsigned Secrets Manager call.
pub fn sm_request() -> Wire {
    let mut w = Wire {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: Vec::new(),
        body: br#"{"SecretId":"prod/db"}"#.to_vec(),
    };
    w.add("Host", "secretsmanager.us-east-1.amazonaws.com")
        .add("Content-Type", "application/x-amz-json-1.1")
        .add("X-Amz-Target", "secretsmanager.GetSecretValue");
    w
}

pub fn params(token: Option<&str>) -> SigningParams<'_> {
    SigningParams {
        access_key_id: AKID,
        secret_access_key: SECRET,
        session_token: token,
        region: REGION,
        service: SERVICE,
        amz_date: DATE,
        ..Default::default()
    }
}

/// `w` signed in the header form.
pub fn signed(mut w: Wire, p: &SigningParams) -> Wire {
    let s = w.with(|r| sign(r, p)).unwrap();
    for (k, v) in s.headers() {
        w.add(k, v);
    }
    w
}

/// `w` presigned in the query form.
pub fn presigned(mut w: Wire, p: &SigningParams, expires: u64) -> Wire {
    w.query = w.with(|r| presign(r, p, expires)).unwrap();
    w
}

pub fn now() -> i64 {
    coffer_sigv4::parse_amz_date(DATE).unwrap()
}

pub fn policy() -> Policy {
    Policy::new(now(), SERVICE)
}

/// parse + verify with the test secret.
pub fn check_with(w: &Wire, policy: &Policy) -> Result<Parsed, SigV4Error> {
    w.with(|r| {
        let parsed = parse(r)?;
        let key = derive_signing_key(SECRET, &parsed.date, &parsed.region, &parsed.service);
        verify(r, &parsed, &key, policy)?;
        Ok(parsed)
    })
}

pub fn check(w: &Wire) -> Result<Parsed, SigV4Error> {
    check_with(w, &policy())
}
