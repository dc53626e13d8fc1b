//! KeyPackages (RFC 9420 §10): generated in batches per identity and suite, published by the
//! application, their private keys (init key, leaf encryption key) kept in
//! [`Table::KeyPackage`](canopy_store::Table) under their KeyPackageRef (§5.2) until a
//! Welcome uses them; and one **last-resort** KeyPackage per identity and suite (§16.8),
//! marked with the `last_resort` extension of the MLS extensions draft
//! (`draft-ietf-mls-extensions`, implemented by canopy-core), which is kept after a join so
//! that it can be used again when the others run out.

use canopy_core::key_package::{KeyPackageBundle, KeyPackageRef};
use canopy_core::wire::KeyPackage;
use canopy_crypto::{CipherSuite, HpkePrivateKey};

use crate::ClientError;
use crate::codec::{RowReader, RowWriter};

/// What the client knows of one of its stored KeyPackages.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyPackageInfo {
    /// RFC 9420 §5.2: its KeyPackageRef (the key of its row).
    pub reference: KeyPackageRef,
    /// The identity it belongs to.
    pub identity: String,
    /// Its cipher suite.
    pub suite: CipherSuite,
    /// Whether it is the identity's last-resort KeyPackage for the suite (§16.8).
    pub last_resort: bool,
    /// When it was generated (seconds since the Unix epoch, the client's clock).
    pub created: u64,
}

/// A stored KeyPackage with its private keys.
pub(crate) struct StoredKeyPackage {
    pub(crate) info: KeyPackageInfo,
    pub(crate) bundle: KeyPackageBundle,
}

impl StoredKeyPackage {
    /// The row: identity, suite, last-resort flag, creation time, the KeyPackage (RFC 9420
    /// encoding) and its two private keys.
    pub(crate) fn row(&self) -> Result<Vec<u8>, ClientError> {
        Ok(RowWriter::new()
            .bytes(self.info.identity.as_bytes())?
            .u16(self.info.suite.0)
            .u8(u8::from(self.info.last_resort))
            .u64(self.info.created)
            .bytes(&self.bundle.key_package.to_bytes()?)?
            .bytes(self.bundle.init_private.as_bytes())?
            .bytes(self.bundle.encryption_private.as_bytes())?
            .finish())
    }

    /// The KeyPackage stored under `reference` in `row`.
    pub(crate) fn from_row(reference: &[u8], row: &[u8]) -> Result<Self, ClientError> {
        const WHAT: &str = "key package row";
        let mut r = RowReader::new(row, WHAT)?;
        let identity = String::from_utf8(r.bytes()?.to_vec())
            .map_err(|_| ClientError::Corrupt("key package identity"))?;
        let suite = CipherSuite(r.u16()?);
        let last_resort = match r.u8()? {
            0 => false,
            1 => true,
            _ => return Err(ClientError::Corrupt(WHAT)),
        };
        let created = r.u64()?;
        let key_package = KeyPackage::from_bytes(r.bytes()?)?;
        let init_private = HpkePrivateKey::from_slice(r.bytes()?);
        let encryption_private = HpkePrivateKey::from_slice(r.bytes()?);
        r.finish()?;
        Ok(Self {
            info: KeyPackageInfo {
                reference: KeyPackageRef::from_bytes(reference.to_vec()),
                identity,
                suite,
                last_resort,
                created,
            },
            bundle: KeyPackageBundle {
                key_package,
                init_private,
                encryption_private,
            },
        })
    }
}
