//! The log reader on arbitrary bytes: it must never panic, and whatever it returns must
//! be a header plus whole records. Run with `cargo fuzz run read_log` from crates/runlog.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(log) = chokepoint_runlog::read_log(data) {
        for (k, t) in log.ticks.iter().enumerate() {
            assert_eq!(t.tick, k as u64, "ticks are consecutive from 0");
        }
    }
});
