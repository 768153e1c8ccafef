//! The timestamps of the wire, by hand on `time` (without its `parsing` and `formatting` features,
//! to keep the build small): HTTP dates, RFC 3339 UTC times (ECS metadata) and `X-Sdk-Date` times
//! (the gateway's `server time:`). Times before 1970 are refused (none of these can be).

use std::time::{Duration, SystemTime};

/// The months as HTTP dates name them.
const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// An HTTP date (IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`), as in `Retry-After`.
pub(crate) fn parse_http_date(value: &str) -> Option<SystemTime> {
    let (_, rest) = value.split_once(", ")?;
    let mut parts = rest.split(' ');
    let day: u8 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let month = u8::try_from(MONTHS.iter().position(|name| *name == month)? + 1).ok()?;
    let year: i32 = parts.next()?.parse().ok()?;
    let clock = clock(parts.next()?)?;
    if parts.next()? != "GMT" || parts.next().is_some() {
        return None;
    }
    utc(year, month, day, clock)
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (what the metadata service sends) to a time.
pub(crate) fn parse_rfc3339_utc(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let body = text.strip_suffix('Z').or_else(|| text.strip_suffix('z'))?;
    let (date, time) = body.split_once(['T', 't', ' '])?;
    let mut date_parts = date.split('-');
    let year: i32 = date_parts.next()?.parse().ok()?;
    let month: u8 = date_parts.next()?.parse().ok()?;
    let day: u8 = date_parts.next()?.parse().ok()?;
    let (time, fraction) = time.split_once('.').unwrap_or((time, ""));
    if date_parts.next().is_some() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    utc(year, month, day, clock(time)?)
}

/// A time as an HTTP date (IMF-fixdate, `Fri, 27 Nov 2026 11:01:00 GMT`).
pub(crate) fn format_http_date(time: SystemTime) -> String {
    let utc = time::OffsetDateTime::from(time);
    let weekday = utc.weekday().to_string();
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        weekday.get(..3).unwrap_or_default(),
        utc.day(),
        MONTHS[usize::from(u8::from(utc.month())) - 1],
        utc.year(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}

/// An `X-Sdk-Date` (`YYYYMMDDTHHMMSSZ`), as the gateway quotes it in `server time:`.
pub(crate) fn parse_sdk_date(text: &str) -> Option<SystemTime> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u8>().ok();
    if text.len() != 16 || text.get(8..9)? != "T" || text.get(15..)? != "Z" {
        return None;
    }
    let year: i32 = text.get(0..4)?.parse().ok()?;
    let clock = [number(9..11)?, number(11..13)?, number(13..15)?];
    utc(year, number(4..6)?, number(6..8)?, clock)
}

/// `HH:MM:SS`.
fn clock(text: &str) -> Option<[u8; 3]> {
    let mut parts = text.split(':').map(|part| part.parse::<u8>().ok());
    let clock = [parts.next()??, parts.next()??, parts.next()??];
    parts.next().is_none().then_some(clock)
}

/// A UTC calendar time as a `SystemTime`; `None` if it does not exist or is before 1970.
fn utc(year: i32, month: u8, day: u8, [hour, minute, second]: [u8; 3]) -> Option<SystemTime> {
    let utc = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day)
        .ok()?
        .with_hms(hour, minute, second)
        .ok()?
        .assume_utc();
    let seconds = u64::try_from(utc.unix_timestamp()).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_round_trip() {
        // RFC 9110's example date.
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(format_http_date(date), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date(&format_http_date(date)), Some(date));
    }

    #[test]
    fn sdk_dates() {
        // 1685153048 is 2023-05-27T02:04:08Z (CPython: calendar.timegm).
        assert_eq!(
            parse_sdk_date("20230527T020408Z"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_685_153_048))
        );
        for junk in
            ["", "20230527T020408", "2023052TT020408Z", "20231327T020408Z", "2023-05-27T02:04:08Z"]
        {
            assert_eq!(parse_sdk_date(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn expires_at_forms() {
        // 1716888946 is 2024-05-28T09:35:46Z (CPython: calendar.timegm).
        let expected = SystemTime::UNIX_EPOCH + Duration::from_secs(1_716_888_946);
        assert_eq!(parse_rfc3339_utc("2024-05-28T09:35:46.581000Z"), Some(expected));
        assert_eq!(parse_rfc3339_utc("2024-05-28T09:35:46Z"), Some(expected));
        for junk in ["", "2024-05-28T09:35:46", "2024-13-28T09:35:46Z", "2024-05-28T09:35Z", "x"] {
            assert_eq!(parse_rfc3339_utc(junk), None, "{junk:?}");
        }
    }
}
