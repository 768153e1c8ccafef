//! Why the gateway refused a request's credentials, as an [`Error`](super::Error) carries it.

use std::fmt;

/// Why the gateway refused a request's credentials (a 401). Non-exhaustive: it may give more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthFailure {
    /// The access key does not exist: it is not this account's, or was deleted.
    UnknownAccessKey,
    /// Too many failed signatures in a row: the access key is locked for about 5 minutes.
    AccessKeyLocked,
    /// The signature does not match the gateway's: see [`crate::Error::signature_mismatch`].
    SignatureMismatch,
    /// The signature's `X-Sdk-Date` is more than 15 minutes from the gateway's clock.
    SignatureExpired,
    /// The IAM token (`X-Auth-Token`) is not valid, or has expired.
    TokenRejected,
    /// The security token of temporary AK/SK credentials is not valid, or has expired.
    SecurityTokenRejected,
    /// The AK/SK are temporary credentials, sent without their security token.
    SecurityTokenMissing,
}

/// What to do about it, in one line.
impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthFailure::UnknownAccessKey => {
                "the access key does not exist: it is not this account's, or it was deleted, or \
                 it is a temporary access key sent without its security token"
            }
            AuthFailure::AccessKeyLocked => {
                "the access key is locked after failed signatures: no attempt will pass for about \
                 5 minutes, and each one counts"
            }
            AuthFailure::SignatureMismatch => {
                "the signature does not match the one the gateway computed"
            }
            AuthFailure::SignatureExpired => {
                "the signature expired: X-Sdk-Date is more than 15 minutes from the gateway's clock"
            }
            AuthFailure::TokenRejected => {
                "the IAM token is not valid or has expired: get a new one"
            }
            AuthFailure::SecurityTokenRejected => {
                "the security token is not valid or has expired: get new temporary credentials \
                 (AK, SK and token together)"
            }
            AuthFailure::SecurityTokenMissing => {
                "temporary credentials need their security token (HUAWEICLOUD_SDK_SECURITY_TOKEN)"
            }
        })
    }
}

/// A wrong signature explained: the canonical request that was signed beside the one the gateway
/// computed and echoed in its 401 (both redacted), and where they first differ.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureMismatch {
    /// The canonical request that was signed.
    pub ours: String,
    /// The canonical request the gateway computed (its first 8,192 characters).
    pub gateway: String,
    /// Where the two first differ, and the likely cause, in words; `None` when they are equal:
    /// the request arrived as signed, so the secret key does not belong to this access key.
    pub first_difference: Option<String>,
}

impl SignatureMismatch {
    /// The sentence an error ends with.
    pub(crate) fn explain(&self) -> String {
        match &self.first_difference {
            Some(difference) => {
                format!("the gateway computed another canonical request: {difference}")
            }
            None => "the request arrived as signed (the gateway's canonical request is ours), so \
                     the secret key does not belong to this access key"
                .to_string(),
        }
    }
}
