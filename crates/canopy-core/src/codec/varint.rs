//! The MLS variable-length integer (RFC 9420 §2.1.2), used as the length header of every
//! `<V>` vector.
//!
//! The two most significant bits of the first byte give the encoded size:
//!
//! | prefix | bytes | usable bits | minimal range          |
//! |--------|-------|-------------|------------------------|
//! | `00`   | 1     | 6           | 0 ..= 63               |
//! | `01`   | 2     | 14          | 64 ..= 16383           |
//! | `10`   | 4     | 30          | 16384 ..= 2^30 - 1     |
//! | `11`   | –     | –           | invalid, MUST reject   |
//!
//! Invariants: [`encode_varint`] always writes the minimal form and refuses values above
//! [`VARINT_MAX`]; [`decode_varint`] accepts only minimal forms, so every value has exactly one
//! encoding. Values above 2^30 - 1 can only be written with the `11` prefix (the 62-bit form of
//! RFC 9000), so on the decode side they are reported as [`CodecError::ReservedVarintPrefix`].

use super::CodecError;

/// RFC 9420 §2.1.2: the largest value a variable-length integer (and so a `<V>` vector length)
/// can carry, 2^30 - 1.
pub const VARINT_MAX: u32 = 0x3FFF_FFFF;

/// Smallest value that needs the 2-byte form.
const MIN_TWO_BYTE: u16 = 0x40;
/// Smallest value that needs the 4-byte form.
const MIN_FOUR_BYTE: u32 = 0x4000;

/// Number of bytes the minimal varint encoding of `value` takes, or `None` above [`VARINT_MAX`].
pub(crate) fn varint_len(value: usize) -> Option<usize> {
    let value = u32::try_from(value).ok()?;
    if value < u32::from(MIN_TWO_BYTE) {
        Some(1)
    } else if value < MIN_FOUR_BYTE {
        Some(2)
    } else if value <= VARINT_MAX {
        Some(4)
    } else {
        None
    }
}

/// The minimal variable-length encoding of a length (RFC 9420 §2.1.2), on the stack: the
/// header of a vector is written without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Varint {
    bytes: [u8; 4],
    len: usize,
}

impl Varint {
    /// Encodes `len`.
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] if `len` exceeds [`VARINT_MAX`] (2^30 - 1).
    pub(crate) fn new(len: usize) -> Result<Self, CodecError> {
        let value = u32::try_from(len).map_err(|_| CodecError::LengthTooLarge)?;
        if let Ok(one) = u8::try_from(value)
            && one < 0x40
        {
            Ok(Self {
                bytes: [one, 0, 0, 0],
                len: 1,
            })
        } else if let Ok(two) = u16::try_from(value)
            && two < 0x4000
        {
            let [a, b] = (two | 0x4000).to_be_bytes();
            Ok(Self {
                bytes: [a, b, 0, 0],
                len: 2,
            })
        } else if value <= VARINT_MAX {
            Ok(Self {
                bytes: (value | 0x8000_0000).to_be_bytes(),
                len: 4,
            })
        } else {
            Err(CodecError::LengthTooLarge)
        }
    }

    /// The encoded bytes (1, 2 or 4).
    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&self.bytes)
    }
}

/// RFC 9420 §2.1.2: appends the minimal variable-length encoding of `len` to `out`.
///
/// # Errors
///
/// [`CodecError::LengthTooLarge`] if `len` exceeds [`VARINT_MAX`] (2^30 - 1); `out` is then
/// left unchanged.
pub fn encode_varint(len: usize, out: &mut Vec<u8>) -> Result<(), CodecError> {
    out.extend_from_slice(Varint::new(len)?.as_slice());
    Ok(())
}

/// RFC 9420 §2.1.2: decodes one variable-length integer from the start of `bytes`.
///
/// Returns the value and the number of bytes it occupied (1, 2 or 4). Bytes after the
/// integer are ignored.
///
/// # Errors
///
/// - [`CodecError::Truncated`] if `bytes` ends before the integer does;
/// - [`CodecError::ReservedVarintPrefix`] if the first byte starts with `0b11` (this is also
///   the only way to express a value above 2^30 - 1, so no separate length check is needed);
/// - [`CodecError::NonMinimalVarint`] if the value would fit a shorter form.
///
/// The prefix is checked before the length of the input, so a lone `0xC0` byte is
/// `ReservedVarintPrefix`, not `Truncated`.
pub fn decode_varint(bytes: &[u8]) -> Result<(u32, usize), CodecError> {
    let (&first, rest) = bytes.split_first().ok_or(CodecError::Truncated)?;
    let high = first & 0x3F;
    match first & 0xC0 {
        0x00 => Ok((u32::from(high), 1)),
        0x40 => {
            let &second = rest.first().ok_or(CodecError::Truncated)?;
            let value = u16::from_be_bytes([high, second]);
            if value < MIN_TWO_BYTE {
                return Err(CodecError::NonMinimalVarint);
            }
            Ok((u32::from(value), 2))
        }
        0x80 => {
            let tail: [u8; 3] = rest
                .get(..3)
                .and_then(|t| t.try_into().ok())
                .ok_or(CodecError::Truncated)?;
            let [b1, b2, b3] = tail;
            let value = u32::from_be_bytes([high, b1, b2, b3]);
            if value < MIN_FOUR_BYTE {
                return Err(CodecError::NonMinimalVarint);
            }
            Ok((value, 4))
        }
        _ => Err(CodecError::ReservedVarintPrefix),
    }
}

/// Splits a `<V>` vector off the front of `bytes`: decodes the length header, checks that
/// the whole body is present and returns `(body, rest)`.
///
/// The body is bounded by the input before anything is allocated, so a forged length can
/// never cause an allocation larger than the input.
pub(crate) fn split_vector(bytes: &[u8]) -> Result<(&[u8], &[u8]), CodecError> {
    let (len, used) = decode_varint(bytes)?;
    let after_header = bytes.get(used..).ok_or(CodecError::Truncated)?;
    let len = usize::try_from(len).map_err(|_| CodecError::LengthTooLarge)?;
    after_header
        .split_at_checked(len)
        .ok_or(CodecError::Truncated)
}
