//! Decoding a 10,000-job body (~3 MB) into `Vec<Job>`, against parsing the same bytes into a
//! `serde_json::Value`. Target ≤ 2×, and memory a small multiple of the body size at most.
//!
//! Run: `cargo bench --bench decode`

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts live and peak heap bytes, to report the memory each decode needs.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only counters are added.
// (The library itself forbids unsafe code; a global allocator cannot be written without it.)
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Heap bytes `f` needs at its peak, above what was live before.
fn peak_of<T>(f: impl FnOnce() -> T) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let value = f();
    let peak = PEAK.load(Ordering::Relaxed) - before;
    drop(value);
    peak
}

/// Jobs shaped like the service's (and the shared verify server's) answers.
fn body(count: usize) -> Vec<u8> {
    let jobs: Vec<String> = (0..count)
        .map(|n| {
            let failed = n % 7 == 0;
            format!(
                r#"{{"job_id":"ff8080818f0e4c2a018f0e5b7c{n:07}","status":"{}","job_type":null,"server_id":"00000000-0000-0000-0000-{n:012}","server_name":"DBSS-fake-{n:05}","resource_id":"dbss-instance-0001","begin_time":{},"end_time":{},"charge_mode":"Demand","error_code":{},"fail_reason":{},"ha_id":null,"ha_name":null}}"#,
                if failed { "FAIL" } else { "SUCCESS" },
                1_712_822_400_000_u64 + n as u64,
                1_712_822_700_000_u64 + n as u64,
                if failed { format!("\"DBSS.{:04}\"", n % 10_000) } else { "null".to_string() },
                if failed { "\"quota exceeded\"" } else { "null" },
            )
        })
        .collect();
    format!(r#"{{"jobs":[{}]}}"#, jobs.join(",")).into_bytes()
}

fn main() {
    let body = body(10_000);
    assert_eq!(dbss_jobs::parse_jobs(&body).unwrap().len(), 10_000);
    let (ours, reference) = support::compare(
        9,
        || {
            support::median(7, 3, || {
                black_box(dbss_jobs::parse_jobs(black_box(&body)).unwrap());
            })
        },
        || {
            support::median(7, 3, || {
                black_box(serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap());
            })
        },
    );
    println!("body: {} bytes, 10000 jobs", body.len());
    support::report("decode into Vec<Job>", ours, "serde_json::Value", reference, 2.0);
    let ours_peak = peak_of(|| dbss_jobs::parse_jobs(&body).unwrap());
    let value_peak = peak_of(|| serde_json::from_slice::<serde_json::Value>(&body).unwrap());
    println!(
        "peak heap: Vec<Job> {:.2} MB ({:.2}× the body); Value {:.2} MB ({:.2}× the body)",
        ours_peak as f64 / 1e6,
        ours_peak as f64 / body.len() as f64,
        value_peak as f64 / 1e6,
        value_peak as f64 / body.len() as f64,
    );
}
