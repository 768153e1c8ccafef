//! The `dbss-jobs` binary as a person runs it: a clean environment, the exit code checked.

use std::path::PathBuf;
use std::process::{Command, Output};

use super::Server;

/// The `dbss-jobs` binary, which `cargo test` builds with the tests (the dev-dependency on this
/// crate turns on its `cli` feature).
pub fn get_jobs() -> Command {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_dbss-jobs"));
    assert!(binary.exists(), "{} is not built", binary.display());
    let mut command = Command::new(binary);
    command
        .env_clear()
        .env("HOME", "/nonexistent")
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command
}

#[track_caller]
pub fn check_exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `dbss-jobs --wait` for `resource` against `server`, polling every 20 ms until `timeout`.
pub fn wait_with_the_cli(server: &Server, resource: &str, timeout: &str) -> Output {
    get_jobs()
        .args(["--endpoint", &server.url(), "--project-id", "p"])
        .args(["--wait", "--interval", "0.02", "--timeout", timeout, resource])
        .env("HUAWEICLOUD_SDK_AK", "CLI-AK")
        .env("HUAWEICLOUD_SDK_SK", "cli-sk")
        .output()
        .unwrap()
}
