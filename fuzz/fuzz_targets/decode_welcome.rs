#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| canopy_testkit::fuzz::decode_welcome(data));
