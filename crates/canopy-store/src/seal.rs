//! Values sealed at rest with XChaCha20-Poly1305 (RustCrypto `chacha20poly1305`), each bound
//! to its row by the associated data.
//!
//! A sealed value is `0x01 || nonce (24 bytes, random) || ciphertext || tag (16 bytes)`: 41
//! bytes more than the plaintext. 192-bit random nonces make a collision negligible for any
//! number of writes a database will see, so no nonce counter has to be stored (and kept
//! crash-consistent).
//!
//! The associated data is
//! `"canopy-store v1\0" || store id (16 bytes) || row`, where the store id is random per
//! database and `row` is one of
//!
//! | row | bytes |
//! |---|---|
//! | group record | `0x01 \|\| len(group id) (u64) \|\| group id \|\| kind code (u8) \|\| epoch (u64) \|\| index (u32)` |
//! | table value | `0x02 \|\| table code (u8) \|\| key` |
//! | key check | `0x03` |
//!
//! (integers big-endian), so a value opens only in the row it was written to, in the
//! database it was written to.

use std::fmt;

use canopy_core::group::RecordKey;
use canopy_crypto::Secret;
use chacha20poly1305::{AeadInOut, Key, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::{StoreError, Table};

/// The format byte of a sealed value.
const SEALED_V1: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;
/// The length of a database's random id.
pub(crate) const STORE_ID_LEN: usize = 16;
const AAD_PREFIX: &[u8] = b"canopy-store v1\0";
/// The plaintext of the key-check row.
const KEY_CHECK: &[u8] = b"canopy-store key check";

/// A 32-byte key that encrypts a store's values at rest, supplied by the application (for
/// example from the platform keystore). Wiped from memory on drop; never printed.
///
/// Keep it outside the database: whoever has both can read every secret in the store.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct EncryptionKey([u8; 32]);

impl EncryptionKey {
    /// The key `bytes`. The caller should wipe its own copy.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key in `bytes`, if it is 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey(<redacted>)")
    }
}

/// The row a value belongs to, bound into its associated data.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Row<'a> {
    /// A group record.
    Record { group_id: &'a [u8], key: RecordKey },
    /// A client table value.
    Table { table: Table, key: &'a [u8] },
    /// The key-check row.
    KeyCheck,
}

impl Row<'_> {
    fn what(self) -> &'static str {
        match self {
            Self::Record { .. } => "group record value",
            Self::Table { .. } => "table value",
            Self::KeyCheck => "key check",
        }
    }
}

/// The AEAD and the database's id: seals and opens values. The key is wiped on drop
/// (`chacha20poly1305`'s `zeroize` feature).
pub(crate) struct Cipher {
    aead: XChaCha20Poly1305,
    store_id: [u8; STORE_ID_LEN],
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(<redacted>)")
    }
}

impl Cipher {
    /// The cipher of `key` for the database whose id is `store_id`.
    pub(crate) fn new(key: &EncryptionKey, store_id: [u8; STORE_ID_LEN]) -> Self {
        let mut k = Key::default();
        k.copy_from_slice(&key.0);
        let aead = XChaCha20Poly1305::new(&k);
        k.as_mut_slice().zeroize();
        Self { aead, store_id }
    }

    fn aad(&self, row: Row<'_>) -> Vec<u8> {
        let mut aad = Vec::with_capacity(AAD_PREFIX.len() + STORE_ID_LEN + 64);
        aad.extend_from_slice(AAD_PREFIX);
        aad.extend_from_slice(&self.store_id);
        match row {
            Row::Record { group_id, key } => {
                aad.push(1);
                aad.extend_from_slice(&(group_id.len() as u64).to_be_bytes());
                aad.extend_from_slice(group_id);
                aad.push(key.kind.code());
                aad.extend_from_slice(&key.epoch.to_be_bytes());
                aad.extend_from_slice(&key.index.to_be_bytes());
            }
            Row::Table { table, key } => {
                aad.push(2);
                aad.push(table.code());
                aad.extend_from_slice(key);
            }
            Row::KeyCheck => aad.push(3),
        }
        aad
    }

    /// Seals `plaintext` for `row` under a fresh random nonce.
    pub(crate) fn seal(&self, row: Row<'_>, plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| StoreError::Encryption {
            reason: "the OS random number generator failed",
        })?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(SEALED_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let aad = self.aad(row);
        let sealed = match out.get_mut(HEADER_LEN..) {
            Some(body) => self
                .aead
                .encrypt_inout_detached(&XNonce::from(nonce), &aad, body.into())
                .ok(),
            None => None,
        };
        let Some(tag) = sealed else {
            out.zeroize();
            return Err(StoreError::Encryption {
                reason: "the value is too long to seal",
            });
        };
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens `sealed`, which must have been sealed for `row` in this database with this key.
    pub(crate) fn open(&self, row: Row<'_>, sealed: &[u8]) -> Result<Secret, StoreError> {
        let what = row.what();
        let (&format, rest) = sealed
            .split_first()
            .ok_or_else(|| StoreError::corrupt(what, "empty sealed value"))?;
        if format != SEALED_V1 {
            return Err(StoreError::corrupt(
                what,
                format!("unknown sealed-value format {format}"),
            ));
        }
        let truncated = || StoreError::corrupt(what, "sealed value is truncated");
        let (nonce, rest) = rest.split_at_checked(NONCE_LEN).ok_or_else(truncated)?;
        let body_len = rest.len().checked_sub(TAG_LEN).ok_or_else(truncated)?;
        let (body, tag) = rest.split_at_checked(body_len).ok_or_else(truncated)?;
        let nonce = XNonce::try_from(nonce).map_err(|_| truncated())?;
        let tag = Tag::try_from(tag).map_err(|_| truncated())?;
        let mut plaintext = body.to_vec();
        let aad = self.aad(row);
        match self
            .aead
            .decrypt_inout_detached(&nonce, &aad, plaintext.as_mut_slice().into(), &tag)
        {
            Ok(()) => Ok(Secret::new(plaintext)),
            Err(_) => {
                plaintext.zeroize();
                Err(StoreError::corrupt(
                    what,
                    "does not authenticate (altered, truncated, or moved from another row)",
                ))
            }
        }
    }

    /// The sealed key-check value.
    pub(crate) fn key_check(&self) -> Result<Vec<u8>, StoreError> {
        self.seal(Row::KeyCheck, KEY_CHECK)
    }

    /// Whether `sealed` is the key-check value sealed with this key for this database.
    pub(crate) fn verify_key_check(&self, sealed: &[u8]) -> bool {
        self.open(Row::KeyCheck, sealed)
            .is_ok_and(|p| p.as_bytes() == KEY_CHECK)
    }
}

#[cfg(test)]
mod tests {
    use canopy_core::group::RecordKey;

    use super::*;

    fn cipher(key: u8, id: u8) -> Cipher {
        Cipher::new(&EncryptionKey::new([key; 32]), [id; STORE_ID_LEN])
    }

    fn record(group_id: &[u8], key: RecordKey) -> Row<'_> {
        Row::Record { group_id, key }
    }

    #[test]
    fn a_value_opens_only_in_its_own_row_with_its_own_key() {
        let c = cipher(1, 1);
        let row = record(b"g", RecordKey::ratchet(5, 3));
        let sealed = c.seal(row, b"ratchet").unwrap();
        assert_eq!(sealed.len(), b"ratchet".len() + HEADER_LEN + TAG_LEN);
        assert_eq!(c.open(row, &sealed).unwrap().as_bytes(), b"ratchet");

        let others = [
            record(b"h", RecordKey::ratchet(5, 3)),
            record(b"g", RecordKey::ratchet(6, 3)),
            record(b"g", RecordKey::ratchet(5, 4)),
            record(b"g", RecordKey::secret_node(5, 3)),
            Row::Table {
                table: Table::App,
                key: b"g",
            },
            Row::KeyCheck,
        ];
        for other in others {
            assert!(matches!(
                c.open(other, &sealed),
                Err(StoreError::Corrupt { .. })
            ));
        }
        assert!(cipher(2, 1).open(row, &sealed).is_err());
        assert!(cipher(1, 2).open(row, &sealed).is_err());
    }

    #[test]
    fn altered_or_truncated_values_are_corrupt_not_panics() {
        let c = cipher(1, 1);
        let row = Row::Table {
            table: Table::Identity,
            key: b"alice",
        };
        let sealed = c.seal(row, b"private key").unwrap();
        for len in 0..sealed.len() {
            assert!(matches!(
                c.open(row, &sealed[..len]),
                Err(StoreError::Corrupt { .. })
            ));
        }
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x40;
            assert!(matches!(c.open(row, &bad), Err(StoreError::Corrupt { .. })));
        }
    }

    #[test]
    fn nonces_are_fresh_and_the_key_check_detects_a_wrong_key() {
        let c = cipher(1, 1);
        let a = c.seal(Row::KeyCheck, b"x").unwrap();
        let b = c.seal(Row::KeyCheck, b"x").unwrap();
        assert_ne!(a, b);
        let check = c.key_check().unwrap();
        assert!(c.verify_key_check(&check));
        assert!(!cipher(2, 1).verify_key_check(&check));
        assert!(!c.verify_key_check(&a));
    }

    #[test]
    fn keys_are_not_printed() {
        let key = EncryptionKey::new([0xab; 32]);
        assert_eq!(format!("{key:?}"), "EncryptionKey(<redacted>)");
        assert!(EncryptionKey::from_slice(&[0; 31]).is_none());
        assert!(EncryptionKey::from_slice(&[0; 32]).is_some());
    }
}
