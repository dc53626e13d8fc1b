//! Joining a group (RFC 9420 §12.4.3): the Welcome's GroupSecrets and encrypted GroupInfo,
//! GroupInfo signatures, and the joiner's confirmation-tag check.
//!
//! ```text
//!  Welcome ──open_group_secrets(KeyPackageRef, init key)──> GroupSecrets
//!                                                             │ lists the PSKs needed
//!  Welcome + GroupSecrets + PSK values ──open_group_info──> GroupInfo (unverified), JoinerSecrets
//!                                                             │ signer's key from the tree
//!                                         verify_group_info ──┤
//!                                   verify_confirmation_tag ──┴──> EpochSecrets of the new epoch
//! ```
//!
//! Each step needs something only the caller has (the KeyPackage's private key, PSK values
//! from its store, the ratchet tree that holds the signer's key), so the steps are separate
//! functions and nothing is looked up here. The sending side is [`sign_group_info`] and
//! [`seal_welcome`], which prepares the HPKE context over the encrypted GroupInfo once for
//! all recipients and seals many recipients in parallel.

mod error;
mod group_info;
mod welcome;

#[cfg(test)]
mod tests;

pub use error::JoinError;
pub use group_info::{sign_group_info, verify_confirmation_tag, verify_group_info};
pub(crate) use welcome::open_group_secrets_with;
pub use welcome::{
    WelcomeRecipient, open_group_info, open_group_secrets, psk_secret_of, seal_welcome,
};
