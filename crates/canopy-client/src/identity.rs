//! Identities: a credential (RFC 9420 §5.3) and the signature key that speaks for it
//! (§5.1.2), as an `Arc<dyn Signer>` that every group of the identity shares.
//!
//! Two kinds, recorded in the identity's row of [`Table::Identity`](canopy_store::Table):
//! - **built-in**: the client generated a [`SignatureKeyPair`]; its private key is stored in
//!   the row (sealed at rest if the store is encrypted) and loaded with the client;
//! - **external**: the application holds the key (a keystore, a token) and registers a
//!   [`Signer`] at runtime; only the public key and credential are stored, and the signer
//!   must be attached again after every restart
//!   ([`Client::attach_signer`](crate::Client::attach_signer)).

use std::fmt;
use std::sync::Arc;

use canopy_core::wire::Credential;
use canopy_crypto::{
    CipherSuite, CryptoProvider, SignatureKeyPair, SignaturePrivateKey, SignaturePublicKey, Signer,
};

use crate::ClientError;
use crate::codec::{RowReader, RowWriter};

/// The kind code of a built-in identity's row.
const BUILT_IN: u8 = 0;
/// The kind code of an external identity's row.
const EXTERNAL: u8 = 1;

/// One identity of the client: its name (the application's label, the key of its row), its
/// credential and signature key.
#[derive(Clone)]
pub struct Identity {
    name: String,
    suite: CipherSuite,
    credential: Credential,
    public_key: SignaturePublicKey,
    /// `None` for an external identity whose signer is not attached yet.
    signer: Option<Arc<dyn Signer>>,
    external: bool,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("name", &self.name)
            .field("suite", &self.suite)
            .field("credential", &self.credential)
            .field("public_key", &self.public_key)
            .field("external", &self.external)
            .field("signer_attached", &self.signer.is_some())
            .finish()
    }
}

impl Identity {
    /// A built-in identity around a fresh key pair.
    pub(crate) fn built_in(
        name: String,
        suite: CipherSuite,
        credential: Credential,
        key_pair: SignatureKeyPair,
    ) -> Self {
        Self {
            name,
            suite,
            credential,
            public_key: key_pair.public.clone(),
            signer: Some(Arc::new(key_pair)),
            external: false,
        }
    }

    /// An external identity whose key the application holds.
    pub(crate) fn external(
        name: String,
        suite: CipherSuite,
        credential: Credential,
        signer: Arc<dyn Signer>,
    ) -> Self {
        Self {
            name,
            suite,
            credential,
            public_key: signer.public_key().clone(),
            signer: Some(signer),
            external: true,
        }
    }

    /// The identity's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The suite the identity was created for (its signature scheme is the identity's).
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The identity's credential.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The signature public key.
    pub fn public_key(&self) -> &SignaturePublicKey {
        &self.public_key
    }

    /// Whether the application holds the signature key.
    pub fn is_external(&self) -> bool {
        self.external
    }

    /// The signer, if available (an external one must be attached).
    ///
    /// # Errors
    /// [`ClientError::SignerNotAttached`] for an external identity without its signer.
    pub fn signer(&self) -> Result<Arc<dyn Signer>, ClientError> {
        self.signer
            .clone()
            .ok_or_else(|| ClientError::SignerNotAttached(self.name.clone()))
    }

    /// Attaches the external signer, after checking its public key.
    pub(crate) fn attach(&mut self, signer: Arc<dyn Signer>) -> Result<(), ClientError> {
        if *signer.public_key() != self.public_key {
            return Err(ClientError::SignerMismatch(self.name.clone()));
        }
        self.signer = Some(signer);
        Ok(())
    }

    /// The row stored for this identity. A built-in identity's row holds the private key
    /// (`key_pair`), an external one's only the public key.
    pub(crate) fn row(&self, key_pair: Option<&SignatureKeyPair>) -> Result<Vec<u8>, ClientError> {
        let w = RowWriter::new()
            .u8(if self.external { EXTERNAL } else { BUILT_IN })
            .u16(self.suite.0)
            .bytes(&self.credential.to_bytes()?)?
            .bytes(self.public_key.as_bytes())?;
        let private = key_pair.map(|k| k.private.as_bytes()).unwrap_or_default();
        Ok(w.bytes(private)?.finish())
    }

    /// The identity stored in `row` under `name`. A built-in identity gets its signer back
    /// (its key pair checked with `crypto`, if it supports the identity's suite); an external
    /// one waits for [`Identity::attach`].
    pub(crate) fn decode(
        name: String,
        row: &[u8],
        crypto: &dyn CryptoProvider,
    ) -> Result<Self, ClientError> {
        let mut r = RowReader::new(row, "identity row")?;
        let kind = r.u8()?;
        let suite = CipherSuite(r.u16()?);
        let credential = Credential::from_bytes(r.bytes()?)?;
        let public_key = SignaturePublicKey::new(r.bytes()?.to_vec());
        let private = r.bytes()?;
        let private = SignaturePrivateKey::from_slice(private);
        r.finish()?;
        let (signer, external): (Option<Arc<dyn Signer>>, bool) = match kind {
            BUILT_IN => {
                let pair = match crypto.suite(suite).ok() {
                    Some(ops) => SignatureKeyPair::from_private(ops, private)?,
                    None => SignatureKeyPair {
                        private,
                        public: public_key.clone(),
                    },
                };
                if pair.public != public_key {
                    return Err(ClientError::Corrupt("identity key pair"));
                }
                (Some(Arc::new(pair)), false)
            }
            EXTERNAL => (None, true),
            _ => return Err(ClientError::Corrupt("identity kind")),
        };
        Ok(Self {
            name,
            suite,
            credential,
            public_key,
            signer,
            external,
        })
    }
}
