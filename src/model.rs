//! The jobs as the API returns them (`JobBean`): every field an `Option` (null or absent), times
//! epoch milliseconds read as UTC, unknown enum values kept, unknown fields ignored.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

/// One creation job of a DBSS audit instance; serializes back to the API's JSON shape (absent
/// values as `null`, times as epoch milliseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Job {
    /// Job id.
    pub job_id: Option<String>,
    /// Job state.
    pub status: Option<JobStatus>,
    /// Job type (deprecated by the service).
    pub job_type: Option<String>,
    /// Id of the instance's server.
    pub server_id: Option<String>,
    /// Name of the instance's server.
    pub server_name: Option<String>,
    /// Id of the audit instance.
    pub resource_id: Option<String>,
    /// When the job started.
    #[serde(with = "epoch_millis")]
    pub begin_time: Option<OffsetDateTime>,
    /// When the job ended.
    #[serde(with = "epoch_millis")]
    pub end_time: Option<OffsetDateTime>,
    /// Billing mode of the instance.
    pub charge_mode: Option<ChargeMode>,
    /// Error code of a failed job.
    pub error_code: Option<String>,
    /// Why a job failed.
    pub fail_reason: Option<String>,
    /// HA id (deprecated by the service).
    pub ha_id: Option<String>,
    /// HA name (deprecated by the service).
    pub ha_name: Option<String>,
}

/// The state of a job; a status the service adds later arrives as [`JobStatus::Unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum JobStatus {
    /// `SUCCESS`: finished and succeeded.
    Success,
    /// `RUNNING`: in progress.
    Running,
    /// `FAIL`: finished and failed; see [`Job::error_code`] and [`Job::fail_reason`].
    Fail,
    /// `INIT`: created, not started.
    Init,
    /// `READY`: ready to run.
    Ready,
    /// A value this version of the crate does not know, kept as sent.
    Unknown(String),
}

/// How the instance is billed. Non-exhaustive, as [`JobStatus`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum ChargeMode {
    /// `Period`: yearly or monthly.
    Period,
    /// `Demand`: pay per use.
    Demand,
    /// A value this version of the crate does not know, kept as sent.
    Unknown(String),
}

impl JobStatus {
    /// True for `SUCCESS` and `FAIL`: the job will not change any more.
    pub fn is_final(&self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Fail)
    }
}

/// `as_str`, `Display` and the `String` conversions of an enum the API spells as text.
macro_rules! spelled {
    ($name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        impl $name {
            /// The value as the API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Unknown(other) => other,
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $($text => $name::$variant,)*
                    _ => $name::Unknown(value),
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.as_str().to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

spelled!(JobStatus {
    Success = "SUCCESS",
    Running = "RUNNING",
    Fail = "FAIL",
    Init = "INIT",
    Ready = "READY",
});
spelled!(ChargeMode { Period = "Period", Demand = "Demand" });

/// The 200 body: `{"jobs": [...]}`; a missing or null `jobs` is no jobs, as in the official SDKs.
#[derive(Debug, Deserialize)]
struct JobsBody {
    #[serde(default)]
    jobs: Option<Vec<ObjectOnly<Job>>>,
}

/// Reads the 200 body; only JSON objects are accepted where the API has objects.
pub(crate) fn jobs_from_slice(body: &[u8]) -> Result<Vec<Job>, serde_json::Error> {
    let ObjectOnly(body) = serde_json::from_slice::<ObjectOnly<JobsBody>>(body)?;
    Ok(body.jobs.unwrap_or_default().into_iter().map(|ObjectOnly(job)| job).collect())
}

/// A JSON object only: derived deserializers also accept an array of the fields, never sent.
#[derive(Debug)]
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectVisitor<T> {
            type Value = ObjectOnly<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(ObjectOnly)
            }
        }

        deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

/// Epoch milliseconds <-> `Option<OffsetDateTime>`.
mod epoch_millis {
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};
    use time::OffsetDateTime;

    pub(super) fn serialize<S: Serializer>(
        value: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            // In range by construction: every OffsetDateTime fits in i64 milliseconds.
            Some(time) => match i64::try_from(time.unix_timestamp_nanos() / 1_000_000) {
                Ok(millis) => serializer.serialize_i64(millis),
                Err(_) => Err(serde::ser::Error::custom("time out of range")),
            },
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        let Some(millis) = Option::<i64>::deserialize(deserializer)? else {
            return Ok(None);
        };
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .map(Some)
            .map_err(|_| D::Error::custom(format!("epoch milliseconds {millis} out of range")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Year 1 to year 9999, in epoch milliseconds (the range `time` represents by default).
    const MIN_MILLIS: i64 = -62_135_596_800_000;
    const MAX_MILLIS: i64 = 253_402_300_799_999;

    fn time() -> impl Strategy<Value = Option<OffsetDateTime>> {
        proptest::option::of((MIN_MILLIS..=MAX_MILLIS).prop_map(|ms| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap()
        }))
    }

    fn text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(any::<String>())
    }

    fn status() -> impl Strategy<Value = Option<JobStatus>> {
        let known = prop_oneof![
            Just("SUCCESS"),
            Just("RUNNING"),
            Just("FAIL"),
            Just("INIT"),
            Just("READY")
        ];
        let any_text = prop_oneof![known.prop_map(String::from), any::<String>()];
        proptest::option::of(any_text.prop_map(JobStatus::from))
    }

    fn charge_mode() -> impl Strategy<Value = Option<ChargeMode>> {
        let any_text =
            prop_oneof![Just("Period".to_string()), Just("Demand".to_string()), any::<String>()];
        proptest::option::of(any_text.prop_map(ChargeMode::from))
    }

    fn job() -> impl Strategy<Value = Job> {
        (
            (text(), status(), text(), text(), text(), text()),
            (time(), time(), charge_mode(), text(), text(), text(), text()),
        )
            .prop_map(|(a, b)| Job {
                job_id: a.0,
                status: a.1,
                job_type: a.2,
                server_id: a.3,
                server_name: a.4,
                resource_id: a.5,
                begin_time: b.0,
                end_time: b.1,
                charge_mode: b.2,
                error_code: b.3,
                fail_reason: b.4,
                ha_id: b.5,
                ha_name: b.6,
            })
    }

    proptest! {
        #[test]
        fn job_to_json_to_job_is_identity(job in job()) {
            let json = serde_json::to_vec(&job).unwrap();
            let back: Job = serde_json::from_slice(&json).unwrap();
            prop_assert_eq!(back, job);
        }
    }
}
