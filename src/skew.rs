//! Recovery from a wrong local clock, as the builder's docs (*A wrong clock*) state it: learned
//! only from a signature-expired 401, re-signed at most once in a client's life.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::sync::lock;
use crate::timestamps::{format_http_date, parse_sdk_date};

/// Offsets up to this are the gateway's tolerance's business, not ours.
const SIGNIFICANT: Duration = Duration::from_secs(5 * 60);
/// The correction never moves the signing time further than this.
const MAX_CORRECTION: Duration = Duration::from_secs(24 * 60 * 60);
/// The gateway accepts signatures this close to its clock.
const GATEWAY_WINDOW: Duration = Duration::from_secs(15 * 60);

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
            Ok(amount) => Offset { gateway_ahead: true, amount },
            Err(behind) => Offset { gateway_ahead: false, amount: behind.duration() },
        }
    }

    pub(crate) fn is_significant(self) -> bool {
        self.amount > SIGNIFICANT
    }

    /// Whether the capped correction reaches the gateway's window, with a minute to spare.
    fn within_reach(self) -> bool {
        self.amount.saturating_sub(MAX_CORRECTION) + Duration::from_secs(60) < GATEWAY_WINDOW
    }

    /// `time` moved by this offset, by at most 24 hours.
    fn apply(self, time: SystemTime) -> SystemTime {
        let amount = self.amount.min(MAX_CORRECTION);
        let moved =
            if self.gateway_ahead { time.checked_add(amount) } else { time.checked_sub(amount) };
        moved.unwrap_or(time)
    }

    /// `your clock is 2 h 01 min behind the gateway's`.
    pub(crate) fn describe(self) -> String {
        let minutes = (self.amount.as_secs() + 30) / 60;
        let (hours, minutes) = (minutes / 60, minutes % 60);
        let amount = match hours {
            0 => format!("{minutes} min"),
            _ => format!("{hours} h {minutes:02} min"),
        };
        let side = if self.gateway_ahead { "behind" } else { "ahead of" };
        format!("your clock is {amount} {side} the gateway's")
    }
}

/// The time an attempt was signed with, and whether a correction moved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SigningTime {
    pub(crate) time: SystemTime,
    pub(crate) corrected: bool,
}

/// What an expired-signature 401 tells.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Diagnosis {
    /// Why the signature expired, in words, when our clock is measurably off.
    pub(crate) note: Option<String>,
    /// Whether one re-signed attempt can pass.
    pub(crate) re_sign: bool,
}

/// The client's view of the gateway's clock.
#[derive(Debug, Default)]
pub(crate) struct ClockSkew {
    enabled: bool,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    correction: Option<Offset>,
    /// The one re-signed attempt of the client's life has been sent.
    re_signed: bool,
}

impl ClockSkew {
    pub(crate) fn new(enabled: bool) -> ClockSkew {
        ClockSkew { enabled, state: Mutex::new(State::default()) }
    }

    /// The time to sign with: ours, moved by the correction once one was learned.
    pub(crate) fn signing_time(&self, now: SystemTime) -> SigningTime {
        match lock(&self.state).correction {
            Some(offset) => SigningTime { time: offset.apply(now), corrected: true },
            None => SigningTime { time: now, corrected: false },
        }
    }

    /// Reads a 401 that says the signature expired: how far off our clock is, and whether to
    /// re-sign. `gateway` is its clock and `received_at` ours when the answer came; `sdk_date` is
    /// the `X-Sdk-Date` that was rejected.
    pub(crate) fn diagnose(
        &self,
        gateway: SystemTime,
        received_at: SystemTime,
        sdk_date: &str,
        signed: SigningTime,
    ) -> Diagnosis {
        let offset = Offset::between(gateway, received_at);
        let rejected = parse_sdk_date(sdk_date).unwrap_or(signed.time);
        if !Offset::between(gateway, rejected).is_significant() {
            return Diagnosis::default();
        }
        let times = format!("X-Sdk-Date {sdk_date}, gateway time {}", format_http_date(gateway));
        let note = Some(if offset.is_significant() {
            format!("{} ({times}): correct the clock", offset.describe())
        } else {
            format!("the client's clock correction no longer holds and is dropped ({times})")
        });
        Diagnosis { re_sign: self.decide(offset, signed), note }
    }

    /// Whether to re-sign: once in a client's life, when the correction can pass; a correction
    /// whose attempt expired too is dropped.
    fn decide(&self, offset: Offset, signed: SigningTime) -> bool {
        let mut state = lock(&self.state);
        if signed.corrected {
            state.correction = None;
            return false;
        }
        let re_sign =
            self.enabled && !state.re_signed && offset.is_significant() && offset.within_reach();
        if re_sign {
            state.correction = Some(offset);
            state.re_signed = true;
        }
        re_sign
    }

    /// Whether a signature made now would be refused for this offset, with no re-sign to save it.
    pub(crate) fn would_refuse(&self, offset: Offset) -> bool {
        let state = lock(&self.state);
        let corrected = state.correction.is_some()
            || (self.enabled && !state.re_signed && offset.within_reach());
        offset.amount > GATEWAY_WINDOW && !corrected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_described_in_words() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let ahead = Offset::between(t + Duration::from_secs(2 * 3600 + 60), t);
        assert_eq!(ahead.describe(), "your clock is 2 h 01 min behind the gateway's");
        let behind = Offset::between(t - Duration::from_secs(37 * 60), t);
        assert_eq!(behind.describe(), "your clock is 37 min ahead of the gateway's");
        assert!(!Offset::between(t + Duration::from_secs(300), t).is_significant());
    }

    fn expired_at(skew: &ClockSkew, gateway: SystemTime, signed: SigningTime) -> Diagnosis {
        skew.diagnose(gateway, signed.time, &sdk(signed.time), signed)
    }

    /// `YYYYMMDDTHHMMSSZ`, written here independently of the signer's formatter.
    fn sdk(time: SystemTime) -> String {
        let t = time::OffsetDateTime::from(time);
        format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }

    fn plain(time: SystemTime) -> SigningTime {
        SigningTime { time, corrected: false }
    }

    #[test]
    fn the_correction_is_capped_at_a_day_and_learned_only_when_it_can_pass() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let skew = ClockSkew::new(true);
        let reachable = t + MAX_CORRECTION + Duration::from_secs(10 * 60);
        assert!(expired_at(&skew, reachable, plain(t)).re_sign);
        let corrected = skew.signing_time(t);
        assert_eq!(corrected.time, t + MAX_CORRECTION);
        assert!(corrected.corrected);
        // A corrected attempt that expires too drops the correction; no second re-sign ever.
        let again = expired_at(&skew, t + Duration::from_secs(7200), corrected);
        assert!(!again.re_sign && again.note.is_some());
        assert_eq!(skew.signing_time(t), plain(t));
        assert!(!expired_at(&skew, t + Duration::from_secs(7200), plain(t)).re_sign);
    }

    #[test]
    fn a_clock_beyond_the_cap_or_correction_off_is_never_re_signed() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let far = ClockSkew::new(true);
        let two_days = expired_at(&far, t + 2 * MAX_CORRECTION, plain(t));
        assert!(!two_days.re_sign);
        assert!(two_days.note.unwrap().contains("48 h 00 min behind"));
        assert_eq!(far.signing_time(t), plain(t));
        let off = ClockSkew::new(false);
        assert!(!expired_at(&off, t + Duration::from_secs(7200), plain(t)).re_sign);
        assert_eq!(off.signing_time(t), plain(t));
        // An expired signature with a clock that is right is not ours to fix.
        assert_eq!(expired_at(&off, t + Duration::from_secs(60), plain(t)), Diagnosis::default());
    }
}
