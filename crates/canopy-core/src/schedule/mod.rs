//! The key schedule (RFC 9420 §8), pre-shared keys (§8.4), the exporter (§8.5), transcript
//! hashes (§8.2) and the secret tree with its sender ratchets (§9).
//!
//! ```text
//!              init_secret_[n-1]
//!                    |
//! commit_secret -> Extract            (salt = init_secret)
//!                    |
//!       ExpandWithLabel(., "joiner", GroupContext_[n], Nh)
//!                    |
//!              joiner_secret
//!                    |
//!  psk_secret  -> Extract             (salt = joiner_secret)
//!                    +--> DeriveSecret(., "welcome") = welcome_secret
//!                    |
//!       ExpandWithLabel(., "epoch", GroupContext_[n], Nh)
//!                    |
//!              epoch_secret --> DeriveSecret(., label) = sender data, encryption, exporter,
//!                    |          external, confirm, membership, resumption, authentication
//!       DeriveSecret(., "init") = init_secret_[n]
//! ```
//!
//! Invariants: secrets are [`Secret`](canopy_crypto::Secret)s (zeroized on drop, never
//! printed); the epoch secret itself is not retained once the epoch's secrets are derived; the
//! secret tree derives leaf secrets lazily and deletes every consumed node secret, ratchet
//! secret and key (forward secrecy, §9.2).

mod error;
mod key_schedule;
mod psk;
mod secret_tree;
mod transcript;

pub use error::ScheduleError;
pub use key_schedule::{EpochSecrets, JoinerSecrets, WelcomeKey, mls_exporter};
pub use psk::{PskInput, external_psk_id, psk_secret};
pub use secret_tree::{
    ContentKind, KeyAndNonce, OutOfOrderPolicy, PendingDecryption, RatchetKey, SecretTree,
    sender_data_key,
};
pub(crate) use secret_tree::{
    FrontierSecret, LeafRatchetsRecord, SecretTreeHeader, SecretTreeRecord,
};
pub use transcript::{
    confirmation_tag, confirmed_transcript_hash, confirmed_transcript_hash_of_parts,
    interim_transcript_hash, membership_tag, verify_mac,
};
