//! What can be wrong with an X.509 credential. `index` is the certificate's position in the
//! credential's chain (0: the end-entity certificate).

use canopy_crypto::CryptoError;

/// Why an X.509 credential, or a trust anchor, is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum X509Error {
    /// RFC 9420 §5.3: an `x509` credential carries at least the end-entity certificate.
    #[error("the x509 credential has no certificate")]
    EmptyChain,
    /// More certificates than [`ChainLimits::max_certificates`](crate::ChainLimits).
    #[error("the chain has {count} certificates, more than the {max} allowed")]
    TooManyCertificates {
        /// Certificates in the credential.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A certificate longer than [`ChainLimits::max_certificate_len`](crate::ChainLimits).
    #[error("certificate {index} is {len} bytes, more than the {max} allowed")]
    CertificateTooLarge {
        /// Its position in the chain.
        index: usize,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not a DER-encoded certificate (RFC 5280 §4.1), or not in canonical DER.
    #[error("certificate {index} is malformed: {reason}")]
    Malformed {
        /// Its position in the chain (for a trust anchor: its position in the list).
        index: usize,
        /// What the decoder said.
        reason: String,
    },
    /// RFC 9420 §5.3: each certificate is the issuer of the one before it; this one's
    /// subject is not the previous certificate's issuer.
    #[error("certificate {index} is not the issuer of certificate {}", index - 1)]
    NotTheIssuer {
        /// The position of the certificate that should be the issuer.
        index: usize,
    },
    /// The chain does not end at a configured trust anchor.
    #[error("the chain does not lead to a trusted root")]
    UnknownRoot,
    /// A certificate's signature does not verify under its issuer's key.
    #[error("the signature of certificate {index} does not verify")]
    BadSignature {
        /// Its position in the chain.
        index: usize,
    },
    /// A signature algorithm, or an issuer key type, that no MLS signature scheme covers.
    #[error("certificate {index} uses an unsupported algorithm {oid}")]
    UnsupportedAlgorithm {
        /// Its position in the chain.
        index: usize,
        /// The algorithm's object identifier.
        oid: String,
    },
    /// RFC 5280 §4.1.2.5: the time is before the certificate's `notBefore`.
    #[error("certificate {index} is not valid before {not_before} (now {now})")]
    NotYetValid {
        /// Its position in the chain.
        index: usize,
        /// `notBefore`, seconds since the Unix epoch.
        not_before: u64,
        /// The time checked.
        now: u64,
    },
    /// RFC 5280 §4.1.2.5: the time is after the certificate's `notAfter`.
    #[error("certificate {index} expired at {not_after} (now {now})")]
    Expired {
        /// Its position in the chain.
        index: usize,
        /// `notAfter`, seconds since the Unix epoch.
        not_after: u64,
        /// The time checked.
        now: u64,
    },
    /// RFC 5280 §4.2.1.9, §4.2.1.3: an issuing certificate that is not a CA, may not sign
    /// certificates, or whose `pathLenConstraint` is exceeded.
    #[error("certificate {index} may not issue certificate {}: {reason}", index - 1)]
    NotACa {
        /// Its position in the chain.
        index: usize,
        /// Which constraint.
        reason: &'static str,
    },
    /// RFC 5280 §4.2.1.3: the end-entity certificate's keyUsage does not allow signatures.
    #[error("the end-entity certificate's keyUsage does not include digitalSignature")]
    KeyUsage,
    /// RFC 5280 §4.2: a critical extension this validator does not process.
    #[error("certificate {index} has an unprocessed critical extension {oid}")]
    CriticalExtension {
        /// Its position in the chain.
        index: usize,
        /// The extension's object identifier.
        oid: String,
    },
    /// RFC 9420 §5.3.1: the end-entity certificate's public key is not the LeafNode's
    /// `signature_key`.
    #[error("the end-entity certificate's key is not the leaf's signature key")]
    KeyMismatch,
    /// The configured identity is absent from the end-entity certificate.
    #[error("the end-entity certificate has no {0}")]
    NoIdentity(&'static str),
    /// Validity periods need a time, and the environment gave none.
    #[error("no current time to check the certificates' validity against")]
    NoClock,
    /// The provider lacks the signature scheme a certificate needs.
    #[error("crypto provider: {0}")]
    Crypto(#[from] CryptoError),
}
