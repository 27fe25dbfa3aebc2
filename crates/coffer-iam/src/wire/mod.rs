//! The AWS Query protocol as IAM and STS speak it: form-encoded requests
//! ([`QueryRequest`]) and XML responses ([`XmlWriter`], [`error_xml`]).
//!
//! Output follows what botocore's `QueryParser` expects: the result is looked up by the
//! `{Action}Result` wrapper, lists are `<Name><member>…</member></Name>`, booleans are
//! `true`/`false`, timestamps ISO 8601, policy documents URL-encoded (botocore's
//! `json_decode_policies` handler un-quotes them), errors are
//! `ErrorResponse/Error/{Type,Code,Message}` plus `RequestId`.

mod query;
mod xml;

pub use query::{MAX_PARAMS, QueryRequest, QueryStruct, WireError};
pub use xml::{XmlWriter, error_xml, format_timestamp, format_timestamp_millis, url_encode};

/// Which Query service a response belongs to (selects the XML namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// IAM, API version 2010-05-08.
    Iam,
    /// STS, API version 2011-06-15.
    Sts,
}

impl Service {
    /// The `xmlns` of responses.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
            Self::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
        }
    }

    /// The API version clients send as `Version=`.
    pub fn api_version(self) -> &'static str {
        match self {
            Self::Iam => "2010-05-08",
            Self::Sts => "2011-06-15",
        }
    }
}
