//! A wrong clock: a gateway stand-in with its own clock and the real gateway's words; the offset learned only from an expired signature, one re-sign at most.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use dbss_jobs::Client;

use crate::support::Server;

/// A time as an HTTP date, written independently of the client's formatter.
pub(crate) fn http_date(time: std::time::SystemTime) -> String {
    let t = time::OffsetDateTime::from(time);
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[usize::from(t.weekday().number_days_from_monday())],
        t.day(),
        MONTHS[usize::from(u8::from(t.month())) - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn parse_sdk_date(text: &str) -> std::time::SystemTime {
    let n = |r: std::ops::Range<usize>| text[r].parse::<u8>().unwrap();
    let date = time::Date::from_calendar_date(
        text[0..4].parse().unwrap(),
        time::Month::try_from(n(4..6)).unwrap(),
        n(6..8),
    )
    .unwrap()
    .with_hms(n(9..11), n(11..13), n(13..15))
    .unwrap()
    .assume_utc();
    date.into()
}

/// How the gateway tells its time in a 401.
#[derive(Clone, Copy)]
pub(crate) enum Tells {
    DateHeader,
    MessageOnly,
    MalformedDate,
    /// A `Date` this many seconds off the gateway's clock on every answer, as a cache or a WAF in
    /// front may send; the expired-signature message still tells the gateway's time.
    WrongDate(i64),
    /// As `DateHeader`, and an accepted signature gets no answer for 2 s.
    StallsWhenAccepted,
    /// As `DateHeader`, and an accepted signature gets a 503.
    BusyWhenAccepted,
}

/// A time moved by a signed number of seconds.
pub(crate) fn shifted(time: std::time::SystemTime, seconds: i64) -> std::time::SystemTime {
    if seconds >= 0 {
        time + Duration::from_secs(seconds.unsigned_abs())
    } else {
        time - Duration::from_secs(seconds.unsigned_abs())
    }
}

/// A gateway stand-in whose clock is `offset_seconds` off ours, enforcing the 15-minute window.
fn skewed_gateway(offset_seconds: i64, tells: Tells) -> Server {
    gateway_with_clock(Arc::new(AtomicI64::new(offset_seconds)), tells)
}

/// As [`skewed_gateway`], with an offset the test may change between calls. It answers a
/// rejected signature in the real gateway's words.
pub(crate) fn gateway_with_clock(offset_seconds: Arc<AtomicI64>, tells: Tells) -> Server {
    Server::start(move |request, stream| {
        let gateway_now =
            shifted(std::time::SystemTime::now(), offset_seconds.load(Ordering::SeqCst));
        let signed = parse_sdk_date(request.header("x-sdk-date").unwrap());
        let apart = match gateway_now.duration_since(signed) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        let date = match tells {
            Tells::DateHeader | Tells::StallsWhenAccepted | Tells::BusyWhenAccepted => {
                http_date(gateway_now)
            }
            Tells::MessageOnly => String::new(),
            Tells::MalformedDate => "yesterday-ish".to_string(),
            Tells::WrongDate(off) => http_date(shifted(gateway_now, off)),
        };
        let mut headers = vec![("X-Request-Id", "skew-1")];
        if !date.is_empty() {
            headers.push(("Date", date.as_str()));
        }
        if apart > Duration::from_secs(15 * 60) {
            let server_time = time::OffsetDateTime::from(gateway_now);
            let body = format!(
                r#"{{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: calc ak sk signature fail:signature expired, signature time:{},server time:{:04}{:02}{:02}T{:02}{:02}{:02}Z"}}"#,
                request.header("x-sdk-date").unwrap(),
                server_time.year(),
                u8::from(server_time.month()),
                server_time.day(),
                server_time.hour(),
                server_time.minute(),
                server_time.second()
            );
            crate::support::respond(stream, 401, &headers, body.as_bytes());
        } else if matches!(tells, Tells::StallsWhenAccepted) {
            std::thread::sleep(Duration::from_secs(2));
            return crate::support::After::Close;
        } else if matches!(tells, Tells::BusyWhenAccepted) {
            crate::support::respond(stream, 503, &headers, br#"{"error_code":"APIGW.0503"}"#);
        } else {
            crate::support::respond(stream, 200, &headers, br#"{"jobs":[]}"#);
        }
        crate::support::After::KeepAlive
    })
}

pub(crate) fn skew_client(server: &Server, correction: bool) -> Client {
    skew_builder(server).clock_skew_correction(correction).build().unwrap()
}

fn skew_builder(server: &Server) -> dbss_jobs::ClientBuilder {
    crate::support::client(server.url())
        .auth(dbss_jobs::Credentials::new("SKEW-AK", "sk").unwrap())
        .project_id("p")
}

#[test]
fn a_gateway_two_hours_ahead_or_behind_is_recovered_from() {
    for offset in [2 * 3600, -2 * 3600] {
        for tells in [Tells::DateHeader, Tells::MessageOnly] {
            let server = skewed_gateway(offset, tells);
            let client = skew_client(&server, true);
            client.get_jobs("r").unwrap();
            assert_eq!(server.requests().len(), 2, "first call: one 401, one re-signed");
            client.get_jobs("r").unwrap();
            assert_eq!(server.requests().len(), 3, "second call: corrected from the start");
        }
    }
}

#[test]
fn a_re_signed_attempt_that_runs_into_the_deadline_is_a_timeout_and_keeps_the_correction() {
    let server = skewed_gateway(2 * 3600, Tells::StallsWhenAccepted);
    let client = skew_builder(&server).timeout(Duration::from_millis(800)).build().unwrap();
    // A timeout, which a wait rides out: the refusal before it is no answer to stand for it.
    let error = client.get_jobs("r").unwrap_err();
    assert!(error.is_timeout() && error.attempts() == 2, "{error}");
    // A day and 10 minutes off: the correction (at most a day) brings the signature within the
    // window, and stays: the next call's first signature is accepted (and stalls), not refused.
    let server = skewed_gateway(24 * 3600 + 600, Tells::StallsWhenAccepted);
    let client = skew_builder(&server).timeout(Duration::from_millis(800)).build().unwrap();
    assert!(client.get_jobs("r").unwrap_err().is_timeout());
    let error = client.get_jobs("r").unwrap_err();
    assert!(error.is_timeout() && error.attempts() == 1, "{error}");
}

#[test]
fn a_clock_note_explains_only_the_answer_it_came_with() {
    let server = skewed_gateway(2 * 3600, Tells::BusyWhenAccepted);
    let quick = dbss_jobs::RetryPolicy::default().base_delay(Duration::from_millis(1));
    let client = skew_builder(&server).retry(quick).build().unwrap();
    // The 401 was corrected for; the 503s that followed have nothing to do with the clock.
    let error = client.get_jobs("r").unwrap_err();
    assert_eq!(error.status(), Some(503), "{error}");
    assert!(!error.to_string().contains("clock"), "{error}");
}

#[test]
fn without_correction_the_error_says_how_far_off_the_clock_is() {
    let server = skewed_gateway(2 * 3600 + 60, Tells::DateHeader);
    let error = skew_client(&server, false).get_jobs("r").unwrap_err();
    assert!(error.status() == Some(401), "{error}");
    assert_eq!(server.requests().len(), 1, "a 401 is not retried");
    let sent = server.requests()[0].header("x-sdk-date").unwrap().to_string();
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "your clock is 2 h 01 min behind the gateway's (X-Sdk-Date {sent}, gateway time "
        )) && message.ends_with(" GMT): correct the clock"),
        "{message}"
    );
    let behind = skewed_gateway(-(3 * 3600), Tells::DateHeader);
    let message = skew_client(&behind, false).get_jobs("r").unwrap_err().to_string();
    assert!(message.contains("your clock is 3 h 00 min ahead of the gateway's"), "{message}");
}

#[test]
fn a_malformed_or_absent_date_means_no_correction_and_no_panic() {
    // A malformed Date: the message's server time is used instead.
    let server = skewed_gateway(2 * 3600, Tells::MalformedDate);
    skew_client(&server, true).get_jobs("r").unwrap();
    assert_eq!(server.requests().len(), 2);
    // Neither a date nor a server time: the 401 stands, one request, no note.
    let server = Server::json(
        401,
        r#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: calc ak sk signature fail:signature expired"}"#,
    );
    let error = skew_client(&server, true).get_jobs("r").unwrap_err();
    assert_eq!(server.requests().len(), 1);
    assert!(!error.to_string().contains("your clock"), "{error}");
}

#[test]
fn other_401s_and_403s_are_never_retried_even_with_a_skewed_clock() {
    for status in [401, 403] {
        let server = Server::start(move |_, stream| {
            let date = http_date(std::time::SystemTime::now() + Duration::from_secs(7200));
            crate::support::respond(
                stream,
                status,
                &[("Date", date.as_str())],
                br#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: verify aksk signature fail"}"#,
            );
            crate::support::After::KeepAlive
        });
        skew_client(&server, true).get_jobs("r").unwrap_err();
        assert_eq!(server.requests().len(), 1, "{status}");
    }
}

#[test]
fn a_wrong_date_on_an_accepted_answer_is_never_learned() {
    let year = 365 * 24 * 3600;
    let server = gateway_with_clock(Arc::new(AtomicI64::new(0)), Tells::WrongDate(year));
    let client = skew_client(&server, true);
    for _ in 0..3 {
        client.get_jobs("r").unwrap();
    }
    assert_eq!(server.requests().len(), 3, "no signature was refused");
}

#[test]
fn a_clock_beyond_the_reach_of_the_correction_sends_one_signature_per_call() {
    let server = gateway_with_clock(Arc::new(AtomicI64::new(48 * 3600)), Tells::DateHeader);
    let client = skew_client(&server, true);
    for call in 1..=3 {
        let error = client.get_jobs("r").unwrap_err();
        assert!(error.status() == Some(401), "{error}");
        assert!(error.to_string().contains("your clock is 48 h 00 min behind"), "{error}");
        assert_eq!(server.requests().len(), call, "one refused signature per call");
    }
}

#[test]
fn a_corrected_attempt_that_expires_drops_the_correction_and_re_signing_stops() {
    let offset = Arc::new(AtomicI64::new(2 * 3600));
    let server = gateway_with_clock(offset.clone(), Tells::MessageOnly);
    let client = skew_client(&server, true);
    client.get_jobs("r").unwrap();
    assert_eq!(server.requests().len(), 2, "one refused, one re-signed");
    // The machine's clock is fixed under the client: the correction is now wrong.
    offset.store(0, Ordering::SeqCst);
    let error = client.get_jobs("r").unwrap_err();
    assert!(error.to_string().contains("correction no longer holds"), "{error}");
    assert_eq!(server.requests().len(), 3, "a corrected attempt is not re-signed");
    client.get_jobs("r").unwrap();
    assert_eq!(server.requests().len(), 4, "the correction was dropped");
    // The clock goes wrong again: the client has had its one re-sign.
    offset.store(2 * 3600, Ordering::SeqCst);
    client.get_jobs("r").unwrap_err();
    assert_eq!(server.requests().len(), 5);
}
