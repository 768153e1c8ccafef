//! Which proxy, if any, carries a request.
//!
//! The proxy variables are read through the client's [`Environment`] (so `.environment(vars)`
//! isolates them too) and ureq is told the answer for every request: ureq never reads the process
//! environment for this crate.

use std::fmt;

use crate::Error;
use crate::endpoint::Endpoint;
use crate::environment::Environment;
use crate::redact;
use crate::variables::Var;

/// Read in this order; the first that is set wins, as in ureq and curl.
const PROXY_VARIABLES: [Var; 6] = [
    Var::AllProxy,
    Var::AllProxyLower,
    Var::HttpsProxy,
    Var::HttpsProxyLower,
    Var::HttpProxy,
    Var::HttpProxyLower,
];
const NO_PROXY_VARIABLES: [Var; 2] = [Var::NoProxy, Var::NoProxyLower];

/// What the builder was told about proxies.
#[derive(Clone)]
pub(crate) enum ProxySetting {
    FromEnvironment,
    Direct,
    Url(String),
}

/// `Url` is shown without its user information.
impl fmt::Debug for ProxySetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxySetting::FromEnvironment => f.write_str("FromEnvironment"),
            ProxySetting::Direct => f.write_str("Direct"),
            ProxySetting::Url(url) => f.debug_tuple("Url").field(&redact::userinfo(url)).finish(),
        }
    }
}

/// The proxy decision for a client.
#[derive(Clone, Default)]
pub(crate) struct ProxyRoute {
    proxy: Option<ureq::Proxy>,
    /// `NO_PROXY` entries, lower-case; empty for an explicit proxy.
    no_proxy: Vec<String>,
    /// Loopback targets bypass a proxy from the environment (not an explicit one).
    bypass_loopback: bool,
    /// The proxy's password, scrubbed from error texts.
    password: Option<String>,
}

impl ProxyRoute {
    /// Resolves the builder's setting against the environment.
    ///
    /// # Errors
    /// `InvalidInput` when the URL (explicit or from a variable) is not a proxy URL ureq accepts.
    pub(crate) fn new(setting: &ProxySetting, env: &Environment) -> Result<ProxyRoute, Error> {
        let (url, from_env) = match setting {
            ProxySetting::Direct => return Ok(ProxyRoute::default()),
            ProxySetting::Url(url) => (url.clone(), None),
            ProxySetting::FromEnvironment => {
                let found = PROXY_VARIABLES
                    .iter()
                    .find_map(|var| env.get(*var).map(|url| (url, var.name())));
                match found {
                    Some((url, name)) => (url, Some(name)),
                    None => return Ok(ProxyRoute::default()),
                }
            }
        };
        let source = from_env.map_or(String::new(), |name| format!(" in {name}"));
        let shown = redact::userinfo(url.trim());
        if has_path_query_or_fragment(url.trim()) {
            return Err(Error::invalid_input(format!(
                "the proxy URL{source} {shown:?} has a path, query or fragment (expected \
                 scheme://[user:password@]host:port; percent-encode /, ?, # and @ in a user \
                 name or password)"
            )));
        }
        let proxy = ureq::Proxy::new(url.trim()).map_err(|_| {
            Error::invalid_input(format!(
                "the proxy URL{source} {shown:?} is not valid (expected scheme://host:port)"
            ))
        })?;
        let no_proxy = match from_env {
            Some(_) => no_proxy_entries(env),
            None => Vec::new(),
        };
        Ok(ProxyRoute {
            password: proxy.password().map(str::to_string),
            proxy: Some(proxy),
            no_proxy,
            bypass_loopback: from_env.is_some(),
        })
    }

    /// The proxy for a request to `target`, or `None` to connect directly.
    pub(crate) fn for_target(&self, target: &Endpoint) -> Option<ureq::Proxy> {
        if self.bypass_loopback && target.is_loopback {
            return None;
        }
        let host = target.host().to_ascii_lowercase();
        if self
            .no_proxy
            .iter()
            .any(|entry| no_proxy_matches(entry, &host))
        {
            return None;
        }
        self.proxy.clone()
    }

    /// The proxy password, for scrubbing error texts.
    pub(crate) fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }
}

fn no_proxy_entries(env: &Environment) -> Vec<String> {
    NO_PROXY_VARIABLES
        .iter()
        .find_map(|var| env.get(*var))
        .map(|list| {
            list.split(',')
                .map(|entry| entry.trim().to_ascii_lowercase())
                .filter(|entry| !entry.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// One `NO_PROXY` entry against a lower-case host: `*` matches all; a leading `.` or `*` is a
/// suffix (`.internal`, `*.internal`); a trailing `.` or `*` is a prefix (`10.0.`); else exact.
fn no_proxy_matches(entry: &str, host: &str) -> bool {
    if entry == "*" {
        return true;
    }
    if let Some(suffix) = entry.strip_prefix('*') {
        return host.ends_with(suffix);
    }
    if entry.starts_with('.') {
        return host.ends_with(entry);
    }
    if let Some(prefix) = entry.strip_suffix('*') {
        return host.starts_with(prefix);
    }
    if entry.ends_with('.') {
        return host.starts_with(entry);
    }
    host == entry
}

/// Whether a proxy URL goes on after its authority (a lone trailing `/` is fine). A `/`, `?` or
/// `#` in an unencoded password lands here too: ureq would read the text before it as the host.
fn has_path_query_or_fragment(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    match rest.find(['/', '?', '#']) {
        Some(at) => &rest[at..] != "/",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_syntax() {
        for (entry, host, expected) in [
            ("*", "anything", true),
            (".internal", "dbss.internal", true),
            (".internal", "internal", false),
            ("*.internal", "dbss.internal", true),
            ("10.0.", "10.0.3.4", true),
            ("10.0.*", "10.0.3.4", true),
            ("10.0.", "10.1.3.4", false),
            ("iam.example.com", "iam.example.com", true),
            ("iam.example.com", "dbss.example.com", false),
        ] {
            assert_eq!(no_proxy_matches(entry, host), expected, "{entry} {host}");
        }
    }

    #[test]
    fn urls_that_go_on_after_the_authority_are_refused() {
        for (url, refused) in [
            ("http://proxy:3128", false),
            ("http://proxy:3128/", false),
            ("http://alice:S3cret@proxy:3128", false),
            ("http://alice:pw/S3cret@proxy:3128", true),
            ("http://alice:pw?S3cret@proxy:3128", true),
            ("http://alice:pw#S3cret@proxy:3128", true),
            ("http://proxy:3128/path", true),
            ("http://proxy:3128?q", true),
        ] {
            assert_eq!(has_path_query_or_fragment(url), refused, "{url}");
        }
    }
}
