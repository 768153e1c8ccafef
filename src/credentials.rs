//! Credentials: AK/SK (and a security token) or an IAM token, the SK kept only as a keyed HMAC.
//! `Debug` redacts the secrets, nothing here implements `Display`, cache keys use a fingerprint.

use std::fmt;

use hmac::{Hmac, KeyInit};
use sha2::Sha256;

use crate::env::{Environment, Var};
use crate::error::Error;
use crate::redact::Redacted;
use crate::source::{Source, validate_secret};

/// A permanent or temporary access key pair (AK/SK), used to sign requests with `SDK-HMAC-SHA256`.
#[derive(Clone)]
pub struct Credentials {
    /// The variable they were read from, when [`Credentials::from_env`] read them.
    from: Option<&'static str>,
    access_key: String,
    /// HMAC-SHA256 keyed with the SK, made once: every signature starts from a copy of it.
    keyed_hmac: Hmac<Sha256>,
    security_token: Option<String>,
}

impl Credentials {
    /// Permanent credentials: white space around the AK is dropped, the SK used exactly as given.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when either part is empty or
    /// contains a control character, the AK a character outside printable ASCII, or the SK
    /// begins or ends with white space.
    pub fn new(
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Result<Self, Error> {
        let source = Source::Method("Credentials::new");
        Credentials::checked(&access_key.into(), &secret_key.into(), &source, &source)
    }

    /// Credentials from values whose sources are named when they are refused.
    pub(crate) fn checked(
        access_key: &str,
        secret_key: &str,
        ak_from: &Source,
        sk_from: &Source,
    ) -> Result<Self, Error> {
        let access_key = access_key.trim().to_string();
        validate_secret("access key (AK)", &access_key, true, ak_from)?;
        // The SK never travels, but it must be the one the user meant.
        validate_secret("secret key (SK)", secret_key, false, sk_from)?;
        // HMAC takes keys of any length; the error branch cannot happen.
        let keyed_hmac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret_key.as_bytes())
            .map_err(|_| Error::invalid_input("secret key (SK) cannot key HMAC-SHA256"))?;
        Ok(Credentials { from: None, access_key, keyed_hmac, security_token: None })
    }

    /// Adds the security token of temporary credentials; it is sent and signed as `X-Security-Token`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the token is empty, or
    /// has a control character, white space or any character outside printable ASCII.
    pub fn with_security_token(self, token: impl Into<String>) -> Result<Self, Error> {
        let source = Source::Method("Credentials::with_security_token");
        self.with_token_from(token.into(), &source)
    }

    /// Adds a security token whose source is named when it is refused.
    pub(crate) fn with_token_from(mut self, token: String, from: &Source) -> Result<Self, Error> {
        validate_secret("security token", &token, true, from)?;
        self.security_token = Some(token);
        Ok(self)
    }

    /// Reads `HUAWEICLOUD_SDK_AK`, `HUAWEICLOUD_SDK_SK` and (if set) `HUAWEICLOUD_SDK_SECURITY_TOKEN`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming a missing variable.
    pub fn from_env() -> Result<Self, Error> {
        let Some(credentials) = Credentials::from_environment(&Environment::Process)? else {
            let (ak, sk) = (Var::AccessKey.name(), Var::SecretKey.name());
            let error =
                Error::invalid_input(format!("environment variables {ak} and {sk} are not set"));
            return Err(error.no_credentials_found());
        };
        Ok(Credentials { from: Some(Var::AccessKey.name()), ..credentials })
    }

    /// AK and SK both set → credentials; neither → `None`; one without the other is an error.
    pub(crate) fn from_environment(env: &Environment) -> Result<Option<Self>, Error> {
        let (set, unset) = match (env.get(Var::AccessKey), env.get(Var::SecretKey)) {
            (Some(ak), Some(sk)) => {
                let (ak_from, sk_from) = (Source::var(Var::AccessKey), Source::var(Var::SecretKey));
                let credentials = Credentials::checked(&ak, &sk, &ak_from, &sk_from)?;
                let Some(token) = env.get(Var::SecurityToken) else {
                    return Ok(Some(credentials));
                };
                let from = Source::var(Var::SecurityToken);
                return credentials.with_token_from(token, &from).map(Some);
            }
            (None, None) => return Ok(None),
            (Some(_), None) => (Var::AccessKey, Var::SecretKey),
            (None, Some(_)) => (Var::SecretKey, Var::AccessKey),
        };
        let state = if env.is_blank(unset) { "empty" } else { "not set" };
        Err(Error::invalid_input(format!("{} is set but {} is {state}", set.name(), unset.name())))
    }

    /// The access key id (AK). It is not a secret: it travels in every `Authorization` header.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// A fresh HMAC-SHA256 keyed with the SK.
    pub(crate) fn keyed_hmac(&self) -> Hmac<Sha256> {
        self.keyed_hmac.clone()
    }

    pub(crate) fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .field("secret_key", &Redacted(()))
            .field("security_token", &self.security_token.as_ref().map(Redacted))
            .finish()
    }
}

/// How requests are authenticated. Non-exhaustive: other schemes may be added.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Auth {
    /// Sign every request with AK/SK (`SDK-HMAC-SHA256`).
    AkSk(Credentials),
    /// Send an IAM token as `X-Auth-Token`; nothing is signed.
    Token(IamToken),
}

impl Auth {
    /// The variable explicit credentials were read from (`from_env`), if they were.
    pub(crate) fn variable(&self) -> Option<&'static str> {
        match self {
            Auth::AkSk(credentials) => credentials.from,
            Auth::Token(token) => token.from,
        }
    }

    /// Who is asking, for caches, never a secret itself: the AK with an HMAC under the SK of a
    /// fixed text and the security token, or a SHA-256 of the IAM token.
    pub(crate) fn identity(&self) -> String {
        use hmac::Mac;
        use sha2::Digest;
        let (who, digest) = match self {
            Auth::AkSk(credentials) => {
                let mut mac = credentials.keyed_hmac();
                mac.update(b"dbss-jobs cache identity\n");
                mac.update(credentials.security_token().unwrap_or_default().as_bytes());
                (format!("ak:{}", credentials.access_key()), mac.finalize().into_bytes().to_vec())
            }
            Auth::Token(token) => ("token".to_string(), Sha256::digest(token.as_str()).to_vec()),
        };
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        format!("{who}:{hex}")
    }

    /// The secret that travels in headers (security or IAM token), if any, to scrub.
    pub(crate) fn secret_text(&self) -> &str {
        match self {
            Auth::AkSk(credentials) => credentials.security_token().unwrap_or_default(),
            Auth::Token(token) => token.as_str(),
        }
    }
}

impl From<Credentials> for Auth {
    fn from(credentials: Credentials) -> Self {
        Auth::AkSk(credentials)
    }
}

impl From<IamToken> for Auth {
    fn from(token: IamToken) -> Self {
        Auth::Token(token)
    }
}

/// An IAM token (IAM's `X-Subject-Token`), sent as `X-Auth-Token`; `Debug` shows it redacted.
#[derive(Clone, Debug)]
pub struct IamToken {
    token: Redacted<String>,
    /// The variable it was read from, when [`IamToken::from_env`] read it.
    from: Option<&'static str>,
}

impl IamToken {
    /// Wraps a token.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the token is empty, or
    /// has a control character, white space or any character outside printable ASCII.
    pub fn new(token: impl Into<String>) -> Result<Self, Error> {
        IamToken::checked(token.into(), &Source::Method("IamToken::new"))
    }

    /// `HUAWEICLOUD_SDK_AUTH_TOKEN`, if it is set (`dbss-jobs` reads an IAM token there).
    ///
    /// # Errors
    /// As [`IamToken::new`], naming the variable.
    pub fn from_env() -> Result<Option<Self>, Error> {
        let Some(token) = Environment::Process.get(Var::AuthToken) else {
            return Ok(None);
        };
        let token = IamToken::checked(token, &Source::var(Var::AuthToken))?;
        Ok(Some(IamToken { from: Some(Var::AuthToken.name()), ..token }))
    }

    /// A token whose source is named when it is refused.
    pub(crate) fn checked(token: String, from: &Source) -> Result<Self, Error> {
        validate_secret("IAM token", &token, true, from)?;
        Ok(IamToken { token: Redacted(token), from: None })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.token.0
    }
}

/// Rejects a value that is empty or cannot be a header value; names it, never quotes it.
pub(crate) fn validate_header_value(what: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::invalid_input(format!("{what} is empty")));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid_input(format!("{what} contains a control character")));
    }
    Ok(())
}
