//! Which proxy, if any, carries a request, decided as the builder's docs' table says from the
//! client's [`Environment`]; ureq never reads the process environment for this crate.

use std::net::IpAddr;

use crate::endpoint::Endpoint;
use crate::env::{Environment, Var};
use crate::error::Error;
use crate::redact;

/// The first that is set wins for an `https://` target; `HTTP_` likewise for `http://`.
const HTTPS_VARIABLES: [Var; 4] =
    [Var::HttpsProxy, Var::HttpsProxyLower, Var::AllProxy, Var::AllProxyLower];
const HTTP_VARIABLES: [Var; 4] =
    [Var::HttpProxy, Var::HttpProxyLower, Var::AllProxy, Var::AllProxyLower];
const NO_PROXY_VARIABLES: [Var; 2] = [Var::NoProxy, Var::NoProxyLower];

/// What the builder was told about proxies; `Debug` shows a URL without its user information.
#[derive(Clone, Debug)]
pub(crate) enum ProxySetting {
    FromEnvironment,
    Direct,
    Url(redact::Url),
}

/// A proxy, with how it is named in errors and `-v` lines: `127.0.0.1:3128 (from ALL_PROXY)`.
#[derive(Clone)]
pub(super) struct Chosen {
    pub(super) proxy: ureq::Proxy,
    pub(super) shown: String,
    /// The password as written and as decoded: a server may echo either.
    pub(super) passwords: Vec<String>,
}

/// The proxy decision for a client.
#[derive(Clone, Default)]
pub(super) struct ProxyRoute {
    pub(super) https: Option<Chosen>,
    pub(super) http: Option<Chosen>,
    /// `NO_PROXY` entries; empty for an explicit proxy.
    no_proxy: Vec<NoProxy>,
    /// Loopback targets bypass a proxy from the environment (not an explicit one).
    bypass_loopback: bool,
}

impl ProxyRoute {
    /// Resolves the builder's setting for requests to `targets`; `InvalidInput` for a proxy URL
    /// that cannot work.
    pub(super) fn new(
        setting: &ProxySetting,
        env: &Environment,
        targets: &[&Endpoint],
    ) -> Result<ProxyRoute, Error> {
        let mut route = ProxyRoute::default();
        match setting {
            ProxySetting::Direct => {}
            ProxySetting::Url(url) => {
                let chosen = choose(&url.0, None)?;
                route.https = Some(chosen.clone());
                route.http = Some(chosen);
            }
            ProxySetting::FromEnvironment => {
                // `HTTP_PROXY` is never read for https, nor `HTTPS_PROXY` for http: a variable
                // that applies to no target (loopback ones go direct) is not read, nor refused.
                let uses = |plain: bool| {
                    targets
                        .iter()
                        .any(|target| target.is_plain_http() == plain && !target.is_loopback)
                };
                if uses(false) {
                    route.https = from_variables(&HTTPS_VARIABLES, env)?;
                }
                if uses(true) {
                    route.http = from_variables(&HTTP_VARIABLES, env)?;
                }
                let no_proxy = NO_PROXY_VARIABLES.iter().find_map(|var| env.get(*var));
                route.no_proxy = no_proxy.map_or(Vec::new(), |list| {
                    list.split(',').filter_map(NoProxy::parse).collect()
                });
                route.bypass_loopback = true;
            }
        }
        Ok(route)
    }

    /// The proxy for a request to `target`, or `None` to connect directly.
    pub(super) fn chosen(&self, target: &Endpoint) -> Option<&Chosen> {
        if self.bypass_loopback && target.is_loopback {
            return None;
        }
        let host = target.host.to_ascii_lowercase();
        if self.no_proxy.iter().any(|e| e.matches(&host, target.port)) {
            return None;
        }
        match target.is_plain_http() {
            true => self.http.as_ref(),
            false => self.https.as_ref(),
        }
    }
}

/// The first of `variables` that is set, as a proxy.
fn from_variables(variables: &[Var], env: &Environment) -> Result<Option<Chosen>, Error> {
    let set = variables.iter().find_map(|var| env.get(*var).map(|url| (url, var.name())));
    set.map(|(url, name)| choose(&url, Some(name))).transpose()
}

/// Checks a proxy URL and parses it. `from` names the variable it came from.
fn choose(url: &str, from: Option<&str>) -> Result<Chosen, Error> {
    let url = url.trim();
    let source =
        from.map_or(" given to ClientBuilder::proxy".to_string(), |name| format!(" in {name}"));
    let shown = redact::userinfo(url);
    let refused =
        |why: &str| Error::invalid_input(format!("the proxy URL{source} {shown:?} {why}"));
    if has_path_query_or_fragment(url) {
        return Err(refused(
            "has a path, query or fragment (expected scheme://[user:password@]host:port; \
             percent-encode /, ?, # and @ in a user name or password)",
        ));
    }
    if url.to_ascii_lowercase().starts_with("https://") {
        return Err(refused(
            "asks for TLS to the proxy, which is not supported (a plain HTTP proxy would leave \
             the handshake hanging); use http://: requests to DBSS travel inside a CONNECT \
             tunnel, encrypted end to end",
        ));
    }
    let proxy =
        ureq::Proxy::new(url).map_err(|_| refused("is not valid (expected scheme://host:port)"))?;
    let from = from.map_or(String::new(), |name| format!(" (from {name})"));
    let shown = format!("{}:{}{from}", proxy.host(), proxy.port());
    let written = url
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, password)| password.to_string());
    let passwords = written.into_iter().chain(proxy.password().map(str::to_string)).collect();
    Ok(Chosen { proxy, shown, passwords })
}

/// Whether a proxy URL goes on after its authority (a lone trailing `/` is fine). A `/`, `?` or
/// `#` in an unencoded password lands here too: ureq would read the text before it as the host.
fn has_path_query_or_fragment(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find(['/', '?', '#']).is_some_and(|at| &rest[at..] != "/")
}

/// One `NO_PROXY` entry, as requests and curl read them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum NoProxy {
    /// `*`: every host.
    All,
    /// `example.com`, `.example.com` or `*.example.com`: the domain and its subdomains (an IP
    /// address only itself), on `:port` only if given.
    Host { name: String, port: Option<u16> },
    /// `10.0.0.0/8`, `fd00::/8`: the addresses in the range.
    Range { network: IpAddr, prefix: u8 },
}

impl NoProxy {
    fn parse(entry: &str) -> Option<NoProxy> {
        let entry = entry.trim().to_ascii_lowercase();
        if entry.is_empty() {
            return None;
        }
        if entry == "*" {
            return Some(NoProxy::All);
        }
        if let Some((network, prefix)) = entry.split_once('/') {
            let network: IpAddr = network.parse().ok()?;
            let prefix: u8 = prefix.parse().ok()?;
            let bits = if network.is_ipv4() { 32 } else { 128 };
            return (prefix <= bits).then_some(NoProxy::Range { network, prefix });
        }
        let (name, port) = split_port(&entry);
        let name = name.trim_start_matches("*.").trim_start_matches('.');
        let name = name.trim_start_matches('[').trim_end_matches(']').to_string();
        Some(NoProxy::Host { name, port })
    }

    /// Whether a request to `host` (lower case, no brackets) on `port` goes direct.
    fn matches(&self, host: &str, port: u16) -> bool {
        match self {
            NoProxy::All => true,
            NoProxy::Host { name, port: wanted } => {
                let domain = host == name
                    || (host.parse::<IpAddr>().is_err() && host.ends_with(&format!(".{name}")));
                domain && wanted.is_none_or(|wanted| wanted == port)
            }
            NoProxy::Range { network, prefix } => {
                host.parse::<IpAddr>().is_ok_and(|ip| in_range(ip, *network, *prefix))
            }
        }
    }
}

/// `host:port` → (`host`, port); a bare IPv6 address (several colons) has no port.
fn split_port(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[')
        && let Some((host, after)) = rest.split_once(']')
    {
        return (host, after.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    if let Some((host, port)) = entry.rsplit_once(':')
        && !host.contains(':')
        && let Ok(port) = port.parse()
    {
        return (host, Some(port));
    }
    (entry, None)
}

fn in_range(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    let (ip, network, bits) = match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            (u128::from(ip.to_bits()), u128::from(net.to_bits()), 32)
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => (ip.to_bits(), net.to_bits(), 128),
        _ => return false,
    };
    let host_bits = bits - u32::from(prefix);
    host_bits >= bits || (ip >> host_bits) == (network >> host_bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_reads_as_requests_and_curl_read_it() {
        for (entry, host, port, expected) in [
            ("*", "anything", 443, true),
            ("internal", "dbss.internal", 443, true),
            ("internal", "internal", 443, true),
            (".internal", "dbss.internal", 443, true),
            (".internal", "internal", 443, true),
            ("*.internal", "dbss.internal", 443, true),
            ("internal", "notinternal", 443, false),
            ("iam.example.com", "iam.example.com", 443, true),
            ("iam.example.com", "dbss.example.com", 443, false),
            ("example.com:443", "dbss.example.com", 443, true),
            ("example.com:8443", "dbss.example.com", 443, false),
            ("10.0.0.0/8", "10.1.2.3", 443, true),
            ("10.0.0.0/8", "11.1.2.3", 443, false),
            ("10.1.2.3", "10.1.2.3", 443, true),
            ("1.2.3", "10.1.2.3", 443, false),
            ("fd00::/8", "fd12::1", 443, true),
            ("[::1]:443", "::1", 443, true),
            ("0.0.0.0/0", "192.168.1.1", 443, true),
        ] {
            let parsed = NoProxy::parse(entry).unwrap();
            assert_eq!(parsed.matches(host, port), expected, "{entry} {host}:{port}");
        }
        assert_eq!(NoProxy::parse(" "), None);
        assert_eq!(NoProxy::parse("10.0.0.0/99"), None);
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
