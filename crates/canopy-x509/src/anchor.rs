//! Trust anchors: the roots a chain must reach.

use crate::X509Error;
use crate::chain::{ChainLimits, Parsed};

/// A certificate the application trusts as a root: chains whose last certificate it issued
/// (or which end with it) are accepted. Only its subject name and public key are used; its
/// own validity and constraints are the application's concern (RFC 5280 §6.1.1, trust anchor
/// information).
#[derive(Clone, Debug)]
pub struct TrustAnchor {
    pub(crate) parsed: Parsed,
}

impl TrustAnchor {
    /// Parses a DER-encoded certificate as a trust anchor.
    ///
    /// # Errors
    /// [`X509Error::Malformed`] if it is not a canonical DER certificate (index 0).
    pub fn from_der(der: &[u8]) -> Result<Self, X509Error> {
        let limits = ChainLimits {
            max_certificates: 1,
            max_certificate_len: usize::MAX,
        };
        Ok(Self {
            parsed: Parsed::decode(der, 0, &limits)?,
        })
    }

    /// The anchor's DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.parsed.der
    }
}
