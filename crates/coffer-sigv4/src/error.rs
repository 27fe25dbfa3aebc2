//! The error type: AWS error codes and AWS-like messages, never secret material.

/// Longest piece of client input echoed back in an error message.
const ECHO_MAX: usize = 64;

/// Why a request's SigV4 authentication was refused.
///
/// [`SigV4Error::aws_code`] gives the AWS error code; `Display` gives an
/// AWS-like message that never contains secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor presigned query parameters.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,
    /// Authentication information is present but malformed or incomplete.
    #[error("{0}")]
    Incomplete(String),
    /// The algorithm is not `AWS4-HMAC-SHA256`.
    #[error("Unsupported AWS 'algorithm': '{0}'.")]
    UnsupportedAlgorithm(String),
    /// The signature does not match the one computed by the server.
    #[error(
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. \
         Consult the service documentation for details."
    )]
    SignatureMismatch {
        /// Whether the request used the presigned (query-string) form.
        presigned: bool,
    },
    /// The request time is too far in the past (or past its presigned expiry).
    #[error("{0}")]
    Expired(String),
    /// The request time is too far in the future.
    #[error("{0}")]
    NotYetCurrent(String),
    /// The credential scope names another service.
    #[error("Credential should be scoped to correct service: '{expected}'.")]
    WrongService {
        /// The service this server expects.
        expected: String,
    },
    /// The credential scope date is not the date of `X-Amz-Date`.
    #[error(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
         '{scope_date}' != '{amz_day}', from '{amz_date}'."
    )]
    ScopeDateMismatch {
        /// The date in the credential scope.
        scope_date: String,
        /// The `YYYYMMDD` part of `X-Amz-Date`.
        amz_day: String,
        /// The full `X-Amz-Date`.
        amz_date: String,
    },
    /// The credential scope does not end in `aws4_request`.
    #[error("Credential should be scoped with a valid terminator: 'aws4_request', not '{0}'.")]
    BadTerminator(String),
    /// The signed-header list breaks a rule (order, case, `host`, unsigned `x-amz-*`...).
    #[error("{0}")]
    SignedHeaders(String),
    /// `x-amz-content-sha256` is not the hex SHA-256 of the body.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadHashMismatch,
    /// Client-side signing was given unusable input.
    #[error("cannot sign request: {0}")]
    Sign(String),
}

impl SigV4Error {
    /// The AWS error code, e.g. `InvalidSignatureException`.
    pub fn aws_code(&self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::Incomplete(_) | Self::UnsupportedAlgorithm(_) | Self::Sign(_) => {
                "IncompleteSignatureException"
            }
            Self::SignatureMismatch { presigned: true } => "SignatureDoesNotMatch",
            Self::SignatureMismatch { presigned: false }
            | Self::Expired(_)
            | Self::NotYetCurrent(_)
            | Self::WrongService { .. }
            | Self::ScopeDateMismatch { .. }
            | Self::BadTerminator(_)
            | Self::SignedHeaders(_)
            | Self::PayloadHashMismatch => "InvalidSignatureException",
        }
    }

    /// True for errors about the credential scope (service, date, terminator).
    pub fn is_scope_error(&self) -> bool {
        matches!(
            self,
            Self::WrongService { .. } | Self::ScopeDateMismatch { .. } | Self::BadTerminator(_)
        )
    }

    /// True for errors about the request time (expired or not yet current).
    pub fn is_time_error(&self) -> bool {
        matches!(self, Self::Expired(_) | Self::NotYetCurrent(_))
    }

    pub(crate) fn incomplete(msg: impl Into<String>) -> Self {
        Self::Incomplete(msg.into())
    }
}

/// Client input made safe to echo: at most [`ECHO_MAX`] chars, control chars replaced.
pub(crate) fn echo(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(ECHO_MAX)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().nth(ECHO_MAX).is_some() {
        out.push_str("...");
    }
    out
}
