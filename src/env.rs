//! The environment variables the library reads, declared once in [`Var`] and read only through
//! [`Environment`]: the process's, or a fixed set given to the builder. Never writes one.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::error::Error;

/// Declares every variable once: its name in the code and in the environment, and whether its
/// value can carry a secret.
macro_rules! variables {
    ($($variant:ident => $name:literal $(, $secret:ident)?;)*) => {
        /// A variable the library reads.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Var {
            $($variant),*
        }

        impl Var {
            /// Every variable, once.
            pub(crate) const ALL: &'static [Var] = &[$(Var::$variant),*];

            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Var::$variant => $name),*
                }
            }

            /// Whether the value can carry a secret, and so is never listed for cargo.
            pub(crate) fn is_secret(self) -> bool {
                match self {
                    $(Var::$variant => variables!(@secret $($secret)?)),*
                }
            }
        }
    };
    (@secret secret) => { true };
    (@secret) => { false };
}

variables! {
    AccessKey => "HUAWEICLOUD_SDK_AK";
    SecretKey => "HUAWEICLOUD_SDK_SK", secret;
    SecurityToken => "HUAWEICLOUD_SDK_SECURITY_TOKEN", secret;
    AuthToken => "HUAWEICLOUD_SDK_AUTH_TOKEN", secret;
    ProjectId => "HUAWEICLOUD_SDK_PROJECT_ID";
    Region => "HUAWEICLOUD_SDK_REGION";
    IamEndpoint => "HUAWEICLOUD_SDK_IAM_ENDPOINT";
    CredentialsFile => "HUAWEICLOUD_SDK_CREDENTIALS_FILE";
    Home => "HOME";
    UserProfile => "USERPROFILE";
    // A proxy URL carries the password of an authenticated proxy.
    AllProxy => "ALL_PROXY", secret;
    AllProxyLower => "all_proxy", secret;
    HttpsProxy => "HTTPS_PROXY", secret;
    HttpsProxyLower => "https_proxy", secret;
    HttpProxy => "HTTP_PROXY", secret;
    HttpProxyLower => "http_proxy", secret;
    NoProxy => "NO_PROXY";
    NoProxyLower => "no_proxy";
    SslCertFile => "SSL_CERT_FILE";
    EcsMetadata => "DBSS_JOBS_ECS_METADATA";
    EcsMetadataEndpoint => "DBSS_JOBS_ECS_METADATA_ENDPOINT";
    Log => "DBSS_JOBS_LOG";
    Snapshot => "DBSS_JOBS_SNAPSHOT";
    DocsRs => "DOCS_RS";
}

/// `DBSS_JOBS_ECS_METADATA` in `env`: `on`/`true`/`1` or `off`/`false`/`0` (any case); `None`
/// when unset.
pub(crate) fn ecs_metadata_switch(env: &Environment) -> Result<Option<bool>, Error> {
    let Some(value) = env.get(Var::EcsMetadata) else {
        return Ok(None);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "off" | "false" | "0" => Ok(Some(false)),
        "on" | "true" | "1" => Ok(Some(true)),
        _ => Err(not_one_of(Var::EcsMetadata, "on or off", &value)),
    }
}

/// `DBSS_JOBS_LOG` in the process environment: 0 (or unset), 1 (`-v` lines) or 2 (`-vv`).
pub(crate) fn log_level() -> Result<u8, Error> {
    match Environment::Process.get(Var::Log).as_deref().map(str::trim) {
        None | Some("0") => Ok(0),
        Some("1") => Ok(1),
        Some("2") => Ok(2),
        Some(other) => Err(not_one_of(Var::Log, "0, 1 or 2", other)),
    }
}

/// A switch set to none of the values it takes.
fn not_one_of(var: Var, values: &str, value: &str) -> Error {
    let (name, value) = (var.name(), value.escape_debug());
    Error::invalid_input(format!("{name}: must be {values}, not \"{value}\""))
}

/// The region's DBSS endpoint override, as the official SDKs name it.
pub(crate) fn region_endpoint_variable(region: &str) -> String {
    format!("HUAWEICLOUD_SDK_REGION_DBSS_{}", region.to_ascii_uppercase().replace('-', "_"))
}

#[derive(Clone, Default)]
pub(crate) enum Environment {
    #[default]
    Process,
    Fixed(Arc<HashMap<String, String>>),
}

impl Environment {
    /// The variable's value, if set and not empty.
    pub(crate) fn get(&self, var: Var) -> Option<String> {
        self.get_named(var.name())
    }

    /// A variable whose name is made at run time (the region's endpoint override).
    pub(crate) fn get_named(&self, name: &str) -> Option<String> {
        self.raw(name).filter(|value| !value.trim().is_empty())
    }

    /// The value as set, blank or not.
    fn raw(&self, name: &str) -> Option<String> {
        match self {
            Environment::Process => std::env::var(name).ok(),
            Environment::Fixed(vars) => vars.get(name).cloned(),
        }
    }

    /// Refuses a variable whose value is not UTF-8 (it would read as unset), but `HOME` and
    /// `USERPROFILE`, which may be any path.
    pub(crate) fn validate_text(&self) -> Result<(), Error> {
        let Environment::Process = self else {
            return Ok(());
        };
        let paths = [Var::Home, Var::UserProfile];
        let bad = Var::ALL
            .iter()
            .filter(|var| !paths.contains(var))
            .find(|var| std::env::var_os(var.name()).is_some_and(|value| value.to_str().is_none()));
        bad.map_or(Ok(()), |var| {
            Err(Error::invalid_input(format!("{}: is not UTF-8 text", var.name())))
        })
    }

    /// Whether the variable is set to nothing but white space, to tell "empty" from "not set".
    pub(crate) fn is_blank(&self, var: Var) -> bool {
        self.raw(var.name()).is_some_and(|value| value.trim().is_empty())
    }
}

/// Names only: values may be secrets.
impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Environment::Process => f.write_str("Process"),
            Environment::Fixed(vars) => {
                let mut names: Vec<&String> = vars.keys().collect();
                names.sort();
                f.debug_tuple("Fixed").field(&names).finish()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_declared_once() {
        let mut names: Vec<&str> = Var::ALL.iter().map(|var| var.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Var::ALL.len());
    }

    #[test]
    fn the_sk_the_security_token_and_the_proxy_urls_are_secret() {
        let secret: Vec<&str> =
            Var::ALL.iter().filter(|var| var.is_secret()).map(|var| var.name()).collect();
        assert_eq!(
            secret,
            [
                "HUAWEICLOUD_SDK_SK",
                "HUAWEICLOUD_SDK_SECURITY_TOKEN",
                "HUAWEICLOUD_SDK_AUTH_TOKEN",
                "ALL_PROXY",
                "all_proxy",
                "HTTPS_PROXY",
                "https_proxy",
                "HTTP_PROXY",
                "http_proxy"
            ]
        );
    }
}
