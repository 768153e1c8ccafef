//! Recovery from a wrong local clock. The API gateway rejects a signature whose `X-Sdk-Date` is more
//! than 15 minutes from its own clock (401 `APIGW.0301` "... signature expired"). VMs resumed from
//! suspension, boards without a real-time clock and some CI containers run with wrong clocks.
//!
//! Like AWS's SDKs, the client learns the gateway's clock from the `Date` header of every answer
//! (or, for an expired-signature 401 without one, from the `server time:` in its message) and
//! keeps the latest offset. Once the offset is over 5 minutes, signatures use the corrected time,
//! moved by at most 24 hours.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::timestamps::{parse_http_date, parse_sdk_date};

/// Offsets up to this are the gateway's tolerance's business, not ours.
const SIGNIFICANT: Duration = Duration::from_secs(5 * 60);
/// The correction never moves the signing time further than this.
const MAX_CORRECTION: Duration = Duration::from_secs(24 * 60 * 60);

/// The gateway's clock minus ours, as last measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Offset {
    /// True when the gateway's clock is ahead of ours.
    gateway_ahead: bool,
    amount: Duration,
}

impl Offset {
    /// The offset between a gateway time and our time at the same moment.
    pub(crate) fn between(gateway: SystemTime, local: SystemTime) -> Offset {
        match gateway.duration_since(local) {
            Ok(amount) => Offset {
                gateway_ahead: true,
                amount,
            },
            Err(behind) => Offset {
                gateway_ahead: false,
                amount: behind.duration(),
            },
        }
    }

    pub(crate) fn is_significant(self) -> bool {
        self.amount > SIGNIFICANT
    }

    /// `time` moved by this offset, by at most 24 hours.
    fn apply(self, time: SystemTime) -> SystemTime {
        let amount = self.amount.min(MAX_CORRECTION);
        let moved = if self.gateway_ahead {
            time.checked_add(amount)
        } else {
            time.checked_sub(amount)
        };
        moved.unwrap_or(time)
    }

    /// `your clock is 2 h 01 min behind the gateway's`.
    pub(crate) fn describe(self) -> String {
        let minutes = (self.amount.as_secs() + 30) / 60;
        let (hours, minutes) = (minutes / 60, minutes % 60);
        let amount = if hours > 0 {
            format!("{hours} h {minutes:02} min")
        } else {
            format!("{minutes} min")
        };
        let side = if self.gateway_ahead {
            "behind"
        } else {
            "ahead of"
        };
        format!("your clock is {amount} {side} the gateway's")
    }
}

/// The client's view of the gateway's clock.
#[derive(Debug, Default)]
pub(crate) struct ClockSkew {
    enabled: bool,
    latest: Mutex<Option<Offset>>,
}

impl ClockSkew {
    pub(crate) fn new(enabled: bool) -> ClockSkew {
        ClockSkew {
            enabled,
            latest: Mutex::new(None),
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Records the offset an answer shows: its `Date` header against our clock when it came.
    /// A missing or malformed date changes nothing.
    pub(crate) fn observe(&self, date: Option<&str>, received_at: SystemTime) {
        if let Some(gateway) = date.and_then(parse_http_date) {
            self.record(Offset::between(gateway, received_at));
        }
    }

    pub(crate) fn record(&self, offset: Offset) {
        *self.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(offset);
    }

    /// The latest offset measured.
    pub(crate) fn latest(&self) -> Option<Offset> {
        *self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The time to sign with: ours, corrected when correction is on and the offset significant.
    pub(crate) fn signing_time(&self, now: SystemTime) -> SystemTime {
        match self.latest() {
            Some(offset) if self.enabled && offset.is_significant() => offset.apply(now),
            _ => now,
        }
    }
}

/// Whether a 401's text says the signature expired (the gateway's words, in both auth variants).
pub(crate) fn says_signature_expired(status: u16, body: &[u8]) -> bool {
    status == 401
        && String::from_utf8_lossy(body)
            .to_ascii_lowercase()
            .contains("signature expired")
}

/// The `server time:YYYYMMDDTHHMMSSZ` the gateway's app-auth variant puts in its message.
pub(crate) fn server_time_in(body: &[u8]) -> Option<SystemTime> {
    let text = String::from_utf8_lossy(body);
    let (_, rest) = text.split_once("server time:")?;
    parse_sdk_date(rest.trim_start().get(..16)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_described_in_words() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let ahead = Offset::between(t + Duration::from_secs(2 * 3600 + 60), t);
        assert_eq!(
            ahead.describe(),
            "your clock is 2 h 01 min behind the gateway's"
        );
        let behind = Offset::between(t - Duration::from_secs(37 * 60), t);
        assert_eq!(
            behind.describe(),
            "your clock is 37 min ahead of the gateway's"
        );
        assert!(!Offset::between(t + Duration::from_secs(300), t).is_significant());
    }

    #[test]
    fn the_correction_is_capped_at_a_day() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let skew = ClockSkew::new(true);
        skew.record(Offset::between(t + Duration::from_secs(3 * 86_400), t));
        assert_eq!(skew.signing_time(t), t + MAX_CORRECTION);
        let off = ClockSkew::new(false);
        off.record(Offset::between(t + Duration::from_secs(7200), t));
        assert_eq!(off.signing_time(t), t);
    }

    #[test]
    fn the_gateways_words() {
        let body = br#"{"error_msg":"Incorrect app authentication information: signature expired, signature time:20230527T000431Z,server time:20230527T020608Z","error_code":"APIGW.0303"}"#;
        assert!(says_signature_expired(401, body));
        assert!(!says_signature_expired(403, body));
        assert_eq!(server_time_in(body), parse_sdk_date("20230527T020608Z"));
        assert_eq!(server_time_in(b"server time:garbage"), None);
        assert!(!says_signature_expired(401, b"verify aksk signature fail"));
    }
}
