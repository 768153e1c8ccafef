//! Promises as properties over generated input, beside the sweeps of the paths we listed:
//!
//! - a hostile gateway (any status, hostile `Retry-After`, `Date` and request ids, error bodies of
//!   every shape that echo the request's secrets whole, cut at any offset, JSON-escaped,
//!   percent-encoded or split across fields): no panic, no 12-character run of a secret in
//!   anything shown, and the call returns within its deadline plus the documented grace;
//! - hostile settings (the real credentials or ids with control characters, white space, odd
//!   Unicode or length added, from every source): refused before any traffic with a message that
//!   names the source and quotes no secret, or accepted and signed so that Huawei's signer accepts.
//!
//! `PROPTEST_CASES` sets the number of cases (a few seconds' worth by default).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dbss_jobs::{Auth, Client, ClientBuilder, Credentials, ErrorKind, IamToken, RetryPolicy};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::{After, Server, TempDir, respond};

/// The cases of one property: `PROPTEST_CASES`, else `default`.
fn runner(default: u32) -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(default);
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// Every 12-byte run of `secrets` (ASCII), and a check that `text` holds none of them.
pub(crate) struct Runs(HashSet<Vec<u8>>);

impl Runs {
    pub(crate) fn of<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Runs {
        let runs = secrets
            .into_iter()
            .flat_map(|secret| secret.as_bytes().windows(12).map(<[u8]>::to_vec))
            .collect();
        Runs(runs)
    }

    pub(crate) fn find(&self, text: &str) -> Option<String> {
        let found = text.as_bytes().windows(12).find(|w| self.0.contains(*w))?;
        Some(String::from_utf8_lossy(found).into_owned())
    }
}

// ---- a hostile gateway ----

/// How the gateway writes the secrets it echoes.
#[derive(Debug, Clone)]
enum Encoding {
    Whole,
    /// Only the part between these fractions (in 1/1000) of its length.
    Cut(u16, u16),
    /// Every character that is not alphanumeric as `\uXXXX`, `/` as `\/`.
    JsonEscaped,
    /// Every character as `\uXXXX`.
    JsonEscapedAll,
    /// Every character that is not alphanumeric as `%XX`.
    PercentEncoded,
}

/// Where the gateway puts the echo.
#[derive(Debug, Clone, Copy)]
enum Shape {
    TopLevel,
    Nested,
    CamelCase,
    CodeAndMessage,
    SplitAcrossFields,
    Html,
    InvalidUtf8,
    TruncatedJson(u16),
    SignatureEchoed,
    SignatureExpired,
    JobsOfTheWrongType,
}

#[derive(Debug, Clone)]
struct Hostile {
    status: u16,
    shape: Shape,
    encoding: Encoding,
    retry_after: Option<String>,
    date: Option<String>,
    request_id_len: usize,
}

fn hostile() -> impl Strategy<Value = Hostile> {
    let status = prop_oneof![
        Just(200u16),
        Just(301),
        Just(302),
        Just(401),
        Just(403),
        Just(404),
        Just(429),
        Just(500),
        Just(502),
        Just(503),
        Just(504)
    ];
    let shape = prop_oneof![
        Just(Shape::TopLevel),
        Just(Shape::Nested),
        Just(Shape::CamelCase),
        Just(Shape::CodeAndMessage),
        Just(Shape::SplitAcrossFields),
        Just(Shape::Html),
        Just(Shape::InvalidUtf8),
        any::<u16>().prop_map(Shape::TruncatedJson),
        Just(Shape::SignatureEchoed),
        Just(Shape::SignatureExpired),
        Just(Shape::JobsOfTheWrongType),
    ];
    let encoding = prop_oneof![
        Just(Encoding::Whole),
        (0u16..1000, 0u16..1000).prop_map(|(a, b)| Encoding::Cut(a.min(b), a.max(b))),
        Just(Encoding::JsonEscaped),
        Just(Encoding::JsonEscapedAll),
        Just(Encoding::PercentEncoded),
    ];
    let number = prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        Just("18446744073709551615".to_string()),
        Just("-5".to_string()),
        Just("0".to_string()),
        Just("Sun, 06 Nov 9999 08:49:37 GMT".to_string()),
        Just("Mon, 01 Jan 1900 00:00:00 GMT".to_string()),
        "[ -~]{0,40}",
    ];
    let request_id_len = prop_oneof![Just(0usize), Just(64), Just(70_000), Just(1_000_000)];
    (
        status,
        shape,
        encoding,
        proptest::option::of(number.clone()),
        proptest::option::of(number),
        request_id_len,
    )
        .prop_map(|(status, shape, encoding, retry_after, date, request_id_len)| Hostile {
            status,
            shape,
            encoding,
            retry_after,
            date,
            request_id_len,
        })
}

fn encode(text: &str, encoding: &Encoding) -> String {
    let keep = |c: char| c.is_ascii_alphanumeric();
    match encoding {
        Encoding::Whole => text.to_string(),
        Encoding::Cut(from, to) => {
            let at = |share: u16| text.len() * usize::from(share) / 1000;
            text[at(*from)..at(*to)].to_string()
        }
        Encoding::JsonEscaped => text
            .chars()
            .map(|c| match c {
                '/' => "\\/".to_string(),
                c if keep(c) => c.to_string(),
                c => format!("\\u{:04X}", u32::from(c)),
            })
            .collect(),
        Encoding::JsonEscapedAll => {
            text.chars().map(|c| format!("\\u{:04x}", u32::from(c))).collect()
        }
        Encoding::PercentEncoded => text
            .chars()
            .map(|c| match keep(c) {
                true => c.to_string(),
                false => format!("%{:02X}", u32::from(c)),
            })
            .collect(),
    }
}

/// The body the hostile gateway answers, `echo` written into it.
fn body_of(shape: Shape, echo: &str) -> Vec<u8> {
    let json = |code: &str, message: &str| {
        format!(r#"{{"error_code":"{code}","error_msg":"{message}","request_id":"{echo}"}}"#)
    };
    let text = match shape {
        Shape::TopLevel => json("APIGW.0301", echo),
        Shape::Nested => format!(r#"{{"error":{{"error_code":"DBSS.1","error_msg":"{echo}"}}}}"#),
        Shape::CamelCase => format!(r#"{{"errorCode":"{echo}","errorMsg":"{echo}"}}"#),
        Shape::CodeAndMessage => format!(
            r#"{{"code":"{echo}","message":"{echo}","encoded_authorization_message":"{echo}"}}"#
        ),
        Shape::SplitAcrossFields => {
            let half = echo.len() / 2;
            // Every echo is ASCII: any byte is a character boundary.
            let (first, second) = echo.split_at(half);
            json(first, second)
        }
        Shape::Html => format!("<html><body>\n{echo}\n</body></html>"),
        Shape::InvalidUtf8 => {
            let mut bytes = b"\xff\xfe".to_vec();
            bytes.extend_from_slice(echo.as_bytes());
            bytes.extend_from_slice(b"\xc3");
            return bytes;
        }
        Shape::TruncatedJson(share) => {
            let whole = json("APIGW.0308", echo);
            let at = whole.len() * usize::from(share) / usize::from(u16::MAX);
            whole[..at].to_string()
        }
        Shape::SignatureEchoed => json(
            "APIGW.0301",
            &format!("verify aksk signature fail, canonicalRequest:GET|/|x-auth-token:{echo}"),
        ),
        Shape::SignatureExpired => {
            json("APIGW.0301", &format!("signature expired, server time:20991231T235959Z {echo}"))
        }
        Shape::JobsOfTheWrongType => format!(r#"{{"jobs":"{echo}"}}"#),
    };
    text.into_bytes()
}

/// A gateway that answers every request as `plan` says, echoing the request's secret header
/// values (the signature, the security token, the IAM token).
fn hostile_gateway(plan: Hostile) -> Server {
    Server::start(move |request, stream| {
        let secrets: Vec<String> = ["authorization", "x-security-token", "x-auth-token"]
            .iter()
            .filter_map(|name| request.header(name))
            .map(|value| value.rsplit("Signature=").next().unwrap_or(value).to_string())
            .collect();
        let echo = encode(&secrets.join(" "), &plan.encoding);
        let body = body_of(plan.shape, &echo);
        let mut request_id = echo.clone();
        while request_id.len() < plan.request_id_len {
            request_id.push_str(&echo);
            request_id.push('-');
        }
        // A header's name can carry an echo too (hex, base64url and percent signs are legal).
        let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        let name: String = echo.chars().map(|c| if tchar(c) { c } else { '-' }).collect();
        let name = format!("X-Echo-{name}");
        let mut headers = vec![
            ("X-Request-Id", request_id.as_str()),
            ("X-Echo", echo.as_str()),
            (name.as_str(), "1"),
        ];
        headers.push(("Location", echo.as_str()));
        for (name, value) in [("Retry-After", &plan.retry_after), ("Date", &plan.date)] {
            if let Some(value) = value {
                headers.push((name, value.as_str()));
            }
        }
        respond(stream, plan.status, &headers, &body);
        After::KeepAlive
    })
}

/// A token as IAM or STS might issue one: long, of the base64 alphabet and a few signs.
fn token() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9+/=_-]{12,80}", "[A-Za-z0-9+/=_-]{2000,4000}",]
}

/// The credentials of a case and what they make secret.
fn credentials() -> impl Strategy<Value = (Auth, Vec<String>)> {
    let sk = "[A-Za-z0-9]{12,40}";
    prop_oneof![
        (sk, token()).prop_map(|(sk, token)| {
            let credentials = Credentials::new("AK", &sk).unwrap();
            (Auth::from(credentials), vec![sk, token])
        }),
        (sk, token()).prop_map(|(sk, token)| {
            let credentials = Credentials::new("AK", &sk).unwrap();
            let credentials = credentials.with_security_token(&token).unwrap();
            (Auth::from(credentials), vec![sk, token])
        }),
        token().prop_map(|token| (Auth::from(IamToken::new(&token).unwrap()), vec![token])),
    ]
}

/// Everything a call shows: hook arguments (as `DBSS_JOBS_LOG` writes them, and as `Debug`),
/// and the error in every form.
#[derive(Clone, Default)]
struct Shown(Arc<Mutex<Vec<String>>>);

impl Shown {
    fn push(&self, text: String) {
        self.0.lock().unwrap().push(text);
    }

    fn watch(&self, builder: ClientBuilder) -> ClientBuilder {
        let (requests, responses) = (self.clone(), self.clone());
        builder
            .on_request(move |info| requests.push(format!("{info}{info:?}{info:#?}")))
            .on_response(move |info| responses.push(format!("{info}{info:?}{:?}", info.headers)))
    }
}

#[test]
fn a_hostile_gateway_never_panics_shows_no_secret_and_keeps_the_deadline() {
    const TIMEOUT: Duration = Duration::from_millis(600);
    // The documented grace for an answer's body, and room for a loaded machine.
    const SLACK: Duration = Duration::from_millis(250 + 400);
    let mut runner = runner(48);
    let strategy = (hostile(), credentials());
    runner
        .run(&strategy, |(plan, (auth, secrets))| {
            let server = hostile_gateway(plan.clone());
            let shown = Shown::default();
            let client = shown
                .watch(crate::support::client(server.url()).auth(auth))
                .project_id("p")
                .timeout(TIMEOUT)
                .retry(RetryPolicy::default().max_attempts(3))
                .build()
                .unwrap();
            let started = Instant::now();
            let outcome = client.get_jobs("r");
            let elapsed = started.elapsed();
            prop_assert!(elapsed <= TIMEOUT + SLACK, "took {elapsed:?}");
            if let Err(error) = &outcome {
                shown.push(format!("{error}{error:?}{error:#?}{}", error.report()));
                if let Some(mismatch) = error.signature_mismatch() {
                    shown.push(format!("{mismatch:?}"));
                }
            }
            let signatures: Vec<String> = server
                .requests()
                .iter()
                .filter_map(|request| request.header("authorization"))
                .filter_map(|value| value.rsplit("Signature=").next().map(str::to_string))
                .collect();
            let runs = Runs::of(secrets.iter().chain(&signatures).map(String::as_str));
            for text in shown.0.lock().unwrap().iter() {
                if let Some(run) = runs.find(text) {
                    return Err(TestCaseError::fail(format!("{run:?} shows in {text}")));
                }
            }
            Ok(())
        })
        .unwrap();
}

// ---- hostile settings ----

/// A value as a user may have pasted it: the real one with something around or inside it.
fn decorated(real: &'static str) -> impl Strategy<Value = String> {
    let decoration = prop_oneof![
        Just(String::new()),
        Just("\r".to_string()),
        Just("\n".to_string()),
        Just(" ".to_string()),
        Just("\t".to_string()),
        Just("\u{0}".to_string()),
        Just("\u{1b}[2J".to_string()),
        Just("\u{a0}".to_string()),
        Just("\u{feff}".to_string()),
        Just("\u{202e}".to_string()),
        Just("é".to_string()),
        "\\PC{1,3}",
        "[ -~]{1,3}",
        "\\PC{300,2000}",
    ];
    (decoration.clone(), decoration, 0u8..3).prop_map(move |(before, after, at)| match at {
        0 => format!("{before}{real}"),
        1 => format!("{real}{after}"),
        _ => {
            let (head, tail) = real.split_at(real.len() / 2);
            format!("{head}{before}{tail}{after}")
        }
    })
}

/// Where a setting enters.
#[derive(Debug, Clone, Copy)]
enum Setting {
    AkFromTheBuilder,
    SkFromTheBuilder,
    SkFromTheEnvironment,
    SkFromTheProfile,
    AkFromTheProfile,
    ProjectIdFromTheBuilder,
    ProjectIdFromTheEnvironment,
    ProjectIdFromTheProfile,
    Region,
    ResourceId,
}

const SETTINGS: [Setting; 10] = [
    Setting::AkFromTheBuilder,
    Setting::SkFromTheBuilder,
    Setting::SkFromTheEnvironment,
    Setting::SkFromTheProfile,
    Setting::AkFromTheProfile,
    Setting::ProjectIdFromTheBuilder,
    Setting::ProjectIdFromTheEnvironment,
    Setting::ProjectIdFromTheProfile,
    Setting::Region,
    Setting::ResourceId,
];

/// The real value a setting holds, and what a refusal of it names (for the profile, its path: a
/// value with a line break moves the line that is refused).
fn real_and_source(setting: Setting, profile: &str) -> (&'static str, String) {
    use crate::support::{AK, SK};
    match setting {
        Setting::AkFromTheBuilder => (AK, "Credentials::new".into()),
        Setting::SkFromTheBuilder => (SK, "Credentials::new".into()),
        Setting::SkFromTheEnvironment => (SK, "HUAWEICLOUD_SDK_SK".into()),
        Setting::SkFromTheProfile => (SK, profile.into()),
        Setting::AkFromTheProfile => (AK, profile.into()),
        Setting::ProjectIdFromTheBuilder => (PROJECT, "ClientBuilder::project_id".into()),
        Setting::ProjectIdFromTheEnvironment => (PROJECT, "HUAWEICLOUD_SDK_PROJECT_ID".into()),
        Setting::ProjectIdFromTheProfile => (PROJECT, profile.into()),
        Setting::Region => ("cn-north-4", "ClientBuilder::region".into()),
        Setting::ResourceId => ("instance-1", "resource id".into()),
    }
}

const PROJECT: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";

/// A client whose `setting` holds `value` (every other setting its real value), sending to `url`.
fn with_setting(
    setting: Setting,
    value: &str,
    url: &str,
    dir: &TempDir,
) -> Result<Client, dbss_jobs::Error> {
    use crate::support::{AK, SK};
    let (mut ak, mut sk, mut project) = (AK.to_string(), SK.to_string(), PROJECT.to_string());
    let mut region = "cn-north-4".to_string();
    match setting {
        Setting::AkFromTheBuilder | Setting::AkFromTheProfile => ak = value.to_string(),
        Setting::SkFromTheBuilder | Setting::SkFromTheEnvironment | Setting::SkFromTheProfile => {
            sk = value.to_string()
        }
        Setting::ProjectIdFromTheBuilder
        | Setting::ProjectIdFromTheEnvironment
        | Setting::ProjectIdFromTheProfile => project = value.to_string(),
        Setting::Region => region = value.to_string(),
        Setting::ResourceId => {}
    }
    let builder = Client::builder()
        .endpoint(url)
        .region(region)
        .timeout(Duration::from_secs(10))
        .retry(RetryPolicy::none());
    let home = ("HOME", "/nonexistent".to_string());
    let builder = match setting {
        Setting::SkFromTheProfile
        | Setting::AkFromTheProfile
        | Setting::ProjectIdFromTheProfile => {
            let text = format!("[basic]\nak = {ak}\nsk = {sk}\nproject_id = {project}\n");
            let path = dir.write("credentials", &text);
            builder.environment([home]).profile_file(path)
        }
        Setting::SkFromTheEnvironment | Setting::ProjectIdFromTheEnvironment => builder
            .environment([
                home,
                ("HUAWEICLOUD_SDK_AK", ak),
                ("HUAWEICLOUD_SDK_SK", sk),
                ("HUAWEICLOUD_SDK_PROJECT_ID", project),
            ]),
        _ => builder.environment([home]).auth(Credentials::new(ak, sk)?).project_id(project),
    };
    builder.build()
}

#[test]
fn a_hostile_setting_is_refused_before_traffic_naming_its_source_or_signed_as_huawei_signs() {
    let oracle = crate::support::Oracle::if_available(&[]);
    let counting = Server::raw(drop);
    let dir = TempDir::new("hostile-settings");
    let profile = dir.write("credentials", "").display().to_string();
    let setting = proptest::sample::select(SETTINGS.to_vec());
    let strategy = setting.prop_flat_map(|setting| {
        let (real, _) = real_and_source(setting, "");
        (Just(setting), decorated(real))
    });
    let mut runner = runner(64);
    runner
        .run(&strategy, |(setting, value)| {
            let (real, source) = real_and_source(setting, &profile);
            let resource = match setting {
                Setting::ResourceId => value.as_str(),
                _ => "instance-1",
            };
            let before = counting.connections();
            let refused = with_setting(setting, &value, &counting.url(), &dir)
                .and_then(|client| client.get_jobs(resource).map(|_| ()));
            let reached = counting.connections() > before;
            match refused {
                Err(error) if error.kind() == ErrorKind::InvalidInput => {
                    prop_assert!(!reached, "{setting:?} {value:?}: traffic before {error}");
                    let message = format!("{error}{error:?}");
                    prop_assert!(message.contains(&source), "{source:?} not named: {message}");
                    let raw = message.chars().find(|c| c.is_control());
                    prop_assert!(raw.is_none(), "a raw {raw:?} in {message:?}");
                    let secret = matches!(
                        setting,
                        Setting::SkFromTheBuilder
                            | Setting::SkFromTheEnvironment
                            | Setting::SkFromTheProfile
                    );
                    prop_assert!(!secret || !message.contains(real), "quoted: {message}");
                    return Ok(());
                }
                other => prop_assert!(
                    reached,
                    "{setting:?} {value:?}: neither refused nor sent: {other:?}"
                ),
            }
            let Some(oracle) = &oracle else {
                return Ok(());
            };
            // Accepted: where the value still names the credentials the oracle knows (any id does),
            // what is signed must be what Huawei's signer computes for what it received.
            use crate::support::{AK, SK};
            let known = match setting {
                Setting::AkFromTheBuilder | Setting::AkFromTheProfile => value.trim() == AK,
                Setting::SkFromTheBuilder
                | Setting::SkFromTheEnvironment
                | Setting::SkFromTheProfile => {
                    value == SK
                        || (matches!(setting, Setting::SkFromTheProfile) && value.trim() == SK)
                }
                Setting::Region => false,
                _ => true,
            };
            if !known {
                return Ok(());
            }
            let client = with_setting(setting, &value, &oracle.url(), &dir).unwrap();
            if let Err(error) = client.get_jobs(resource) {
                prop_assert!(
                    error.status() != Some(401),
                    "{setting:?} {value:?} accepted, then refused by Huawei's signer: {error}"
                );
            }
            Ok(())
        })
        .unwrap();
}
