//! Timing helpers shared by the benches: medians of many samples, with std only (no criterion:
//! its ~60 crates would dwarf this crate's build, and a median with its spread is all we report).

// Each bench uses only some of these helpers.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Median time of one call of `f`, over `samples` samples of `batch` calls each (after a warm-up).
pub fn median(samples: usize, batch: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..batch {
        f();
    }
    let mut times: Vec<Duration> = (0..samples)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..batch {
                f();
            }
            started.elapsed() / batch as u32
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Runs two measurements in alternation (so that drift hits both) and returns both medians.
pub fn compare(
    rounds: usize,
    mut ours: impl FnMut() -> Duration,
    mut reference: impl FnMut() -> Duration,
) -> (Duration, Duration) {
    let mut a = Vec::new();
    let mut b = Vec::new();
    for _ in 0..rounds {
        a.push(ours());
        b.push(reference());
    }
    a.sort();
    b.sort();
    (a[a.len() / 2], b[b.len() / 2])
}

/// Times `ours` and `reference` call by call, alternating, `pairs` times (after a warm-up), and
/// returns both medians: the fairest comparison when each call is long and the machine is noisy.
pub fn interleaved(
    pairs: usize,
    mut ours: impl FnMut(),
    mut reference: impl FnMut(),
) -> (Duration, Duration) {
    for _ in 0..pairs / 10 {
        ours();
        reference();
    }
    let mut a = Vec::with_capacity(pairs);
    let mut b = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        let started = Instant::now();
        ours();
        let middle = Instant::now();
        reference();
        a.push(middle - started);
        b.push(middle.elapsed());
    }
    a.sort();
    b.sort();
    (a[pairs / 2], b[pairs / 2])
}

pub fn report(name: &str, ours: Duration, reference_name: &str, reference: Duration, target: f64) {
    let ratio = ours.as_secs_f64() / reference.as_secs_f64();
    let verdict = if ratio <= target { "meets" } else { "MISSES" };
    println!(
        "{name}: {:.3} µs; {reference_name}: {:.3} µs; ratio {ratio:.3} ({verdict} target ≤ {target})",
        ours.as_secs_f64() * 1e6,
        reference.as_secs_f64() * 1e6,
    );
}
