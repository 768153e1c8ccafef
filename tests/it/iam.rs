//! The IAM project lookup and its cache, keyed on the whole identity and the endpoint.

use std::sync::atomic::{AtomicUsize, Ordering};

use dbss_jobs::{Client, Credentials};

use crate::support::{After, Server, respond};

/// An IAM stand-in that answers one project id to its first `successes` requests, then 401.
pub(crate) fn iam_stand_in(id: &'static str, successes: usize) -> Server {
    let served = AtomicUsize::new(0);
    Server::start(move |_, stream| {
        if served.fetch_add(1, Ordering::SeqCst) < successes {
            let body = format!(r#"{{"projects":[{{"id":"{id}","name":"cn-north-4"}}]}}"#);
            respond(stream, 200, &[], body.as_bytes());
        } else {
            respond(
                stream,
                401,
                &[],
                br#"{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information"}"#,
            );
        }
        After::KeepAlive
    })
}

fn iam_client(iam: &Server, ak: &str, sk: &str) -> Client {
    crate::support::client("https://dbss.example.com")
        .region("cn-north-4")
        .iam_endpoint(iam.url())
        .auth(Credentials::new(ak, sk).unwrap())
        .environment([("HOME", "/nonexistent")])
        .build()
        .unwrap()
}

#[test]
fn the_iam_cache_does_not_cross_endpoints() {
    let first = iam_stand_in("project-of-first", usize::MAX);
    let second = iam_stand_in("project-of-second", usize::MAX);
    let ak = "REVIEW-CACHE-ENDPOINT-AK";
    assert_eq!(iam_client(&first, ak, "sk").resolve_project_id().unwrap(), "project-of-first");
    assert_eq!(iam_client(&second, ak, "sk").resolve_project_id().unwrap(), "project-of-second");
    assert_eq!(second.requests().len(), 1);
}

#[test]
fn the_iam_cache_does_not_serve_another_secret_key() {
    // Accepts the first lookup only: a second identity with the same AK must be asked for.
    let iam = iam_stand_in("project-1", 1);
    let ak = "REVIEW-CACHE-SK-AK";
    assert_eq!(iam_client(&iam, ak, "right-sk").resolve_project_id().unwrap(), "project-1");
    assert_eq!(iam_client(&iam, ak, "right-sk").resolve_project_id().unwrap(), "project-1");
    let error = iam_client(&iam, ak, "wrong-sk").resolve_project_id().unwrap_err();
    assert_eq!(error.status(), Some(401), "{error}");
    assert_eq!(iam.requests().len(), 2);
}

#[test]
fn a_project_id_that_echoes_the_security_token_is_refused_unsent_and_unshown() {
    use dbss_jobs::fake::FakeDbss;
    use std::sync::{Arc, Mutex};
    const TOKEN: &str = "SECURITYTOKENCANARY0123456789abcdefXYZ";
    let fake = FakeDbss::start().unwrap();
    fake.add_project("cn-north-4", TOKEN);
    let credentials = Credentials::new(FakeDbss::ACCESS_KEY, FakeDbss::SECRET_KEY)
        .unwrap()
        .with_security_token(TOKEN)
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let client = fake
        .client()
        .auth(credentials)
        .on_request(move |request| log.lock().unwrap().push(request.to_string()))
        .build()
        .unwrap();
    let error = client.get_jobs("r").unwrap_err();
    assert_eq!(error.kind(), dbss_jobs::ErrorKind::Decode, "{error}");
    let lines = client.check(Some("r")).unwrap();
    let mut shown: Vec<String> = lines.iter().map(|line| line.text.clone()).collect();
    shown.push(format!("{error} {error:?}"));
    shown.extend(seen.lock().unwrap().iter().cloned());
    for text in shown {
        assert!(!text.contains(&TOKEN[..12]), "{text}");
    }
    // No request carried the echoed id.
    assert!(fake.requests().iter().all(|request| !request.target.contains(&TOKEN[..12])));
    assert!(fake.requests().iter().all(|request| !request.target.contains("/dbss/audit/")));
}

/// The IAM host of a region is the official SDKs' table's (huaweicloudsdkcore `auth/endpoint.py`):
/// the region's own where it lists one, else the global one, which six of the crate's DBSS
/// regions use. Seen by a request hook, sent to a proxy that refuses it (no name is resolved).
#[test]
fn the_iam_host_follows_the_official_sdks_table() {
    let proxy = format!("http://127.0.0.1:{}", crate::support::closed_port());
    let cases = [
        ("cn-north-4", "https://iam.cn-north-4.myhuaweicloud.com/"),
        ("ap-southeast-1", "https://iam.ap-southeast-1.myhuaweicloud.com/"),
        ("cn-south-4", "https://iam.myhuaweicloud.com/"),
        ("cn-north-11", "https://iam.myhuaweicloud.com/"),
        ("af-north-1", "https://iam.myhuaweicloud.com/"),
        ("ru-northwest-2", "https://iam.myhuaweicloud.com/"),
        ("cn-southwest-3", "https://iam.myhuaweicloud.com/"),
        ("ap-southeast-5", "https://iam.myhuaweicloud.com/"),
    ];
    for (region, iam) in cases {
        let urls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = urls.clone();
        let client = dbss_jobs::Client::builder()
            .region(region)
            .environment([("HUAWEICLOUD_SDK_AK", "AK"), ("HUAWEICLOUD_SDK_SK", "SK")])
            .ecs_metadata(false)
            .proxy(proxy.as_str())
            .retry(dbss_jobs::RetryPolicy::none())
            .on_request(move |request| seen.lock().unwrap().push(request.url.to_string()))
            .build()
            .unwrap();
        let error = client.get_jobs("r").unwrap_err();
        assert!(error.is_connect(), "{region}: {error}");
        let urls = urls.lock().unwrap();
        assert!(urls[0].starts_with(iam), "{region}: {urls:?}");
    }
}

/// A configured project needs no IAM: when IAM cannot confirm it (403 to a user without
/// `iam:projects:list`, 500, no answer), the check says so as a note and makes the jobs call, as
/// the plain call does; a project that is not the region's main one (a sub-project) is a note too.
#[test]
fn check_with_a_configured_project_makes_the_call_whatever_iam_says() {
    use dbss_jobs::fake::{FakeDbss, Reply, job};
    // Each trouble, the project configured, and whether IAM's answer confirms the credentials
    // (a 403 does not: any server can say it, whatever the signature).
    let iam_troubles = [
        (Some(Reply::new(403, "{}")), "p", false),
        (Some(Reply::new(500, "{}")), "p", false),
        (Some(Reply::close()), "p", false),
        (None, "cn-north-4_sub", true),
    ];
    for (trouble, project, confirms) in iam_troubles {
        let note = match &trouble {
            Some(_) => "note: IAM did not confirm it (a configured project needs no IAM)",
            None => "note: not cn-north-4's main project",
        };
        let fake = FakeDbss::start().unwrap();
        fake.set_jobs("r", vec![vec![job("j1", dbss_jobs::JobStatus::Success)]]);
        if let Some(reply) = trouble {
            for _ in 0..6 {
                fake.inject_iam(reply.clone());
            }
        }
        let client = fake.client().project_id(project).build().unwrap();
        assert_eq!(client.get_jobs("r").unwrap().len(), 1);
        let lines = client.check(Some("r")).unwrap();
        let failed: Vec<_> = lines.iter().filter(|line| !line.ok).collect();
        assert!(failed.is_empty(), "{lines:#?}");
        let project_line =
            lines.iter().find(|line| line.topic == dbss_jobs::Topic::Project).unwrap();
        assert!(project_line.text.contains(note), "{project_line:?}");
        let call = lines.iter().find(|line| line.topic == dbss_jobs::Topic::Call).unwrap();
        assert!(call.text.starts_with("1 job(s) listed"), "{call:?}");
        // Without the jobs call, only IAM's answer can confirm the credentials.
        let lines = client.check(None).unwrap();
        assert_eq!(lines.iter().any(|line| !line.ok), !confirms, "{lines:#?}");
    }
}

/// When the jobs call works, what failed before it is a note: an IAM host that does not resolve
/// (a VPC that reaches DBSS and not IAM) fails neither the check nor the call.
#[test]
fn check_notes_an_unresolvable_iam_host_when_the_call_works() {
    use dbss_jobs::fake::FakeDbss;
    let fake = FakeDbss::start().unwrap();
    let iam = format!("https://{}.example", crate::support::unresolvable_host());
    let client = || fake.client().project_id("p").iam_endpoint(iam.as_str()).build().unwrap();
    client().get_jobs("r").unwrap();
    let lines = client().check(Some("r")).unwrap();
    assert!(lines.iter().all(|line| line.ok), "{lines:#?}");
    let address = lines.iter().find(|line| line.text.contains("IAM did not confirm it")).unwrap();
    assert!(address.text.contains("; note: IAM did not confirm it"), "{address:?}");
    // Without the jobs call, nothing shows the set-up works: the same failure stands.
    let lines = client().check(None).unwrap();
    assert!(lines.iter().any(|line| !line.ok), "{lines:#?}");
}

/// Without a resource id no jobs call follows, so a configured project's IAM lookup gets the
/// whole time (it got half, and a slow IAM failed a check whose call works).
#[test]
fn check_without_a_call_gives_iam_all_the_time() {
    use dbss_jobs::fake::{FakeDbss, Reply};
    let fake = FakeDbss::start().unwrap();
    let projects =
        serde_json::json!({"projects": [{"id": FakeDbss::PROJECT_ID, "name": "cn-north-4"}]});
    // About 300 bytes with the head, one every 6 ms: the answer takes about 1.8 s of the 3 s.
    let body = format!("{projects}{}", " ".repeat(100));
    fake.inject_iam(Reply::new(200, body).drip(std::time::Duration::from_millis(6)));
    let timeout = std::time::Duration::from_secs(3);
    let client = fake.client().project_id(FakeDbss::PROJECT_ID).timeout(timeout).build().unwrap();
    let lines = client.check(None).unwrap();
    assert!(lines.iter().all(|line| line.ok), "{lines:#?}");
    let project = lines.iter().find(|line| line.topic == dbss_jobs::Topic::Project).unwrap();
    assert!(project.text.ends_with("IAM agrees it is cn-north-4's"), "{project:?}");
}
