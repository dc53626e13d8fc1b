#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| canopy_testkit::fuzz::pq_kem(data));
