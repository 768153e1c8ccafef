//! The README's build-script recipe, built for real.

/// The README's build-script recipe (`tests/fixtures/build-script`), built for real, offline, in
/// `target/fixture-build-script`, with only `vars` set of the variables the crate reads. A listed
/// variable gets a new value each time, so that cargo runs the build script again.
pub(crate) fn build_the_recipe(vars: &[(&str, &str)]) -> std::process::Output {
    let _one_build_at_a_time = fixture_lock();
    build_the_recipe_in(vars, Build::default())
}

/// How [`build_the_recipe_in`] builds, besides the variables.
#[derive(Default, Clone, Copy)]
struct Build {
    /// In a network namespace with no network.
    offline: bool,
    /// With nothing changed that cargo watches: the build script runs only if cargo finds a
    /// reason of its own.
    unchanged: bool,
    /// From another directory than the package's, with `--manifest-path`.
    from_elsewhere: bool,
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

/// [`build_the_recipe`], as `build` says.
fn build_the_recipe_in(vars: &[(&str, &str)], build: Build) -> std::process::Output {
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
    let mut command = if build.offline {
        let mut unshare = std::process::Command::new("unshare");
        unshare.args(["-n", env!("CARGO")]);
        unshare
    } else {
        std::process::Command::new(env!("CARGO"))
    };
    let manifest = fixture.join("Cargo.toml");
    let cwd = if build.from_elsewhere { std::env::temp_dir() } else { fixture.clone() };
    command
        .args(["build", "--offline", "--manifest-path", manifest.to_str().unwrap()])
        .current_dir(cwd)
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
    let rerun = if build.unchanged { 0 } else { nanos };
    command.env("NO_PROXY", format!("rerun-{rerun}.invalid"));
    command.envs(vars.iter().copied());
    command.output().unwrap()
}

/// Where [`build_the_recipe`] builds: everything cargo writes for it is under here.
pub(crate) fn fixture_target_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fixture-build-script")
}

/// The jobs the recipe's binary was built with, as it prints them.
fn built_jobs() -> String {
    let binary = fixture_target_dir().join("debug/build-script-recipe");
    String::from_utf8_lossy(&std::process::Command::new(binary).output().unwrap().stdout).into()
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
    let wanted = "building with none: no credentials, and no DBSS_JOBS_SNAPSHOT";
    assert!(warnings[0].contains(wanted), "{stderr}");
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
    let build = Build { offline, ..Build::default() };
    let output = build_the_recipe_in(&[("DBSS_JOBS_SNAPSHOT", snapshot.to_str().unwrap())], build);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("DBSS jobs not read"), "{stderr}");
    assert_eq!(built_jobs(), "2 DBSS job(s) known at build time: [\"snap-1\", \"snap-2\"]\n");
}

/// A relative `DBSS_JOBS_SNAPSHOT` is relative to the package being built, wherever cargo runs.
#[test]
fn a_relative_snapshot_is_relative_to_the_package() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/relative-snapshot");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("jobs.json"), r#"{"jobs":[{"job_id":"rel-1"}]}"#).unwrap();
    let _one_build_at_a_time = fixture_lock();
    let build = Build { from_elsewhere: true, ..Build::default() };
    let relative = "../../../target/relative-snapshot/jobs.json";
    let output = build_the_recipe_in(&[("DBSS_JOBS_SNAPSHOT", relative)], build);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(built_jobs(), "1 DBSS job(s) known at build time: [\"rel-1\"]\n");
}

/// A failed live read does not stick: built again with nothing changed, once the service is
/// back, the recipe reads the jobs; built again after that, it is not rerun.
#[test]
fn a_failed_live_read_is_read_again_by_the_next_build() {
    use dbss_jobs::fake::{FakeDbss, Reply, Step, job};
    let fake = FakeDbss::start().unwrap();
    let down = Step::Reply(Reply::new(503, "{}"));
    let up = Step::Jobs(vec![job("live-1", dbss_jobs::JobStatus::Success)]);
    fake.set_script("my-instance-id", vec![down.clone(), down.clone(), down, up]);
    let url = fake.url();
    let vars = [
        ("HUAWEICLOUD_SDK_AK", FakeDbss::ACCESS_KEY),
        ("HUAWEICLOUD_SDK_SK", FakeDbss::SECRET_KEY),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "p"),
        ("HUAWEICLOUD_SDK_REGION_DBSS_CN_NORTH_4", url.as_str()),
    ];
    let _one_build_at_a_time = fixture_lock();
    let first = build_the_recipe_in(&vars, Build::default());
    let stderr = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{stderr}");
    assert!(stderr.contains("building with none (the next build reads again)"), "{stderr}");
    assert_eq!(built_jobs(), "0 DBSS job(s) known at build time: []\n");
    let unchanged = Build { unchanged: true, ..Build::default() };
    let second = build_the_recipe_in(&vars, unchanged);
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert_eq!(built_jobs(), "1 DBSS job(s) known at build time: [\"live-1\"]\n");
    let requests = fake.requests().len();
    let third = build_the_recipe_in(&vars, unchanged);
    assert!(third.status.success(), "{}", String::from_utf8_lossy(&third.stderr));
    assert_eq!(fake.requests().len(), requests, "a build that read its jobs is not rerun");
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
    let wanted = "DBSS jobs not read, building with none: docs.rs builds without network, and no \
                  DBSS_JOBS_SNAPSHOT";
    assert!(stderr.contains(wanted), "{stderr}");
}

/// A snapshot that was named but cannot be used fails the build, naming the variable and the
/// file: an offline CI must not ship a binary without its jobs because a file was not committed.
#[test]
fn a_missing_or_corrupt_snapshot_fails_the_build() {
    let dir = crate::support::TempDir::new("bad-snapshot");
    let corrupt = dir.write("jobs.json", "<html>502 Bad Gateway</html>");
    // A saved error answer, and JSON without the list: an answer's body would read as no jobs.
    let error = dir.write("error.json", r#"{"error_code":"DBSS.0001","error_msg":"m"}"#);
    let null = dir.write("null.json", r#"{"jobs":null}"#);
    let missing = corrupt.with_file_name("not-committed.json");
    let not_jobs = "which is not a {\"jobs\":[...]} body";
    let cases = [
        (&corrupt, not_jobs),
        (&error, not_jobs),
        (&null, not_jobs),
        (&missing, "which cannot be read"),
    ];
    for (snapshot, why) in cases {
        let output = build_the_recipe(&[("DBSS_JOBS_SNAPSHOT", snapshot.to_str().unwrap())]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        let wanted = format!("DBSS_JOBS_SNAPSHOT names {}, {why}", snapshot.display());
        assert!(stderr.contains(&wanted), "{stderr}");
        assert!(!stderr.contains("DBSS jobs not read"), "{stderr}");
    }
}

/// Set but empty is a snapshot asked for and not given (a CI variable that was not set).
#[test]
fn an_empty_snapshot_variable_fails_the_build() {
    let output = build_the_recipe(&[("DBSS_JOBS_SNAPSHOT", "")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("DBSS_JOBS_SNAPSHOT: is set but empty"), "{stderr}");
}

#[test]
fn a_snapshot_name_with_a_control_character_is_refused_escaped() {
    let output = build_the_recipe(&[("DBSS_JOBS_SNAPSHOT", "jobs.json\r")]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(r#"DBSS_JOBS_SNAPSHOT: "jobs.json\r" holds a control character"#),
        "{stderr}"
    );
    assert!(!stderr.contains('\r'), "{stderr:?}");
}
