//! The promises over every route a request takes, as generated cases: which call, and which
//! service answers it hostilely (DBSS, DBSS after the newer-path fallback, IAM, the metadata
//! token API or its security key, a proxy's `CONNECT`, through `check` or `wait_for_jobs`), with
//! any status from 100 to 599, any framing, delays before and inside the head and the body, and
//! the request's secrets echoed through a stack of encodings. After each case: no panic, no
//! 12-character run of a secret in anything shown once the oracle has undone the same stack,
//! and the call ends within its deadline plus the documented grace.
//!
//! `PROPTEST_CASES` sets the number of cases (64 by default).

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dbss_jobs::{Client, ClientBuilder, Credentials, RetryPolicy, WaitOptions};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::{After, Request, Server, respond, security_key_body};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Route {
    Jobs,
    Fallback,
    Iam,
    MetadataToken,
    MetadataKey,
    Connect,
    Check,
    Wait,
}

#[derive(Debug, Clone, Copy)]
enum Framing {
    Length,
    Chunked,
    CloseDelimited,
    Interim,
    LengthAndChunked,
    Duplicated,
    Folded,
    NotUtf8,
}

#[derive(Debug, Clone, Copy)]
enum Timing {
    Prompt,
    BeforeHead(u64),
    InsideHead(u64),
    InsideBody(u64),
}

/// One layer of how the echo is written; a case stacks up to three.
#[derive(Debug, Clone, Copy)]
enum Layer {
    PercentLower,
    PercentUpper,
    JsonAll,
    HexEscapes,
    HtmlDecimal,
    HtmlHex,
    Folded,
    PlusForSpace,
}

#[derive(Debug, Clone)]
struct Case {
    route: Route,
    status: u16,
    framing: Framing,
    timing: Timing,
    layers: Vec<Layer>,
    /// The echo split across a header and the body.
    split: bool,
}

fn case() -> impl Strategy<Value = Case> {
    use Framing::*;
    use Layer::*;
    use Route::*;
    let route = proptest::sample::select(vec![
        Jobs,
        Fallback,
        Iam,
        MetadataToken,
        MetadataKey,
        Connect,
        Check,
        Wait,
    ]);
    let framing = proptest::sample::select(vec![
        Length,
        Chunked,
        CloseDelimited,
        Interim,
        LengthAndChunked,
        Duplicated,
        Framing::Folded,
        NotUtf8,
    ]);
    let timing = prop_oneof![
        3 => Just(Timing::Prompt),
        1 => (0u64..700).prop_map(Timing::BeforeHead),
        1 => (0u64..700).prop_map(Timing::InsideHead),
        1 => (0u64..700).prop_map(Timing::InsideBody),
    ];
    let layer = proptest::sample::select(vec![
        PercentLower,
        PercentUpper,
        JsonAll,
        HexEscapes,
        HtmlDecimal,
        HtmlHex,
        Layer::Folded,
        PlusForSpace,
    ]);
    (route, 100u16..600, framing, timing, proptest::collection::vec(layer, 0..3), any::<bool>())
        .prop_map(|(route, status, framing, timing, layers, split)| Case {
            route,
            status,
            framing,
            timing,
            layers,
            split,
        })
}

/// `text` written in one more layer of encoding.
fn encode(text: &str, layer: Layer) -> String {
    let each = |f: &dyn Fn(char) -> String| text.chars().map(f).collect::<String>();
    let utf8 = |c: char, upper: bool| {
        let mut bytes = [0u8; 4];
        let bytes = c.encode_utf8(&mut bytes).bytes();
        match upper {
            true => bytes.map(|b| format!("%{b:02X}")).collect::<String>(),
            false => bytes.map(|b| format!("%{b:02x}")).collect::<String>(),
        }
    };
    match layer {
        Layer::PercentLower => each(&|c| utf8(c, false)),
        Layer::PercentUpper => each(&|c| utf8(c, true)),
        Layer::JsonAll => each(&|c| {
            let mut units = [0u16; 2];
            c.encode_utf16(&mut units).iter().map(|u| format!("\\u{u:04x}")).collect()
        }),
        Layer::HexEscapes => each(&|c| match c.is_ascii() {
            true => format!("\\x{:02x}", u32::from(c)),
            false => c.to_string(),
        }),
        Layer::HtmlDecimal => each(&|c| format!("&#{};", u32::from(c))),
        Layer::HtmlHex => each(&|c| format!("&#x{:X};", u32::from(c))),
        Layer::PlusForSpace => text.replace(' ', "+"),
        Layer::Folded => {
            let chars: Vec<char> = text.chars().collect();
            let lines: Vec<String> = chars.chunks(20).map(|line| line.iter().collect()).collect();
            lines.join("\r\n ")
        }
    }
}

/// What the oracle reads in a shown text once it undoes `layers` (the crate shows control
/// characters escaped, so those escapes are undone first).
fn decoded(text: &str, layers: &[Layer]) -> Vec<String> {
    let mut texts = vec![text.to_string()];
    let mut current = text.replace("\\r\\n ", "").replace("\\r", "\r").replace("\\n", "\n");
    for layer in layers.iter().rev() {
        current = undo(&current, *layer);
        texts.push(current.clone());
    }
    texts
}

/// The oracle's own reading of one layer.
fn undo(text: &str, layer: Layer) -> String {
    match layer {
        Layer::PercentLower | Layer::PercentUpper => {
            let mut bytes = Vec::new();
            let raw = text.as_bytes();
            let mut at = 0;
            while at < raw.len() {
                let hex = text.get(at + 1..at + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
                match (raw[at], hex) {
                    (b'%', Some(byte)) => {
                        bytes.push(byte);
                        at += 3;
                    }
                    (byte, _) => {
                        bytes.push(byte);
                        at += 1;
                    }
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Layer::JsonAll => {
            let quoted = format!("\"{}\"", text.replace('"', "\\\""));
            serde_json::from_str::<String>(&quoted).unwrap_or_else(|_| {
                let mut out = String::new();
                let mut rest = text;
                while let Some(at) = rest.find("\\u") {
                    out.push_str(&rest[..at]);
                    let code =
                        rest.get(at + 2..at + 6).and_then(|h| u32::from_str_radix(h, 16).ok());
                    match code.and_then(char::from_u32) {
                        Some(c) => {
                            out.push(c);
                            rest = &rest[at + 6..];
                        }
                        None => {
                            out.push_str("\\u");
                            rest = &rest[at + 2..];
                        }
                    }
                }
                out + rest
            })
        }
        Layer::HexEscapes => replace_codes(text, "\\x", "", 16),
        Layer::HtmlDecimal => replace_codes(text, "&#", ";", 10),
        Layer::HtmlHex => replace_codes(text, "&#x", ";", 16),
        Layer::Folded => text.replace("\r\n ", ""),
        Layer::PlusForSpace => text.replace('+', " "),
    }
}

/// `text` with each `{open}NN{close}` replaced by the character with that code.
fn replace_codes(text: &str, open: &str, close: &str, radix: u32) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(open) {
        out.push_str(&rest[..at]);
        let digits: String =
            rest[at + open.len()..].chars().take_while(|c| c.is_digit(radix)).collect();
        let end = at + open.len() + digits.len();
        let code = u32::from_str_radix(&digits, radix).ok().and_then(char::from_u32);
        match (code, rest[end..].starts_with(close)) {
            (Some(c), true) => {
                out.push(c);
                rest = &rest[end + close.len()..];
            }
            _ => {
                out.push_str(open);
                rest = &rest[at + open.len()..];
            }
        }
    }
    out + rest
}

/// The secrets a request carried that a server could echo: the signature, the tokens, the
/// metadata session token, the proxy's password.
fn carried(request: &Request, proxy_password: &str) -> Vec<String> {
    let mut secrets: Vec<String> = ["x-security-token", "x-auth-token", "x-metadata-token"]
        .iter()
        .filter_map(|name| request.header(name).map(str::to_string))
        .collect();
    if let Some(value) = request.header("authorization") {
        secrets.extend(value.rsplit("Signature=").next().map(str::to_string));
    }
    if request.header("proxy-authorization").is_some() {
        secrets.push(proxy_password.to_string());
    }
    secrets
}

/// Writes the hostile answer: `echo` in a header and the body (or split between them).
fn answer(stream: &mut TcpStream, case: &Case, echo: &str) -> After {
    let (in_header, in_body) = match case.split {
        true => echo.split_at(echo.len() / 2),
        false => (echo, echo),
    };
    let body = format!(
        r#"{{"error_code":"APIGW.0301","error_msg":"verify aksk signature fail, canonicalRequest:GET|/|x-auth-token:{in_body}","request_id":"{in_body}"}}"#
    );
    let header_value = in_header.replace(['\r', '\n'], "");
    let mut head = String::new();
    if let Framing::Interim = case.framing {
        head.push_str(&format!("HTTP/1.1 100 Continue\r\nX-Echo: {header_value}\r\n\r\n"));
    }
    head.push_str(&format!("HTTP/1.1 {} Hostile\r\nX-Request-Id: {header_value}\r\n", case.status));
    head.push_str(&format!("X-Echo: {header_value}\r\nDate: Mon, 08 Dec 2026 00:00:00 GMT\r\n"));
    let mut extra: Vec<u8> = Vec::new();
    let chunked = format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len());
    let (framing, payload) = match case.framing {
        Framing::Length | Framing::Interim => {
            (format!("Content-Length: {}\r\n", body.len()), body.clone())
        }
        Framing::Chunked => ("Transfer-Encoding: chunked\r\n".to_string(), chunked),
        Framing::CloseDelimited => ("Connection: close\r\n".to_string(), body.clone()),
        Framing::LengthAndChunked => {
            (format!("Content-Length: {}\r\nTransfer-Encoding: chunked\r\n", body.len()), chunked)
        }
        Framing::Duplicated => (
            format!(
                "Content-Length: {0}\r\nX-Request-Id: {header_value}\r\nRetry-After: 1\r\nRetry-After: {header_value}\r\n",
                body.len()
            ),
            body.clone(),
        ),
        Framing::Folded => (
            format!(
                "X-Folded: {}\r\n {}\r\nContent-Length: {}\r\n",
                &header_value[..header_value.len() / 2],
                &header_value[header_value.len() / 2..],
                body.len()
            ),
            body.clone(),
        ),
        Framing::NotUtf8 => {
            extra = [b"X-Bytes: \xff\xfe".as_slice(), header_value.as_bytes(), b"\r\n"].concat();
            (format!("Content-Length: {}\r\n", body.len()), body.clone())
        }
    };
    let head = [head.as_bytes(), &extra, framing.as_bytes(), b"\r\n"].concat();
    let pause = |ms: u64| std::thread::sleep(Duration::from_millis(ms));
    let (head_at, body_at) = match case.timing {
        Timing::BeforeHead(ms) => {
            pause(ms);
            (head.len(), payload.len())
        }
        Timing::InsideHead(_) => (head.len() / 2, payload.len()),
        Timing::InsideBody(_) => (head.len(), payload.len() / 2),
        Timing::Prompt => (head.len(), payload.len()),
    };
    let delay = match case.timing {
        Timing::InsideHead(ms) | Timing::InsideBody(ms) => ms,
        _ => 0,
    };
    let whole = [head.as_slice(), payload.as_bytes()].concat();
    let cut = if head_at < head.len() { head_at } else { head.len() + body_at };
    let _ = stream.write_all(&whole[..cut]);
    let _ = stream.flush();
    pause(delay);
    let _ = stream.write_all(&whole[cut..]);
    match case.framing {
        Framing::CloseDelimited => After::Close,
        _ => After::KeepAlive,
    }
}

/// The one server of a case: DBSS, IAM, the metadata service and the proxy, benign except where
/// the case's route meets it.
fn server(case: Case, password: &'static str) -> Server {
    Server::start(move |request, stream| {
        let target = request.target.as_str();
        let hostile = match case.route {
            Route::Jobs | Route::Check | Route::Wait => target.starts_with("/v1/") || target == "/",
            Route::Fallback => target.contains("/audit/r/jobs"),
            Route::Iam => target.starts_with("/v3/projects"),
            Route::MetadataToken => request.method == "PUT",
            Route::MetadataKey => target.contains("securitykey"),
            Route::Connect => request.method == "CONNECT",
        };
        if hostile {
            // Joined by a character outside the BMP: JSON writes it as a surrogate pair.
            let secrets = carried(request, password).join(" \u{1f600} ");
            let echo = case.layers.iter().fold(secrets, |text, layer| encode(&text, *layer));
            return answer(stream, &case, &echo);
        }
        let (status, body) = match target {
            t if t.contains("/dbss/audit/jobs/") && case.route == Route::Fallback => {
                (404, r#"{"error_code":"APIGW.0101","error_msg":"no such API"}"#.to_string())
            }
            t if t.starts_with("/v3/projects") => {
                (200, r#"{"projects":[{"id":"p","name":"cn-north-4"}]}"#.to_string())
            }
            t if t.contains("meta-data") => (200, "Ss3fJ8kW1qZ6nV9cR4tB7xM2".to_string()),
            t if t.contains("securitykey") => (
                200,
                security_key_body(
                    "META-AK",
                    "Ms8dF3hJ6kL1zX4cV7bN2mQ5",
                    "Mt5gL9pA2sE7uY4iO1wQ8zX3",
                    3600,
                ),
            ),
            _ => (200, r#"{"jobs":[]}"#.to_string()),
        };
        respond(stream, status, &[], body.as_bytes());
        After::KeepAlive
    })
}

/// Everything shown: the hooks' views and the error in every form.
#[derive(Clone, Default)]
struct Shown(Arc<Mutex<Vec<String>>>);

impl Shown {
    fn watch(&self, builder: ClientBuilder) -> ClientBuilder {
        let (requests, responses) = (self.0.clone(), self.0.clone());
        builder
            .on_request(move |info| requests.lock().unwrap().push(format!("{info}{info:?}")))
            .on_response(move |info| {
                responses.lock().unwrap().push(format!("{info}{info:?}{:?}", info.headers))
            })
    }
}

const TIMEOUT: Duration = Duration::from_millis(600);
const SK: &str = "Sk7RtQ2mZ9kLp4VwB8nH3cY6";
const TOKEN: &str = "Tk4nB8wVq2LzR7xM5cJ9hD3sF6gK1pY0";
/// With a space, which a gateway may write as `+`.
const PASSWORD: &str = "Pw6yH2rN9v C4tX8bQ1mL5zK3";

/// The client of a case's route.
fn client_builder(case: &Case, url: &str) -> ClientBuilder {
    let credentials =
        Credentials::new("ROUTES-AK", SK).unwrap().with_security_token(TOKEN).unwrap();
    let base = Client::builder()
        .timeout(TIMEOUT)
        .retry(RetryPolicy::default().max_attempts(2))
        .environment([("HOME", "/nonexistent")])
        .ecs_metadata(false);
    match case.route {
        Route::Jobs | Route::Fallback | Route::Wait => {
            base.endpoint(url).auth(credentials).project_id("p")
        }
        Route::Iam | Route::Check => {
            base.region("cn-north-4").endpoint(url).iam_endpoint(url).auth(credentials)
        }
        Route::MetadataToken | Route::MetadataKey => {
            base.endpoint(url).project_id("p").ecs_metadata(true).metadata_endpoint(url)
        }
        Route::Connect => {
            let password = PASSWORD.replace(' ', "%20");
            let proxy = url.replace("http://", &format!("http://user:{password}@"));
            base.endpoint("https://dbss.cn-north-4.myhuaweicloud.com")
                .proxy(proxy)
                .auth(credentials)
                .project_id("p")
        }
    }
}

#[test]
fn every_route_never_panics_shows_no_secret_and_keeps_its_deadline() {
    // The documented grace for a body whose head came in time, and room for a loaded machine.
    const SLACK: Duration = Duration::from_millis(250 + 500);
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(64);
    let mut runner =
        TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&case(), |case| {
            let server = server(case.clone(), PASSWORD);
            let shown = Shown::default();
            let client = shown.watch(client_builder(&case, &server.url())).build().unwrap();
            let started = Instant::now();
            let outcome = match case.route {
                Route::Check => client.check(Some("r")).map(|lines| format!("{lines:?}")),
                Route::Wait => {
                    let options =
                        WaitOptions::default().timeout(TIMEOUT).interval(Duration::from_millis(50));
                    client
                        .wait_for_jobs("r", options, |progress| {
                            shown.0.lock().unwrap().push(format!("{progress:?}"))
                        })
                        .map(|jobs| format!("{jobs:?}"))
                }
                _ => client.get_jobs("r").map(|jobs| format!("{jobs:?}")),
            };
            let elapsed = started.elapsed();
            // A wait's last poll may begin just before the wait's deadline.
            let bound = match case.route {
                Route::Wait | Route::Check => TIMEOUT * 2 + SLACK,
                _ => TIMEOUT + SLACK,
            };
            prop_assert!(elapsed <= bound, "{case:?} took {elapsed:?}");
            let mut texts = shown.0.lock().unwrap().clone();
            match &outcome {
                Ok(text) => texts.push(text.clone()),
                Err(error) => texts.push(format!("{error}{error:?}{error:#?}{}", error.report())),
            }
            let mut secrets: Vec<String> =
                server.requests().iter().flat_map(|request| carried(request, PASSWORD)).collect();
            secrets.extend(
                [TOKEN, PASSWORD, "Ss3fJ8kW1qZ6nV9cR4tB7xM2", "Mt5gL9pA2sE7uY4iO1wQ8zX3"]
                    .map(String::from),
            );
            let runs = crate::properties::Runs::of(secrets.iter().map(String::as_str));
            for text in &texts {
                for reading in decoded(text, &case.layers) {
                    if let Some(run) = runs.find(&reading) {
                        return Err(TestCaseError::fail(format!("{run:?} shows in {reading}")));
                    }
                }
            }
            Ok(())
        })
        .unwrap();
}

// ---- --check agrees with the call ----

/// What IAM does with the project lookup.
#[derive(Debug, Clone, Copy)]
enum Iam {
    TheRegionsProject,
    AnotherProject,
    Status(u16),
    Unreachable,
    Slow,
}

/// What DBSS does with the jobs call.
#[derive(Debug, Clone, Copy)]
enum Dbss {
    Jobs,
    Status(u16),
    Slow,
}

fn answers() -> impl Strategy<Value = (Iam, Dbss, bool)> {
    let status = prop_oneof![Just(403u16), Just(404), Just(429), Just(500), Just(503), 400u16..600];
    let iam = prop_oneof![
        Just(Iam::TheRegionsProject),
        Just(Iam::AnotherProject),
        status.clone().prop_map(Iam::Status),
        Just(Iam::Unreachable),
        Just(Iam::Slow),
    ];
    let dbss = prop_oneof![Just(Dbss::Jobs), status.prop_map(Dbss::Status), Just(Dbss::Slow)];
    (iam, dbss, any::<bool>()).prop_map(|(iam, dbss, configured)| match (iam, dbss) {
        // The same credentials: refused by one, refused by the other.
        (Iam::Status(401), _) | (_, Dbss::Status(401)) => {
            (Iam::Status(401), Dbss::Status(401), configured)
        }
        other => (other.0, other.1, configured),
    })
}

/// One server for IAM and DBSS, answering as the case says.
fn iam_and_dbss(iam: Iam, dbss: Dbss) -> Server {
    let slow = || std::thread::sleep(TIMEOUT * 2);
    Server::start(move |request, stream| {
        let error = |status: u16| format!(r#"{{"error_code":"X.{status}","error_msg":"m"}}"#);
        let (status, body) = match (request.target.starts_with("/v3/projects"), iam, dbss) {
            (true, Iam::TheRegionsProject, _) => {
                (200, r#"{"projects":[{"id":"p","name":"cn-north-4"}]}"#.into())
            }
            (true, Iam::AnotherProject, _) => {
                (200, r#"{"projects":[{"id":"q","name":"cn-north-4"}]}"#.into())
            }
            (true, Iam::Status(status), _) => (status, error(status)),
            (true, _, _) => {
                slow();
                (200, "{}".to_string())
            }
            (false, _, _) if request.target == "/" => (404, "{}".to_string()),
            (false, _, Dbss::Jobs) => (200, r#"{"jobs":[]}"#.to_string()),
            (false, _, Dbss::Status(status)) => (status, error(status)),
            (false, _, Dbss::Slow) => {
                slow();
                (200, r#"{"jobs":[]}"#.to_string())
            }
        };
        respond(stream, status, &[], body.as_bytes());
        After::KeepAlive
    })
}

/// `Client::check` reports a failure only when the plain call with the same settings fails, and
/// its first failing line names the call's cause (the status, or the timeout).
#[test]
fn check_fails_only_when_the_call_fails_and_names_its_cause() {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(32);
    let mut runner =
        TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let closed = format!("http://127.0.0.1:{}", crate::support::closed_port());
    runner
        .run(&answers(), |(iam, dbss, configured)| {
            let server = iam_and_dbss(iam, dbss);
            let iam_url = match iam {
                Iam::Unreachable => closed.clone(),
                _ => server.url(),
            };
            let build = || {
                let builder = Client::builder()
                    .region("cn-north-4")
                    .endpoint(server.url())
                    .iam_endpoint(iam_url.as_str())
                    .auth(Credentials::new("CHECK-AK", "check-sk").unwrap())
                    .environment([("HOME", "/nonexistent")])
                    .timeout(TIMEOUT);
                match configured {
                    true => builder.project_id("p").build().unwrap(),
                    false => builder.build().unwrap(),
                }
            };
            let call = build().get_jobs("r");
            let lines = build().check(Some("r")).unwrap();
            let first_failure = lines.iter().find(|line| !line.ok);
            match (&call, first_failure) {
                (Ok(_), None) => {}
                (Ok(_), Some(line)) => {
                    return Err(TestCaseError::fail(format!(
                        "the call works, the check says {line:?}"
                    )));
                }
                (Err(error), None) => {
                    return Err(TestCaseError::fail(format!(
                        "the call fails ({error}), the check passes: {lines:#?}"
                    )));
                }
                (Err(error), Some(line)) => {
                    let causes = match error.status() {
                        Some(status) => vec![format!("http {status}")],
                        None if error.is_timeout() => vec!["time".into(), "deadline".into()],
                        None => vec!["connect".to_string()],
                    };
                    let named = causes.iter().any(|cause| line.text.contains(cause));
                    prop_assert!(named, "{error} vs {line:?}");
                }
            }
            Ok(())
        })
        .unwrap();
}
