//! Proxies: which one carries a request (explicit, from the environment per target scheme, NO_PROXY), SOCKS5, and how a proxy is named in errors and never shows its password.

use std::sync::{Arc, Mutex};

use dbss_jobs::{Credentials, ErrorKind, RetryPolicy};

use crate::support::{Server, Socks5};
use crate::support::{check_exit, get_jobs};

#[test]
fn an_explicit_socks5_proxy_carries_the_request() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let socks = Socks5::start();
    for scheme in ["socks5", "socks5h"] {
        let client = crate::support::client(server.url()).proxy(socks.url(scheme)).build().unwrap();
        client.get_jobs_in("p", "r").unwrap();
    }
    let expected = server.url().replace("http://", "");
    assert_eq!(socks.targets(), [expected.clone(), expected]);
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn a_socks5_proxy_from_the_environment_is_used_not_bypassed() {
    let socks = Socks5::start();
    let host = crate::support::unresolvable_host();
    for variable in ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"] {
        let client = crate::support::client(format!("https://{host}"))
            .environment([(variable, socks.url("socks5h").as_str())])
            .retry(dbss_jobs::RetryPolicy::none())
            .build()
            .unwrap();
        // The stand-in closes the tunnel: what matters is that the proxy was asked for the host.
        let error = client.get_jobs_in("p", "r").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Transport, "{error}");
        assert!(!error.is_dns(), "{variable}: reached directly: {error}");
    }
    assert_eq!(socks.targets(), vec![format!("{host}:443"); 4]);
}

#[test]
fn a_proxy_password_never_shows() {
    let builder = crate::support::client("http://127.0.0.1:9")
        .proxy(format!("http://alice:S3cret@127.0.0.1:{}", crate::support::closed_port()))
        .retry(dbss_jobs::RetryPolicy::none());
    let debug = format!("{builder:?}");
    assert!(!debug.contains("S3cret"), "{debug}");
    assert!(debug.contains("http://** redacted **@127.0.0.1"), "{debug}");
    let client = builder.build().unwrap();
    assert!(!format!("{client:?}").contains("S3cret"));
    let error = client.get_jobs_in("p", "r").unwrap_err();
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(!text.contains("S3cret"), "{text}");
    }
}

#[test]
fn proxies_from_the_environment_skip_loopback_targets_and_no_proxy_hosts() {
    // IAM on loopback, DBSS elsewhere, a proxy in the (client's) environment that refuses all.
    let iam = crate::iam::iam_stand_in("project-direct", usize::MAX);
    let proxy = format!("http://127.0.0.1:{}", crate::support::closed_port());
    let host = crate::support::unresolvable_host();
    let client = crate::support::client(format!("https://{host}"))
        .region("cn-north-4")
        .iam_endpoint(iam.url())
        .auth(Credentials::new("REVIEW-LOOPBACK-IAM-AK", "sk").unwrap())
        .environment([("HTTPS_PROXY", proxy.as_str()), ("NO_PROXY", ".example")])
        .retry(dbss_jobs::RetryPolicy::none())
        .build()
        .unwrap();
    assert_eq!(client.resolve_project_id().unwrap(), "project-direct");
    // `.example` is in NO_PROXY: the DBSS host is resolved directly, and the resolver refuses it.
    let error = client.get_jobs_in("p", "r").unwrap_err();
    assert!(error.is_dns(), "{error}");
    assert_eq!(error.attempts(), 1);
}

#[test]
fn an_explicit_proxy_carries_loopback_targets_too() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let socks = Socks5::start();
    let client = crate::support::client(server.url())
        .proxy(socks.url("socks5"))
        .environment([("NO_PROXY", "*")])
        .build()
        .unwrap();
    client.get_jobs_in("p", "r").unwrap();
    assert_eq!(socks.targets().len(), 1);
}

#[test]
fn a_proxy_url_that_goes_on_after_its_host_is_refused_without_its_password() {
    let url = "http://alice:pw/S3cret-proxy@127.0.0.1:3128";
    let explicit = crate::support::client("http://127.0.0.1:9").proxy(url);
    assert!(!format!("{explicit:?}").contains("S3cret"), "{explicit:?}");
    let from_env =
        crate::support::client("https://dbss.example.com").environment([("HTTPS_PROXY", url)]);
    for builder in [explicit, from_env] {
        let error = builder.build().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
        let message = error.to_string();
        assert!(message.contains("percent-encode"), "{message}");
        for text in [message, format!("{error:?}")] {
            assert!(!text.contains("S3cret") && !text.contains("alice:pw"), "{text}");
        }
    }
}

// ---- Errors that say where ----

/// A dead proxy in the environment, for a target that is not loopback: the client connects to the
/// proxy only (ureq does not resolve the target when a proxy carries it), which refuses.
fn through_dead_proxy(vars: &[(&str, &str)], endpoint: &str) -> dbss_jobs::Error {
    let mut all = vec![("HOME", "/nonexistent")];
    all.extend_from_slice(vars);
    crate::support::client(endpoint)
        .project_id("p")
        .environment(all)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
        .get_jobs("r")
        .unwrap_err()
}

#[test]
fn transport_errors_name_the_target_and_the_proxy_with_its_variable() {
    let port = crate::support::closed_port();
    let dead = format!("http://127.0.0.1:{port}");
    let error =
        through_dead_proxy(&[("ALL_PROXY", &dead)], "https://dbss.cn-north-4.myhuaweicloud.com");
    assert!(error.is_connect(), "{error}");
    assert!(
        error.to_string().contains(&format!(
            "connecting to proxy 127.0.0.1:{port} (from ALL_PROXY) for dbss.cn-north-4.myhuaweicloud.com:443: "
        )),
        "{error}"
    );
    let direct =
        crate::support::client(&dead).project_id("p").retry(RetryPolicy::none()).build().unwrap();
    let error = direct.get_jobs("r").unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with(&format!("transport error: connecting to 127.0.0.1:{port}: ")),
        "{error}"
    );
    let iam = crate::support::client("http://127.0.0.1:9")
        .region("cn-north-4")
        .iam_endpoint(&dead)
        .environment([("HOME", "/nonexistent")])
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let error = iam.get_jobs("r").unwrap_err();
    assert!(
        error.to_string().starts_with(&format!(
            "IAM project lookup at {dead}: transport error: connecting to 127.0.0.1:{port}: "
        )),
        "{error}"
    );
    // The CLI's -v line names the proxy too.
    let output = get_jobs()
        .args(["-v", "--region", "cn-north-4", "--project-id", "p", "r"])
        .env("HUAWEICLOUD_SDK_AK", "AK")
        .env("HUAWEICLOUD_SDK_SK", "SK")
        .env("HTTPS_PROXY", &dead)
        .output()
        .unwrap();
    check_exit(&output, 6);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr.lines().next().unwrap_or_default();
    assert!(
        line.starts_with("GET https://dbss.cn-north-4.myhuaweicloud.com/")
            && line.contains(&format!("connecting to proxy 127.0.0.1:{port} (from HTTPS_PROXY)")),
        "{stderr}"
    );
}

#[test]
fn an_answer_through_a_proxy_says_which_proxy() {
    let server = Server::json(200, r#"{"jobs":[]}"#);
    let (proxy, _) = crate::support::connect_proxy();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let client = crate::support::client(server.url())
        .project_id("p")
        .proxy(proxy.url())
        .on_response(move |response| log.lock().unwrap().push(response.proxy.map(str::to_string)))
        .build()
        .unwrap();
    client.get_jobs("r").unwrap();
    let port = proxy.url().rsplit(':').next().unwrap().to_string();
    assert_eq!(*seen.lock().unwrap(), [Some(format!("127.0.0.1:{port}"))]);
}

#[test]
fn an_https_proxy_url_is_refused_at_build() {
    let error = crate::support::client("http://127.0.0.1:9")
        .proxy("https://127.0.0.1:3128")
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("use http://"), "{error}");
}

// ---- Settings that mean what they say ----

#[test]
fn proxy_variables_are_read_per_target_as_requests_reads_them() {
    let port = crate::support::closed_port();
    let dead = format!("http://127.0.0.1:{port}");
    // A target no resolver is asked about: going direct is a DNS failure, a proxy refuses.
    let target = format!("https://{}", crate::support::unresolvable_host());
    let via = |vars: &[(&str, &str)]| {
        let error = through_dead_proxy(vars, &target);
        match error.is_dns() {
            true => "direct".to_string(),
            false => {
                let text = error.to_string();
                let from = text.split("(from ").nth(1).and_then(|rest| rest.split(')').next());
                from.unwrap_or("?").to_string()
            }
        }
    };
    assert_eq!(via(&[("HTTP_PROXY", &dead)]), "direct", "HTTP_PROXY is for http targets");
    assert_eq!(via(&[("http_proxy", &dead)]), "direct");
    assert_eq!(via(&[("HTTPS_PROXY", &dead), ("ALL_PROXY", "http://127.0.0.1:1")]), "HTTPS_PROXY");
    assert_eq!(via(&[("https_proxy", &dead)]), "https_proxy");
    assert_eq!(via(&[("ALL_PROXY", &dead), ("HTTP_PROXY", "http://127.0.0.1:1")]), "ALL_PROXY");
    assert_eq!(via(&[("all_proxy", &dead)]), "all_proxy");
    for (no_proxy, expected) in [
        ("example", "direct"),
        (".example", "direct"),
        ("*.example", "direct"),
        ("example:443", "direct"),
        ("example:8443", "HTTPS_PROXY"),
        ("other.example", "HTTPS_PROXY"),
        ("ample", "HTTPS_PROXY"),
        ("*", "direct"),
    ] {
        let vars = [("HTTPS_PROXY", dead.as_str()), ("NO_PROXY", no_proxy)];
        assert_eq!(via(&vars), expected, "NO_PROXY={no_proxy}");
    }
}

#[test]
fn a_proxy_variable_is_read_only_where_it_applies() {
    let bad = "http://u:p/w@127.0.0.1:1";
    // HTTP_PROXY never applies to https, and no proxy variable to loopback targets (the only
    // ones plain http may reach): neither blocks such a client.
    for (endpoint, variable) in [
        ("https://dbss.example.com", "HTTP_PROXY"),
        ("http://127.0.0.1:9", "HTTP_PROXY"),
        ("https://127.0.0.1:9", "HTTPS_PROXY"),
    ] {
        let built = crate::support::client(endpoint).environment([(variable, bad)]).build();
        assert!(built.is_ok(), "{endpoint} {variable}: {:?}", built.err());
    }
    // HTTPS_PROXY does block a client with an https target off loopback, naming the variable
    // and not the password.
    let error = crate::support::client("https://dbss.example.com")
        .environment([("HTTPS_PROXY", bad)])
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("in HTTPS_PROXY"), "{error}");
    assert!(!error.to_string().contains("p/w"), "{error}");
}

#[test]
fn a_proxy_that_wants_credentials_says_so_once() {
    let proxy = Server::raw(|mut stream| {
        let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
        let _ = crate::support::read_request(&mut reader);
        let answer = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n";
        let _ = std::io::Write::write_all(&mut stream, answer.as_bytes());
    });
    let error = crate::support::client("https://dbss.example.com")
        .proxy(proxy.url())
        .project_id("p")
        .build()
        .unwrap()
        .get_jobs("r")
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("the proxy answered http 407"), "{text}");
    assert!(!text.contains("407/407"), "{text}");
}
