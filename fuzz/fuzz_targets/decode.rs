//! The response decoder on arbitrary bytes: jobs or a typed error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(error) = dbss_jobs::parse_jobs(data) {
        assert_eq!(error.kind(), dbss_jobs::ErrorKind::Decode);
    }
});
