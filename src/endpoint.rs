//! Where requests go: a region's DBSS endpoint, or an endpoint URL given by the user, parsed once
//! at build. HTTPS only, but to a loopback host: credentials never cross a network in clear.

use std::net::IpAddr;

use crate::env::{Environment, region_endpoint_variable};
use crate::error::Error;
use crate::source::Source;

/// The regions where Huawei Cloud documents the DBSS endpoint `https://dbss.{region}.myhuaweicloud.com`.
pub const REGIONS: &[&str] = &[
    "cn-south-2",
    "cn-southwest-2",
    "ap-southeast-1",
    "cn-east-3",
    "cn-south-1",
    "cn-east-2",
    "ap-southeast-3",
    "ap-southeast-2",
    "ru-northwest-2",
    "af-south-1",
    "sa-brazil-1",
    "la-north-2",
    "cn-north-1",
    "cn-north-4",
    "cn-north-2",
    "la-south-2",
    "cn-north-9",
    "cn-north-11",
    "me-east-1",
    "cn-south-4",
    "ap-southeast-4",
    "tr-west-1",
    "cn-east-5",
    "my-kualalumpur-1",
    "ru-moscow-1",
    "cn-north-12",
    "cn-east-4",
    "cn-southwest-3",
    "ap-southeast-5",
    "af-north-1",
];

/// A parsed endpoint: scheme and authority (`host` or `host:port`, exactly as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `https://authority` or `http://authority`, without a trailing slash.
    pub(crate) base: String,
    /// The authority as written, sent as `Host` and signed.
    pub(crate) authority: String,
    /// The host alone: no port, no brackets around an IPv6 address.
    pub(crate) host: String,
    /// The port written, else the scheme's.
    pub(crate) port: u16,
    /// A loopback host (`localhost`, `127.0.0.0/8`, `::1`).
    pub(crate) is_loopback: bool,
}

impl Endpoint {
    /// The region's endpoints, found as the builder's docs (*Endpoints*) say; a refusal names the
    /// variable, or (an unknown region) `region_from`.
    pub(crate) fn for_region(
        region: &str,
        region_from: &Source,
        env: &Environment,
    ) -> Result<(Vec<Endpoint>, Source), Error> {
        let variable = region_endpoint_variable(region);
        if let Some(list) = env.get_named(&variable) {
            let source = Source::Var(variable);
            let urls = list.split(',').map(str::trim).filter(|url| !url.is_empty());
            let endpoints: Vec<Endpoint> = urls
                .map(Endpoint::parse)
                .collect::<Result<_, _>>()
                .map_err(|error| error.named_by(&source))?;
            if endpoints.is_empty() {
                return Err(Error::invalid_input(format!("{source} names no endpoint")));
            }
            return Ok((endpoints, source));
        }
        if !REGIONS.contains(&region) {
            let mut known = REGIONS.to_vec();
            known.sort_unstable();
            // Region ids are lower case with `-`: `CN_NORTH_4` means `cn-north-4`.
            let near = region.trim().to_ascii_lowercase().replace('_', "-");
            let hint = match REGIONS.contains(&near.as_str()) {
                true => format!("; did you mean {near:?}"),
                false => String::new(),
            };
            let variable = crate::redact::shown(&variable);
            return Err(Error::invalid_input(format!(
                "unknown region {region:?} (and no {variable} override){hint}; known regions: {}",
                known.join(", ")
            ))
            .named_by(region_from));
        }
        let url = format!("https://dbss.{region}.myhuaweicloud.com");
        Ok((vec![Endpoint::parse(&url)?], Source::Fallback("the built-in table's".to_string())))
    }

    /// The metadata service's URL: plain http is expected there, so only the link-local metadata
    /// address and loopback (for tests) are accepted.
    pub(crate) fn parse_metadata(url: &str) -> Result<Endpoint, Error> {
        Endpoint::parse_with(url, |host| is_loopback(host) || host == "169.254.169.254")
    }

    /// Accepts `scheme://authority` with an optional trailing `/`; no user info, path, query or
    /// fragment.
    pub(crate) fn parse(url: &str) -> Result<Endpoint, Error> {
        Endpoint::parse_with(url, is_loopback)
    }

    /// As [`Endpoint::parse`], with plain http allowed to the hosts `plain_http_ok` accepts.
    fn parse_with(url: &str, plain_http_ok: impl Fn(&str) -> bool) -> Result<Endpoint, Error> {
        // A URL with user info may hold a password: it is shown without it.
        let shown = crate::redact::userinfo(url);
        let bad = |why: &str| Error::invalid_input(format!("endpoint {shown:?} {why}"));
        if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(bad("contains white space or a control character"));
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("is not a URL (expected https://host[:port])"))?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(bad("must not have a path, query or fragment"));
        }
        if authority.contains('@') {
            return Err(bad("must not contain user info"));
        }
        let (host, port) = host_of(authority).ok_or_else(|| {
            bad("has no valid host, or a port that is not 1 to 65535 in plain digits")
        })?;
        match scheme.as_str() {
            "https" => {}
            "http" if plain_http_ok(host) => {}
            "http" => return Err(bad("uses plain http to a host where only https is allowed")),
            _ => return Err(bad("must use https")),
        }
        Ok(Endpoint {
            port: port.unwrap_or(if scheme == "https" { 443 } else { 80 }),
            base: format!("{scheme}://{authority}"),
            authority: authority.to_string(),
            host: host.to_string(),
            is_loopback: is_loopback(host),
        })
    }

    /// Plain `http://` (loopback stand-ins and the metadata service) rather than `https://`.
    pub(crate) fn is_plain_http(&self) -> bool {
        self.base.starts_with("http://")
    }

    /// `host:port` (`[v6]:port`), to say where a request went.
    pub(crate) fn host_and_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The host and port of `host`, `host:port`, `[v6]` or `[v6]:port`; `None` if malformed.
fn host_of(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        v6.parse::<std::net::Ipv6Addr>().ok()?;
        let port = if after.is_empty() { None } else { Some(after.strip_prefix(':')?) };
        (v6, port)
    } else {
        authority.split_once(':').map_or((authority, None), |(host, port)| (host, Some(port)))
    };
    // Digits as the Host header will carry them, signed: no sign, no leading zero, not 0.
    let port = match port {
        Some(text) if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) => {
            return None;
        }
        Some(text) => Some(text.parse::<u16>().ok()?),
        None => None,
    };
    let valid_name =
        host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':'));
    (!host.is_empty() && valid_name).then_some((host, port))
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_ok(url: &str, base: &str, authority: &str) {
        let endpoint = Endpoint::parse(url).unwrap();
        assert_eq!(endpoint.base, base);
        assert_eq!(endpoint.authority, authority);
    }

    #[test]
    fn accepted_endpoints_keep_the_authority_as_written() {
        check_ok(
            "https://dbss.cn-north-4.myhuaweicloud.com/",
            "https://dbss.cn-north-4.myhuaweicloud.com",
            "dbss.cn-north-4.myhuaweicloud.com",
        );
        check_ok(
            "https://dbss.example.com:443",
            "https://dbss.example.com:443",
            "dbss.example.com:443",
        );
        check_ok("http://127.0.0.1:8080", "http://127.0.0.1:8080", "127.0.0.1:8080");
        check_ok("http://[::1]:8080", "http://[::1]:8080", "[::1]:8080");
        check_ok("HTTP://localhost:1", "http://localhost:1", "localhost:1");
    }

    #[test]
    fn rejected_endpoints() {
        for url in [
            "",
            "dbss.example.com",
            "ftp://dbss.example.com",
            "http://dbss.example.com",
            "http://10.0.0.1:80",
            "https://",
            "https://a b",
            "https://host:99999",
            "https://host:+443",
            "https://host:0443",
            "https://host:0",
            "https://host:",
            "https://[::1]:+1",
            "https://host/path",
            "https://host?q",
            "https://user@host",
            "https://[::1",
            "https://host\n",
        ] {
            let error = Endpoint::parse(url).unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::InvalidInput, "{url:?}");
        }
    }

    #[test]
    fn regions() {
        let empty = Environment::Fixed(Default::default());
        assert_eq!(
            Endpoint::for_region("cn-north-4", &Source::Method("r"), &empty).unwrap().0[0].base,
            "https://dbss.cn-north-4.myhuaweicloud.com"
        );
        let error = Endpoint::for_region("mars-1", &Source::Method("r"), &empty).unwrap_err();
        assert!(error.to_string().contains("cn-north-4"), "{error}");
        let error = Endpoint::for_region("CN_NORTH_4", &Source::Method("r"), &empty).unwrap_err();
        assert!(error.to_string().contains(r#"did you mean "cn-north-4""#), "{error}");
        let error = Endpoint::for_region("r\u{202e}", &Source::Method("r"), &empty).unwrap_err();
        assert!(!error.to_string().contains('\u{202e}'), "{error}");
        assert_eq!(REGIONS.len(), 30);
    }
}
