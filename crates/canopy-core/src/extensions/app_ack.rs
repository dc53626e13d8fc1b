//! AppAck (draft-ietf-mls-extensions §AppAck): the application messages a member received in
//! the current epoch, by sender and generation, sent in an AppEphemeral proposal of the
//! `app_ack` component so that it enters the transcript with the commit.

use std::collections::BTreeMap;

use tls_codec::{TlsDeserializeBytes, TlsSerialize, TlsSize};

use crate::codec::{CodecError, VarVec};

/// `MessageRange`: the generations `first_generation..=last_generation` of `sender`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct MessageRange {
    /// `uint32 sender`: the sender's leaf index.
    pub sender: u32,
    /// `uint32 first_generation`.
    pub first_generation: u32,
    /// `uint32 last_generation` (inclusive).
    pub last_generation: u32,
}

/// `AppAck`: the ranges of messages received.
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct AppAck {
    /// `MessageRange received_ranges<V>`.
    pub received_ranges: VarVec<MessageRange>,
}

impl AppAck {
    /// Whether the ack covers message `generation` of `sender`.
    pub fn covers(&self, sender: u32, generation: u32) -> bool {
        self.received_ranges.as_slice().iter().any(|r| {
            r.sender == sender
                && r.first_generation <= generation
                && generation <= r.last_generation
        })
    }

    /// The encoded ack, the `data` of its AppEphemeral proposal.
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] for more than 2^30 bytes of ranges.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CodecError> {
        crate::codec::encode(self)
    }

    /// Decodes an ack (exactly; a range whose first generation is after its last is
    /// refused).
    ///
    /// # Errors
    /// [`CodecError`] for malformed bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CodecError> {
        let ack: Self = crate::codec::decode_exact(bytes)?;
        if ack
            .received_ranges
            .as_slice()
            .iter()
            .any(|r| r.first_generation > r.last_generation)
        {
            return Err(CodecError::Malformed(
                "MessageRange first_generation > last_generation".to_owned(),
            ));
        }
        Ok(ack)
    }
}

/// The messages received in one epoch, kept as disjoint ranges per sender: memory grows
/// with the gaps, not with the messages.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AckLog {
    /// Per sender, `first -> last` of disjoint, non-adjacent ranges.
    ranges: BTreeMap<u32, BTreeMap<u32, u32>>,
}

impl AckLog {
    /// Records message `generation` of `sender`, in O(log ranges).
    pub fn record(&mut self, sender: u32, generation: u32) {
        let ranges = self.ranges.entry(sender).or_default();
        let below = ranges
            .range(..=generation)
            .next_back()
            .map(|(&f, &l)| (f, l));
        if let Some((_, last)) = below
            && generation <= last
        {
            return;
        }
        let mut first = generation;
        let mut last = generation;
        if let Some((f, l)) = below
            && l.checked_add(1) == Some(generation)
        {
            first = f;
        }
        if let Some(next) = generation.checked_add(1)
            && let Some(l) = ranges.remove(&next)
        {
            last = l;
        }
        ranges.insert(first, last);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The ack of everything recorded, ranges sorted by sender and generation.
    pub fn to_ack(&self) -> AppAck {
        let ranges = self
            .ranges
            .iter()
            .flat_map(|(&sender, r)| {
                r.iter()
                    .map(move |(&first_generation, &last_generation)| MessageRange {
                        sender,
                        first_generation,
                        last_generation,
                    })
            })
            .collect();
        AppAck {
            received_ranges: VarVec(ranges),
        }
    }

    /// Forgets everything (a new epoch starts).
    pub fn clear(&mut self) {
        self.ranges.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranges_merge_and_the_ack_round_trips() {
        let mut log = AckLog::default();
        for g in [0, 1, 2, 5, 4, 9, 2, u32::MAX] {
            log.record(3, g);
        }
        log.record(1, 7);
        let ack = log.to_ack();
        let ranges: Vec<_> = ack
            .received_ranges
            .as_slice()
            .iter()
            .map(|r| (r.sender, r.first_generation, r.last_generation))
            .collect();
        assert_eq!(
            ranges,
            [
                (1, 7, 7),
                (3, 0, 2),
                (3, 4, 5),
                (3, 9, 9),
                (3, u32::MAX, u32::MAX)
            ]
        );
        assert!(ack.covers(3, 5) && !ack.covers(3, 3) && !ack.covers(2, 7));
        assert_eq!(AppAck::from_bytes(&ack.to_bytes().unwrap()).unwrap(), ack);
        let inverted = AppAck {
            received_ranges: VarVec(vec![MessageRange {
                sender: 0,
                first_generation: 2,
                last_generation: 1,
            }]),
        };
        assert!(AppAck::from_bytes(&inverted.to_bytes().unwrap()).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, rng_seed: proptest::test_runner::RngSeed::Fixed(9420), ..ProptestConfig::default() })]
        #[test]
        fn the_log_covers_exactly_what_was_recorded(gens in proptest::collection::vec(0u32..64, 0..80)) {
            let mut log = AckLog::default();
            for &g in &gens {
                log.record(0, g);
            }
            let ack = log.to_ack();
            for g in 0..66 {
                prop_assert_eq!(ack.covers(0, g), gens.contains(&g));
            }
            // Disjoint and not adjacent.
            for w in ack.received_ranges.as_slice().windows(2) {
                prop_assert!(w[0].last_generation + 1 < w[1].first_generation);
            }
        }
    }
}
