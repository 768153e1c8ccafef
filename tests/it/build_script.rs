//! The README's build-script recipe, built for real.

/// The README's build-script recipe (`tests/fixtures/build-script`), built for real, offline, in
/// `target/fixture-build-script`, with only `vars` set of the variables the crate reads. A listed
/// variable gets a new value each time, so that cargo runs the build script again.
pub(crate) fn build_the_recipe(vars: &[(&str, &str)]) -> std::process::Output {
    let _one_build_at_a_time = fixture_lock();
    build_the_recipe_in(vars, false)
}

/// The fixture's builds share a target directory: one test at a time builds (and runs) it.
fn fixture_lock() -> std::sync::MutexGuard<'static, ()> {
    static FIXTURE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    FIXTURE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whether this machine lets a test put a command in a network namespace of its own, with no
/// network at all (`unshare -n`, as root).
fn can_unshare_the_network() -> bool {
    std::process::Command::new("unshare")
        .args(["-n", "true"])
        .status()
        .is_ok_and(|status| status.success())
}

/// [`build_the_recipe`], inside a network namespace with no network when `offline`.
fn build_the_recipe_in(vars: &[(&str, &str)], offline: bool) -> std::process::Output {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = root.join("tests/fixtures/build-script");
    let recipe = std::fs::read_to_string(fixture.join("build.rs")).unwrap();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("```rust,no_run\n{recipe}```")),
        "the README's recipe and tests/fixtures/build-script/build.rs differ"
    );
    // The same versions as this crate, from the local cache.
    std::fs::copy(root.join("Cargo.lock"), fixture.join("Cargo.lock")).unwrap();
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or(format!("{home}/.cargo"));
    let rustup_home = std::env::var("RUSTUP_HOME").unwrap_or(format!("{home}/.rustup"));
    let mut command = if offline {
        let mut unshare = std::process::Command::new("unshare");
        unshare.args(["-n", env!("CARGO")]);
        unshare
    } else {
        std::process::Command::new(env!("CARGO"))
    };
    command
        .args(["build", "--offline"])
        .current_dir(&fixture)
        .env("CARGO_TARGET_DIR", fixture_target_dir())
        .env("CARGO_HOME", cargo_home)
        .env("RUSTUP_HOME", rustup_home)
        .env("HOME", "/nonexistent")
        .env_remove("DBSS_JOBS_ECS_METADATA")
        .env_remove("SSL_CERT_FILE");
    for (name, _) in std::env::vars() {
        if name.starts_with("HUAWEICLOUD_")
            || name.starts_with("DBSS_JOBS_")
            || name.ends_with("_PROXY")
            || name.ends_with("_proxy")
        {
            command.env_remove(name);
        }
    }
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    command.env("NO_PROXY", format!("rerun-{nanos}.invalid"));
    command.envs(vars.iter().copied());
    command.output().unwrap()
}

/// Where [`build_the_recipe`] builds: everything cargo writes for it is under here.
pub(crate) fn fixture_target_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fixture-build-script")
}

/// The README's build-script recipe, built for real without credentials: the build succeeds, with
/// one warning line that says why there are no jobs.
#[test]
fn the_readme_build_script_recipe_builds_without_credentials() {
    let output = build_the_recipe(&[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let warnings: Vec<&str> =
        stderr.lines().filter(|line| line.contains("DBSS jobs not read")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0]
            .contains("building with none: invalid input: no credentials found; tried environment"),
        "{stderr}"
    );
    assert!(warnings[0].contains("ECS metadata (turned off)"), "{stderr}");
}

#[test]
fn the_recipe_builds_offline_from_a_snapshot() {
    let dir = crate::support::TempDir::new("snapshot");
    let snapshot = dir.write(
        "jobs.json",
        r#"{"jobs":[{"job_id":"snap-1","status":"SUCCESS"},{"job_id":"snap-2","status":"FAIL"}]}"#,
    );
    let offline = can_unshare_the_network();
    if !offline {
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"notice: unshare -n is not available here; the snapshot build runs with the network\n",
        );
    }
    let _one_build_at_a_time = fixture_lock();
    let output =
        build_the_recipe_in(&[("DBSS_JOBS_SNAPSHOT", snapshot.to_str().unwrap())], offline);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("DBSS jobs not read"), "{stderr}");
    let binary = fixture_target_dir().join("debug/build-script-recipe");
    let run = std::process::Command::new(binary).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "2 DBSS job(s) known at build time: [\"snap-1\", \"snap-2\"]\n"
    );
}

#[test]
fn under_docs_rs_the_recipe_reads_nothing() {
    let output = build_the_recipe(&[
        ("DOCS_RS", "1"),
        ("HUAWEICLOUD_SDK_AK", "AK"),
        ("HUAWEICLOUD_SDK_SK", "SK"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "DBSS jobs not read, building with none: invalid input: docs.rs builds without network"
        ),
        "{stderr}"
    );
}

#[test]
fn a_snapshot_that_is_not_a_jobs_body_names_the_variable_and_the_file() {
    let dir = crate::support::TempDir::new("bad-snapshot");
    let snapshot = dir.write("jobs.json", "<html>502 Bad Gateway</html>");
    let output = build_the_recipe(&[("DBSS_JOBS_SNAPSHOT", snapshot.to_str().unwrap())]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warning = stderr
        .lines()
        .find(|line| line.contains("DBSS jobs not read"))
        .unwrap_or_else(|| panic!("{stderr}"));
    let wanted = format!(
        "DBSS_JOBS_SNAPSHOT names {}, which is not a {{\"jobs\":[...]}} body",
        snapshot.display()
    );
    assert!(warning.contains(&wanted), "{warning}");
    assert!(!warning.contains("http"), "{warning}");
}
