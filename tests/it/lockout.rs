//! The lockout budget, swept: the gateway locks an AK/SK for 5 minutes after five failed signatures
//! in a row, so for every way a signature can be refused and every entry point, the client sends
//! at most one refused signature per call plus one re-signed attempt in a client's life, and never
//! enough to lock the AK within a scenario (the CLI's `--wait` and `--check` included). Against
//! Huawei's own signer (`../shared/oracle/verify_server.py --lockout-after 5`), with its clock
//! moved by `tests/data/oracle_clock.py` where the scenario needs a wrong clock.

use std::time::Duration;

use dbss_jobs::{Client, Credentials, WaitOptions};

use crate::support::get_jobs;
use crate::support::{AK, Oracle, SK};

const PROJECT: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const HOUR: i64 = 3600;

/// A way a signature can be refused.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    WrongSecretKey,
    ClockTwoHoursOff,
    ClockTwoDaysOff,
    DateAYearOff,
    IamLookupWithAWrongSecretKey,
}

const ALL: [Refusal; 5] = [
    Refusal::WrongSecretKey,
    Refusal::ClockTwoHoursOff,
    Refusal::ClockTwoDaysOff,
    Refusal::DateAYearOff,
    Refusal::IamLookupWithAWrongSecretKey,
];

impl Refusal {
    fn oracle(self) -> Oracle {
        let lockout = ["--lockout-after", "5", "--project-id", PROJECT];
        match self {
            Refusal::ClockTwoHoursOff => Oracle::start_with_clock(2 * HOUR, 0, &lockout),
            Refusal::ClockTwoDaysOff => Oracle::start_with_clock(48 * HOUR, 0, &lockout),
            Refusal::DateAYearOff => Oracle::start_with_clock(0, 365 * 24 * HOUR, &lockout),
            _ => Oracle::start(&lockout),
        }
    }

    fn secret_key(self) -> &'static str {
        match self {
            Refusal::WrongSecretKey | Refusal::IamLookupWithAWrongSecretKey => "not-the-secret-key",
            _ => SK,
        }
    }

    /// The project id is given, except when the scenario is the IAM lookup.
    fn project_id(self) -> Option<&'static str> {
        match self {
            Refusal::IamLookupWithAWrongSecretKey => None,
            _ => Some(PROJECT),
        }
    }

    fn client(self, oracle: &Oracle) -> Client {
        let mut builder = crate::support::client(oracle.url())
            .region("cn-north-4")
            .iam_endpoint(oracle.url())
            .environment([("HOME", "/nonexistent")])
            .auth(Credentials::new(AK, self.secret_key()).unwrap())
            .timeout(Duration::from_secs(10));
        if let Some(project_id) = self.project_id() {
            builder = builder.project_id(project_id);
        }
        builder.build().unwrap()
    }
}

/// The signed requests the oracle refused, after checking that the AK was never locked.
#[track_caller]
fn refused(oracle: &Oracle, refusal: Refusal) -> usize {
    // The log is written by another thread: give it a moment to catch up.
    std::thread::sleep(Duration::from_millis(200));
    let log = oracle.log();
    assert!(
        !log.contains("AK access failed to reach the limit"),
        "{refusal:?} locked the AK:\n{log}"
    );
    log.matches("=> 401").count()
}

#[track_caller]
fn check_budget(refusal: Refusal, calls: usize, refused: usize, expected: usize) {
    assert!(refused <= calls + 1, "{refusal:?}: {refused} refused signatures in {calls} calls");
    assert!(refused < 5, "{refusal:?}: {refused} would lock the AK");
    assert_eq!(refused, expected, "{refusal:?}");
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn get_jobs_keeps_to_the_lockout_budget() {
    for (refusal, expected) in ALL.into_iter().zip([3, 1, 3, 0, 3]) {
        let oracle = refusal.oracle();
        let client = refusal.client(&oracle);
        for _ in 0..3 {
            let _ = client.get_jobs("instance-1");
        }
        check_budget(refusal, 3, refused(&oracle, refusal), expected);
    }
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn wait_for_jobs_keeps_to_the_lockout_budget() {
    for (refusal, expected) in ALL.into_iter().zip([1, 1, 1, 0, 1]) {
        let oracle = refusal.oracle();
        let options = WaitOptions::default()
            .interval(Duration::from_millis(50))
            .timeout(Duration::from_millis(1500));
        // The oracle's second job stays RUNNING: an accepted wait polls until its deadline.
        let _ = refusal.client(&oracle).wait_for_jobs("instance-1", options, |_| {});
        check_budget(refusal, 1, refused(&oracle, refusal), expected);
    }
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn the_cli_wait_keeps_to_the_lockout_budget() {
    let flags = ["--wait", "--interval", "0.05", "--timeout", "1.5"];
    cli_keeps_to_the_budget(&flags, [1, 1, 1, 0, 1]);
}

#[test]
#[ignore = "needs DBSS_ORACLE_PYTHON (see CONTRIBUTING)"]
fn the_cli_check_keeps_to_the_lockout_budget() {
    // A clock two days off is seen by the unsigned probe: nothing is signed to fail.
    cli_keeps_to_the_budget(&["--check"], [1, 1, 0, 0, 1]);
}

/// The CLI with `flags`, once per refusal: at most one refused signature, plus the one re-sign.
fn cli_keeps_to_the_budget(flags: &[&str], expected: [usize; 5]) {
    for (refusal, expected) in ALL.into_iter().zip(expected) {
        let oracle = refusal.oracle();
        let mut command = get_jobs();
        command
            .args(["--region", "cn-north-4", "--endpoint", &oracle.url()])
            .args(flags)
            .env("HUAWEICLOUD_SDK_AK", AK)
            .env("HUAWEICLOUD_SDK_SK", refusal.secret_key())
            .env("HUAWEICLOUD_SDK_IAM_ENDPOINT", oracle.url());
        if let Some(project_id) = refusal.project_id() {
            command.args(["--project-id", project_id]);
        }
        let output = command.arg("instance-1").output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        check_budget(refusal, 1, refused(&oracle, refusal), expected);
    }
}
