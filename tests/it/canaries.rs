//! No secret on disk or on screen, swept: distinct canary values for every secret (the SK, the
//! security token, the IAM token, the metadata session token, the temporary SK and security token
//! the metadata service hands out, a proxy password) go down every path that can produce text, and
//! no canary, nor any 12-character slice of one, may appear in anything shown or written.
//!
//! The paths: every answer scenario of an echoing server (which sends every request header back in
//! its body and headers) and every fault of the fault server, for each credential source, the IAM
//! lookup, a proxy that echoes its credentials, both hooks, the CLI with `-v`/`-vv`, the build-script
//! recipe and every file it leads cargo to write, `Debug` and `Display` of the public types, and
//! the fake's record of requests. A new path is added here, not in a test of its own.

use std::io::{BufReader, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbss_jobs::{ClientBuilder, Credentials, IamToken, RetryPolicy, WaitOptions};

use crate::support::{After, Server, TempDir, read_request, respond, security_key_body};

const SK: &str = "SKcanary-7Qm2xV9pL4wR8tZ1";
const SECURITY_TOKEN: &str = "STcanary-3Hn6bJ0kD5sF9gY2";
const IAM_TOKEN: &str = "ITcanary-8Wc1eN4uA7oK3iM6";
const SESSION_TOKEN: &str = "MScanary-5Rd9hT2yB6vX0qL8";
const TEMPORARY_SK: &str = "TScanary-1Pf4jG7nC0zE3wU9";
const TEMPORARY_TOKEN: &str = "TTcanary-6Lk2sQ5aH8mV1dR4";
const PROXY_PASSWORD: &str = "PWcanary-9Xb3tY6gN2cJ5eK7";
const CANARIES: [&str; 7] =
    [SK, SECURITY_TOKEN, IAM_TOKEN, SESSION_TOKEN, TEMPORARY_SK, TEMPORARY_TOKEN, PROXY_PASSWORD];
const SLICE: usize = 12;

/// Every 12-character slice of every canary.
fn slices() -> Vec<&'static str> {
    CANARIES
        .iter()
        .flat_map(|canary| (0..=canary.len() - SLICE).map(move |at| &canary[at..at + SLICE]))
        .collect()
}

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    for slice in slices() {
        assert!(!text.contains(slice), "{what}: {slice:?} shows in {text}");
    }
}

/// Everything the paths of one test showed, checked at the end.
#[derive(Clone, Default)]
struct Shown(Arc<Mutex<Vec<(String, String)>>>);

impl Shown {
    fn add(&self, what: &str, text: impl Into<String>) {
        self.0.lock().unwrap().push((what.to_string(), text.into()));
    }

    /// An error as every reporter shows it: `Display`, both `Debug`s, the `source()` chain and
    /// the accessors.
    fn error(&self, what: &str, error: &dbss_jobs::Error) {
        let mut text = format!("{error}\n{error:?}\n{error:#?}\n");
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(&format!("{cause}\n{cause:?}\n"));
            source = cause.source();
        }
        for part in [
            error.error_code(),
            error.error_msg(),
            error.request_id(),
            error.encoded_authorization_message(),
            error.canonical_request(),
        ] {
            text.push_str(part.unwrap_or_default());
        }
        text.push_str(&format!("{:?}", error.signature_mismatch()));
        self.add(what, text);
    }

    /// Both hooks, recording everything they can read.
    fn hooks(&self, builder: ClientBuilder) -> ClientBuilder {
        let (requests, responses) = (self.clone(), self.clone());
        builder
            .on_request(move |request| {
                let stages = [&request.canonical_request, &request.string_to_sign];
                let text = format!("{request:?} {:?} {stages:?}", request.headers);
                requests.add("on_request", text);
            })
            .on_response(move |response| {
                let text = format!(
                    "{response:?} {:?} {:?} {:?}",
                    response.headers,
                    response.request_id,
                    response.status.map_err(|error| format!("{error} {error:?}"))
                );
                responses.add("on_response", text);
            })
    }

    fn any_contains(&self, words: &str) -> bool {
        self.0.lock().unwrap().iter().any(|(_, text)| text.contains(words))
    }

    #[track_caller]
    fn assert_clean(&self) {
        let shown = self.0.lock().unwrap();
        assert!(!shown.is_empty());
        for (what, text) in shown.iter() {
            assert_clean(what, text);
        }
    }
}

/// The values of every request header, for a server that echoes them.
fn echo_of(request: &crate::support::Request) -> String {
    let values: Vec<&str> = request.headers.iter().map(|(_, v)| v.as_str()).collect();
    values.join(" ")
}

/// How the echoing server answers.
#[derive(Debug, Clone, Copy)]
enum Echo {
    JsonUnauthorized,
    HtmlServerError,
    ForbiddenWithEncodedMessage,
    Throttled,
    SuccessWithWrongTypes,
    SuccessWithAWrongField,
    NoSuchApiThenUnauthorized,
    ExpiredSignature,
    Redirect,
    /// The gateway's wrong-signature 401, echoing a "canonical request" made of every header.
    SignatureEchoed,
}

const ECHOES: [Echo; 10] = [
    Echo::JsonUnauthorized,
    Echo::HtmlServerError,
    Echo::ForbiddenWithEncodedMessage,
    Echo::Throttled,
    Echo::SuccessWithWrongTypes,
    Echo::SuccessWithAWrongField,
    Echo::NoSuchApiThenUnauthorized,
    Echo::ExpiredSignature,
    Echo::Redirect,
    Echo::SignatureEchoed,
];

/// A server that answers as `echo` says, with every request header value sent back in its
/// body, in `X-Echo` and in a header named as each request header.
fn echoing(echo: Echo) -> Server {
    Server::start(move |request, stream| {
        let all = echo_of(request).replace('"', "'");
        let json = |code: &str| {
            format!(r#"{{"error_code":"{code}","error_msg":"{all}","request_id":"{all}"}}"#)
        };
        let (status, body) = match echo {
            Echo::JsonUnauthorized => (401, json("APIGW.0301")),
            Echo::HtmlServerError => (500, format!("<html>{}{all}</html>", "x".repeat(190))),
            Echo::ForbiddenWithEncodedMessage => (
                403,
                format!(r#"{{"error_code":"IAM.0002","encoded_authorization_message":"{all}"}}"#),
            ),
            Echo::Throttled => (429, json("APIGW.0308")),
            Echo::SuccessWithWrongTypes => (200, format!(r#"{{"jobs":"{all}"}}"#)),
            Echo::SuccessWithAWrongField => {
                (200, format!(r#"{{"jobs":[{{"job_id":"{all}","begin_time":"{all}"}}]}}"#))
            }
            Echo::NoSuchApiThenUnauthorized if request.target.contains("/dbss/audit/jobs/") => {
                (404, json("APIGW.0101"))
            }
            Echo::NoSuchApiThenUnauthorized => (401, json("APIGW.0301")),
            Echo::ExpiredSignature => (
                401,
                format!(
                    r#"{{"error_code":"APIGW.0301","error_msg":"signature expired, server time:20200101T000000Z {all}"}}"#
                ),
            ),
            Echo::Redirect => (302, String::new()),
            Echo::SignatureEchoed => {
                let lines: Vec<String> = request
                    .headers
                    .iter()
                    .map(|(name, value)| format!("{}:{value}", name.to_ascii_lowercase()))
                    .collect();
                let echo = format!("GET|/|{}", lines.join("|")).replace('"', "'");
                let message = format!("verify aksk signature fail, canonicalRequest:{echo}");
                (401, format!(r#"{{"error_code":"APIGW.0301","error_msg":"{message}"}}"#))
            }
        };
        let mut headers: Vec<(String, String)> = request
            .headers
            .iter()
            .map(|(name, value)| (format!("X-Echo-{name}"), value.clone()))
            .collect();
        headers.push(("X-Echo".into(), all.clone()));
        headers.push(("Location".into(), format!("http://127.0.0.1:9/{all}")));
        headers.push(("X-Request-Id".into(), all.clone()));
        let headers: Vec<(&str, &str)> =
            headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        respond(stream, status, &headers, body.as_bytes());
        After::KeepAlive
    })
}

/// The faults of the fault server: each reads the request first, so that it could echo it.
#[derive(Debug, Clone, Copy)]
enum Fault {
    CloseWithoutAnswer,
    GarbageStatusLine,
    TruncatedBody,
    Stall,
}

const FAULTS: [Fault; 4] =
    [Fault::CloseWithoutAnswer, Fault::GarbageStatusLine, Fault::TruncatedBody, Fault::Stall];

fn faulty(fault: Fault) -> Server {
    Server::raw(move |stream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        let all = echo_of(&request);
        let mut stream = stream;
        let _ = match fault {
            Fault::CloseWithoutAnswer => Ok(()),
            Fault::GarbageStatusLine => write!(stream, "HELLO {all}\r\n\r\n"),
            Fault::TruncatedBody => write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nX-Echo: {all}\r\n\r\n{{\"jobs\":\"{all}"
            ),
            Fault::Stall => {
                std::thread::sleep(Duration::from_millis(1500));
                Ok(())
            }
        };
    })
}

/// A metadata service handing out the canary session token and temporary credentials.
fn metadata() -> Server {
    Server::start(|request, stream| {
        if request.method == "PUT" {
            respond(stream, 200, &[], SESSION_TOKEN.as_bytes());
        } else {
            let body = security_key_body("TEMP-AK", TEMPORARY_SK, TEMPORARY_TOKEN, 3600);
            respond(stream, 200, &[], body.as_bytes());
        }
        After::KeepAlive
    })
}

/// A metadata service that refuses its own session token, echoing the request in every way.
fn metadata_echoing_a_refusal() -> Server {
    Server::start(|request, stream| {
        if request.method == "PUT" {
            respond(stream, 200, &[], SESSION_TOKEN.as_bytes());
        } else {
            let all = echo_of(request);
            let body = format!(r#"{{"error_code":"META.401","error_msg":"{all}"}}"#);
            respond(stream, 401, &[("X-Echo", &all)], body.as_bytes());
        }
        After::KeepAlive
    })
}

/// A client builder for each credential source, aimed at `url`.
fn sources(url: &str, dir: &TempDir, metadata: &Server) -> Vec<(&'static str, ClientBuilder)> {
    let base = || {
        crate::support::without_credentials(url)
            .retry(RetryPolicy::default().max_attempts(2))
            .timeout(Duration::from_secs(1))
    };
    let profile = dir.write(
        "credentials",
        &format!("[basic]\nak = PROFILE-AK\nsk = {SK}\nsecurity_token = {SECURITY_TOKEN}\n"),
    );
    let explicit =
        Credentials::new("EXPLICIT-AK", SK).unwrap().with_security_token(SECURITY_TOKEN).unwrap();
    vec![
        ("explicit", base().auth(explicit)),
        (
            "environment",
            base().environment([
                ("HOME", "/nonexistent"),
                ("HUAWEICLOUD_SDK_AK", "ENV-AK"),
                ("HUAWEICLOUD_SDK_SK", SK),
                ("HUAWEICLOUD_SDK_SECURITY_TOKEN", SECURITY_TOKEN),
            ]),
        ),
        ("profile", base().profile_file(profile)),
        ("metadata", base().metadata_endpoint(metadata.url())),
        ("iam token", base().auth(IamToken::new(IAM_TOKEN).unwrap())),
    ]
}

/// Drives one call of each entry point (the IAM lookup first, where there is no project id).
fn drive(shown: &Shown, what: &str, builder: ClientBuilder) {
    shown.add(what, format!("{builder:?}"));
    let client = match shown.hooks(builder).build() {
        Ok(client) => client,
        Err(error) => return shown.error(what, &error),
    };
    shown.add(what, format!("{client:?}"));
    if let Err(error) = client.get_jobs_in("p", "r") {
        shown.error(what, &error);
    }
    shown.add(what, format!("{:?}", client.check(Some("r"))));
    let options = WaitOptions::default()
        .interval(Duration::from_millis(10))
        .timeout(Duration::from_millis(300));
    if let Err(error) = client.wait_for_jobs("r", options, |_| {}) {
        shown.error(what, &error);
    }
}

#[test]
fn every_answer_and_fault_for_every_credential_source() {
    let shown = Shown::default();
    let dir = TempDir::new("canaries");
    let metadata = metadata();
    let servers: Vec<(String, Server)> = ECHOES
        .iter()
        .map(|echo| (format!("{echo:?}"), echoing(*echo)))
        .chain(FAULTS.iter().map(|f| (format!("{f:?}"), faulty(*f))))
        .collect();
    for (scenario, server) in &servers {
        for (source, builder) in sources(&server.url(), &dir, &metadata) {
            let builder = builder.project_id("p");
            drive(&shown, &format!("{scenario} with {source}"), builder);
        }
    }
    assert!(
        shown.any_contains("the gateway computed another canonical request"),
        "the gateway's echo was compared"
    );
    let echoed = servers[0].1.requests();
    assert!(
        echoed.iter().any(|r| r.header("x-security-token") == Some(TEMPORARY_TOKEN)),
        "the metadata's temporary credentials were used"
    );
    shown.assert_clean();
}

#[test]
fn the_iam_lookup_and_a_refusing_metadata_service() {
    let shown = Shown::default();
    let dir = TempDir::new("canaries-iam");
    let metadata = metadata();
    for echo in [Echo::JsonUnauthorized, Echo::HtmlServerError, Echo::Throttled] {
        let iam = echoing(echo);
        for (source, builder) in sources("http://127.0.0.1:9", &dir, &metadata) {
            let builder = builder.region("cn-north-4").iam_endpoint(iam.url());
            drive(&shown, &format!("IAM {echo:?} with {source}"), builder);
        }
    }
    let refusing = metadata_echoing_a_refusal();
    let builder =
        crate::support::without_credentials("http://127.0.0.1:9").metadata_endpoint(refusing.url());
    drive(&shown, "a refusing metadata service", builder);
    assert_eq!(refusing.requests().len(), 2);
    shown.assert_clean();
}

/// A proxy that refuses every tunnel, echoing the credentials it was given, decoded.
fn proxy_echoing_its_credentials() -> Server {
    Server::raw(|stream| {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        let given = request.header("proxy-authorization").unwrap_or_default();
        let decoded = base64_decode(given.trim_start_matches("Basic "));
        let mut stream = stream;
        let _ = write!(
            stream,
            "HTTP/1.1 407 Proxy Authentication Required\r\nX-Echo: {decoded}\r\nContent-Length: {}\r\n\r\n{decoded}",
            decoded.len()
        );
    })
}

/// Standard base64, enough for a `Proxy-Authorization` header.
fn base64_decode(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut bits, mut count, mut out) = (0u32, 0, Vec::new());
    for byte in text.bytes().take_while(|byte| *byte != b'=') {
        let Some(value) = ALPHABET.iter().position(|a| *a == byte) else {
            break;
        };
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn proxies_that_echo_or_cannot_be_reached() {
    let shown = Shown::default();
    let proxy = proxy_echoing_its_credentials();
    let server = echoing(Echo::JsonUnauthorized);
    let port = proxy.url().rsplit(':').next().unwrap().to_string();
    let urls = [
        format!("http://alice:{PROXY_PASSWORD}@127.0.0.1:{port}"),
        format!("socks5://alice:{PROXY_PASSWORD}@127.0.0.1:{port}"),
        format!("http://alice:{PROXY_PASSWORD}/x@127.0.0.1:{port}"),
        format!("http://alice:{PROXY_PASSWORD}@127.0.0.1:{port}/path"),
        format!("http://alice:{PROXY_PASSWORD}@[::1"),
    ];
    for url in &urls {
        let builder = crate::support::client(server.url())
            .project_id("p")
            .auth(Credentials::new("AK", SK).unwrap())
            .environment([("HOME", "/nonexistent")])
            .timeout(Duration::from_secs(1));
        drive(&shown, &format!("explicit proxy {url:?}"), builder.clone().proxy(url));
        let from_env = builder.environment([("HOME", "/nonexistent"), ("ALL_PROXY", url)]);
        drive(&shown, &format!("ALL_PROXY {url:?}"), from_env);
    }
    assert!(proxy.connections() > 0, "the proxy was reached");
    shown.assert_clean();
}

#[test]
fn the_cli_with_v_and_vv() {
    let shown = Shown::default();
    let metadata = metadata();
    for echo in [
        Echo::JsonUnauthorized,
        Echo::HtmlServerError,
        Echo::SuccessWithWrongTypes,
        Echo::ExpiredSignature,
    ] {
        let server = echoing(echo);
        let envs: [&[(&str, &str)]; 3] = [
            &[
                ("HUAWEICLOUD_SDK_AK", "CLI-AK"),
                ("HUAWEICLOUD_SDK_SK", SK),
                ("HUAWEICLOUD_SDK_SECURITY_TOKEN", SECURITY_TOKEN),
            ],
            &[("HUAWEICLOUD_SDK_AUTH_TOKEN", IAM_TOKEN)],
            &[("DBSS_JOBS_ECS_METADATA_ENDPOINT", &metadata.url())],
        ];
        for env in envs {
            for flags in [
                &["-v"][..],
                &["-vv"],
                &["-vv", "--wait", "--timeout", "0.5"],
                &["--check"],
                // The region's IAM lookup, signed, through the echoing server.
                &["--check", "--region", "cn-north-4"],
            ] {
                // DBSS_JOBS_LOG=2 writes the -vv block for every client too.
                let output = crate::support::get_jobs()
                    .args(flags)
                    .env("DBSS_JOBS_LOG", "2")
                    .args(["--endpoint", &server.url(), "--project-id", "p", "r"])
                    .envs(env.iter().copied())
                    .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", server.url())
                    .env("ALL_PROXY", format!("http://u:{PROXY_PASSWORD}@127.0.0.1:9"))
                    .output()
                    .unwrap();
                let what = format!("CLI {flags:?} {echo:?}");
                shown.add(&what, String::from_utf8_lossy(&output.stdout));
                shown.add(&what, String::from_utf8_lossy(&output.stderr));
            }
        }
    }
    // Refused at build (an https target off loopback reads HTTPS_PROXY): nothing is resolved.
    let bad_proxy = crate::support::get_jobs()
        .args(["--endpoint", "https://dbss.example.com", "--project-id", "p", "r"])
        .env("HUAWEICLOUD_SDK_AK", "CLI-AK")
        .env("HUAWEICLOUD_SDK_SK", SK)
        .env("HTTPS_PROXY", format!("http://u:{PROXY_PASSWORD}/x@127.0.0.1:9"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&bad_proxy.stderr);
    assert!(stderr.contains("the proxy URL in HTTPS_PROXY"), "{stderr}");
    shown.add("CLI bad proxy", stderr);
    shown.assert_clean();
}

#[test]
fn the_build_script_recipe_and_every_file_cargo_writes_for_it() {
    let closed = format!("http://127.0.0.1:{}", crate::support::closed_port());
    let proxy = format!("http://u:{PROXY_PASSWORD}@127.0.0.1:9");
    let output = crate::build_script::build_the_recipe(&[
        ("HUAWEICLOUD_SDK_AK", "BUILD-AK"),
        ("HUAWEICLOUD_SDK_SK", SK),
        ("HUAWEICLOUD_SDK_SECURITY_TOKEN", SECURITY_TOKEN),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "p"),
        ("HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4", &closed),
        ("HTTPS_PROXY", &proxy),
        ("https_proxy", &proxy),
        ("HTTP_PROXY", &proxy),
        ("http_proxy", &proxy),
        ("ALL_PROXY", &proxy),
        ("all_proxy", &proxy),
        // Cargo keeps a build script's stderr under target/: the -vv block must leave no secret.
        ("DBSS_JOBS_LOG", "2"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("DBSS jobs not read"), "{stderr}");
    assert_clean("cargo's output", &stderr);
    assert_clean("cargo's output", &String::from_utf8_lossy(&output.stdout));
    // Every file under the fixture's target directory, read by grep (hundreds of megabytes).
    let dir = TempDir::new("canary-slices");
    let patterns = dir.write("patterns", &slices().join("\n"));
    let target = crate::build_script::fixture_target_dir();
    let grep = std::process::Command::new("grep")
        .args(["-rlF", "-f"])
        .arg(&patterns)
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(
        grep.status.code(),
        Some(1),
        "canaries under {}: {}",
        target.display(),
        String::from_utf8_lossy(&grep.stdout)
    );
}

#[test]
fn debug_and_display_of_the_public_types_and_the_fakes_record() {
    use dbss_jobs::fake::{FakeDbss, Reply};
    let shown = Shown::default();
    let credentials =
        Credentials::new("AK", SK).unwrap().with_security_token(SECURITY_TOKEN).unwrap();
    let token = IamToken::new(IAM_TOKEN).unwrap();
    shown.add("Credentials", format!("{credentials:?} {credentials:#?}"));
    shown.add("IamToken", format!("{token:?}"));
    let auth = [dbss_jobs::Auth::from(credentials.clone()), dbss_jobs::Auth::from(token)];
    shown.add("Auth", format!("{auth:?}"));
    let headers = [("Content-Type", "application/json")];
    let request = dbss_jobs::sign::SignableRequest::new("GET", "h", "/p").with_headers(&headers);
    let signed = dbss_jobs::sign::sign(&request, &credentials, std::time::SystemTime::now());
    shown.add("SignedRequest", format!("{:?}", signed.unwrap()));
    let fake = FakeDbss::start().unwrap();
    fake.inject_for("r", Reply::new(401, format!(r#"{{"error_msg":"{SECURITY_TOKEN}"}}"#)));
    let client = shown.hooks(fake.client().auth(credentials).project_id("p"));
    let client = client.build().unwrap();
    shown.add("Client", format!("{client:?} {client:#?}"));
    shown.error("fake 401", &client.get_jobs("r").unwrap_err());
    for _ in 0..3 {
        fake.inject_for("reset", Reply::reset());
    }
    let with_token = fake.credentials().with_security_token(SECURITY_TOKEN);
    let client = shown.hooks(fake.client().auth(with_token.unwrap()).project_id("p"));
    let reset = client.build().unwrap().get_jobs("reset").unwrap_err();
    assert_eq!(reset.kind(), dbss_jobs::ErrorKind::Transport, "{reset:?}");
    shown.error("fake resets", &reset);
    shown.add("fake requests", format!("{:?}", fake.requests()));
    let received = &fake.requests()[0];
    assert_eq!(received.header("x-security-token"), Some(SECURITY_TOKEN));
    shown.assert_clean();
}

/// A check of the check: the canaries do show when a path prints them.
#[test]
fn a_canary_slice_is_caught() {
    let caught = std::panic::catch_unwind(|| assert_clean("probe", &format!("x{}y", &SK[3..17])));
    assert!(caught.is_err());
}
