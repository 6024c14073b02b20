#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The repository root, so that the seeds' `data/accounts.csv` is found and read.
    perfgate_fuzz::profile(data, Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")))
});
