//! `deserialization.json`: the RFC 9420 §2.1.2 variable-length vector header.

use canopy_core::advanced::codec::{decode_varint, encode_varint};
use serde::Deserialize;

use super::{Hex, Outcome, expect_eq, outcome};

#[derive(Deserialize)]
pub(crate) struct Case {
    vlbytes_header: Hex,
    length: u64,
}

pub(crate) fn check(c: &Case) -> Outcome {
    outcome(run(c))
}

fn run(c: &Case) -> Result<(), String> {
    let (value, used) = decode_varint(&c.vlbytes_header).map_err(|e| format!("decode: {e}"))?;
    if u64::from(value) != c.length || used != c.vlbytes_header.len() {
        return Err(format!(
            "decoded {value} from {used} bytes, expected {}",
            c.length
        ));
    }
    let mut out = Vec::new();
    let len = usize::try_from(c.length).map_err(|e| e.to_string())?;
    encode_varint(len, &mut out).map_err(|e| format!("encode: {e}"))?;
    expect_eq("re-encoded header", &c.vlbytes_header, &out)
}
