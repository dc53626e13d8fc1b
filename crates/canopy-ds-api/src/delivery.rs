//! The body of an inbox read ([`crate::DELIVERIES`]): the concatenation of [`Delivery`]
//! records, each in the TLS presentation language of RFC 9420 (`<V>` is the variable-length
//! size of §2.1.2):
//!
//! ```text
//! struct {
//!     uint8 kind;          // 1: a message of a group's log, 2: a Welcome
//!     opaque group_id<V>;  // empty for a Welcome
//!     uint64 seq;          // position in the group's log, or in the device's Welcome queue
//!     opaque message<V>;   // one MLSMessage
//! } Delivery;
//! ```

/// What a delivery is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryKind {
    /// A message of a group's log (handshake or application).
    Group,
    /// A Welcome from the device's personal queue.
    Welcome,
}

/// One delivered message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Group message or Welcome.
    pub kind: DeliveryKind,
    /// The group (empty for a Welcome).
    pub group_id: Vec<u8>,
    /// Its position: acknowledge up to it.
    pub seq: u64,
    /// The `MLSMessage`.
    pub message: Vec<u8>,
}

/// Why a delivery batch did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The body ends inside a record.
    Truncated,
    /// An unknown kind byte.
    Kind(u8),
    /// A size that is not the shortest, or uses the reserved two-bit prefix.
    BadSize,
}

const MAX_VARINT: usize = (1 << 30) - 1;

fn put_varint(out: &mut Vec<u8>, len: usize) {
    // Sizes above 2^30 - 1 cannot be written; the server never makes such a record.
    let len = len.min(MAX_VARINT);
    if len < 1 << 6 {
        out.push(u8::try_from(len).unwrap_or(0));
    } else if len < 1 << 14 {
        out.extend_from_slice(&(u16::try_from(len).unwrap_or(0) | 0x4000).to_be_bytes());
    } else {
        out.extend_from_slice(&(u32::try_from(len).unwrap_or(0) | 0x8000_0000).to_be_bytes());
    }
}

impl Delivery {
    /// Appends the record to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(match self.kind {
            DeliveryKind::Group => 1,
            DeliveryKind::Welcome => 2,
        });
        put_varint(out, self.group_id.len());
        out.extend_from_slice(&self.group_id);
        out.extend_from_slice(&self.seq.to_be_bytes());
        put_varint(out, self.message.len());
        out.extend_from_slice(&self.message);
    }

    /// The records of a body.
    ///
    /// # Errors
    /// A [`DecodeError`] for the first record that does not decode.
    pub fn decode_all(mut body: &[u8]) -> Result<Vec<Self>, DecodeError> {
        let mut out = Vec::new();
        while !body.is_empty() {
            let (d, rest) = Self::decode_one(body)?;
            out.push(d);
            body = rest;
        }
        Ok(out)
    }

    fn decode_one(body: &[u8]) -> Result<(Self, &[u8]), DecodeError> {
        let (&kind, rest) = body.split_first().ok_or(DecodeError::Truncated)?;
        let kind = match kind {
            1 => DeliveryKind::Group,
            2 => DeliveryKind::Welcome,
            k => return Err(DecodeError::Kind(k)),
        };
        let (group_id, rest) = take_opaque(rest)?;
        let (seq, rest) = rest
            .split_first_chunk::<8>()
            .ok_or(DecodeError::Truncated)?;
        let (message, rest) = take_opaque(rest)?;
        Ok((
            Self {
                kind,
                group_id: group_id.to_vec(),
                seq: u64::from_be_bytes(*seq),
                message: message.to_vec(),
            },
            rest,
        ))
    }
}

fn take_opaque(body: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    let first = *body.first().ok_or(DecodeError::Truncated)?;
    let (len, width) = match first >> 6 {
        0 => (usize::from(first), 1),
        1 => {
            let b: [u8; 2] = body
                .get(..2)
                .and_then(|s| s.try_into().ok())
                .ok_or(DecodeError::Truncated)?;
            (usize::from(u16::from_be_bytes(b) & 0x3fff), 2)
        }
        2 => {
            let b: [u8; 4] = body
                .get(..4)
                .and_then(|s| s.try_into().ok())
                .ok_or(DecodeError::Truncated)?;
            let v = u32::from_be_bytes(b) & 0x3fff_ffff;
            (usize::try_from(v).map_err(|_| DecodeError::BadSize)?, 4)
        }
        _ => return Err(DecodeError::BadSize),
    };
    let shortest = match width {
        1 => true,
        2 => len >= 1 << 6,
        _ => len >= 1 << 14,
    };
    if !shortest {
        return Err(DecodeError::BadSize);
    }
    let rest = body.get(width..).ok_or(DecodeError::Truncated)?;
    if rest.len() < len {
        return Err(DecodeError::Truncated);
    }
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn delivery() -> impl Strategy<Value = Delivery> {
        (
            any::<bool>(),
            proptest::collection::vec(any::<u8>(), 0..80),
            any::<u64>(),
            proptest::collection::vec(any::<u8>(), 0..20_000),
        )
            .prop_map(|(welcome, group_id, seq, message)| Delivery {
                kind: if welcome {
                    DeliveryKind::Welcome
                } else {
                    DeliveryKind::Group
                },
                group_id,
                seq,
                message,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn batches_round_trip(batch in proptest::collection::vec(delivery(), 0..5)) {
            let mut body = Vec::new();
            for d in &batch {
                d.encode(&mut body);
            }
            prop_assert_eq!(Delivery::decode_all(&body).unwrap(), batch.clone());
            // Every strict prefix that cuts a record is refused.
            if !body.is_empty() {
                let cut = body.len() - 1;
                prop_assert!(Delivery::decode_all(&body[..cut]).is_err());
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Delivery::decode_all(&body);
        }
    }

    #[test]
    fn refuses_unknown_kinds_and_long_sizes() {
        assert_eq!(Delivery::decode_all(&[3]), Err(DecodeError::Kind(3)));
        // group_id size 0 written in two bytes.
        assert_eq!(
            Delivery::decode_all(&[1, 0x40, 0]),
            Err(DecodeError::BadSize)
        );
        assert_eq!(Delivery::decode_all(&[1, 0xc0]), Err(DecodeError::BadSize));
    }
}
