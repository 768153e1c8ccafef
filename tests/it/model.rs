//! The `Job` model: tolerant of null and absence, keeps unknown enum values, ignores unknown
//! fields, serializes back to the API's shape.

use dbss_jobs::{ChargeMode, Job, JobStatus};
use serde_json::json;

fn parse(value: serde_json::Value) -> Job {
    serde_json::from_value(value).unwrap()
}

#[test]
fn every_field_may_be_null_or_absent() {
    assert_eq!(parse(json!({})), Job::default());
    let all_null = json!({
        "job_id": null, "status": null, "job_type": null, "server_id": null, "server_name": null,
        "resource_id": null, "begin_time": null, "end_time": null, "charge_mode": null,
        "error_code": null, "fail_reason": null, "ha_id": null, "ha_name": null
    });
    assert_eq!(parse(all_null), Job::default());
}

#[test]
fn unknown_enum_values_are_kept_and_unknown_fields_ignored() {
    let job = parse(json!({"status": "PAUSED", "charge_mode": "Spot", "new_field": {"x": 1}}));
    assert_eq!(job.status, Some(JobStatus::Unknown("PAUSED".into())));
    assert_eq!(job.charge_mode, Some(ChargeMode::Unknown("Spot".into())));
    let back = serde_json::to_value(&job).unwrap();
    assert_eq!(back["status"], "PAUSED");
    assert_eq!(back["charge_mode"], "Spot");
}

#[test]
fn every_documented_enum_value() {
    for (text, status, is_final) in [
        ("SUCCESS", JobStatus::Success, true),
        ("RUNNING", JobStatus::Running, false),
        ("FAIL", JobStatus::Fail, true),
        ("INIT", JobStatus::Init, false),
        ("READY", JobStatus::Ready, false),
    ] {
        assert_eq!(parse(json!({ "status": text })).status, Some(status.clone()));
        assert_eq!(status.is_final(), is_final, "{text}");
        assert_eq!(status.to_string(), text);
    }
    assert_eq!(parse(json!({"charge_mode": "Period"})).charge_mode, Some(ChargeMode::Period));
    assert_eq!(parse(json!({"charge_mode": "Demand"})).charge_mode, Some(ChargeMode::Demand));
}

#[test]
fn serializes_back_to_the_api_shape() {
    let original = json!({
        "job_id": "8abf9647852a1daa01852e517e1a1a0b", "status": "SUCCESS", "job_type": null,
        "server_id": "0aa8f621-bc19-4822-b66d-7ab9ae3c8693", "server_name": "DBSS-qct-1220",
        "resource_id": "r-1", "begin_time": 1671519371000_i64, "end_time": 1671519417123_i64,
        "charge_mode": "Demand", "error_code": null, "fail_reason": null,
        "ha_id": "2c154fdd-0d43-47b7-9cf1-5236bf6a2ca7", "ha_name": null
    });
    let job = parse(original.clone());
    assert_eq!(serde_json::to_value(&job).unwrap(), original);
}

#[test]
fn times_are_epoch_milliseconds_in_utc() {
    // 0 ms is the epoch; -1 ms is the last millisecond of 1969 (both by definition of Unix time).
    let job = parse(json!({"begin_time": 0, "end_time": -1}));
    assert_eq!(job.begin_time, Some(time::OffsetDateTime::UNIX_EPOCH));
    assert_eq!(
        job.end_time,
        Some(time::OffsetDateTime::UNIX_EPOCH - time::Duration::milliseconds(1))
    );
}

#[test]
fn wrong_types_are_errors() {
    for bad in [
        json!({"begin_time": "abc"}),
        json!({"begin_time": 1.5}),
        json!({"begin_time": i64::MAX}),
        json!({"job_id": 1}),
        json!({"status": 3}),
    ] {
        assert!(serde_json::from_value::<Job>(bad.clone()).is_err(), "{bad}");
    }
}
