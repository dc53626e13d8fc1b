//! Certificate signature algorithms, mapped to the MLS signature schemes of the crypto
//! provider (RFC 9420 §5.1.2): the same primitives, reached through the same provider.

use canopy_crypto::CipherSuite;
use x509_cert::spki::{ObjectIdentifier, SubjectPublicKeyInfoOwned};

/// RFC 8410 `id-Ed25519`.
pub(crate) const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// RFC 8410 `id-Ed448`.
pub(crate) const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
/// RFC 5480 `id-ecPublicKey`.
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// RFC 5480 `secp256r1`, `secp384r1`, `secp521r1`.
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
/// RFC 5758 `ecdsa-with-SHA256`, `-SHA384`, `-SHA512`.
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

/// The cipher suite whose signature scheme is the certificate algorithm `signature` with an
/// issuer key `issuer`, or `None` if no MLS scheme is that pair: Ed25519 (suite 0x0001),
/// Ed448 (0x0004), ECDSA P-256/SHA-256 (0x0002), P-384/SHA-384 (0x0007), P-521/SHA-512
/// (0x0005). Signatures and keys have the same encodings in X.509 as in MLS (raw EdDSA keys
/// and signatures, uncompressed SEC1 points, DER `Ecdsa-Sig-Value`).
pub(crate) fn suite_for(
    signature: ObjectIdentifier,
    issuer: &SubjectPublicKeyInfoOwned,
) -> Option<CipherSuite> {
    let key = issuer.algorithm.oid;
    let curve = issuer
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    match (signature, key, curve) {
        (ED25519, ED25519, None) => Some(CipherSuite(0x0001)),
        (ED448, ED448, None) => Some(CipherSuite(0x0004)),
        (ECDSA_SHA256, EC_PUBLIC_KEY, Some(P256)) => Some(CipherSuite(0x0002)),
        (ECDSA_SHA384, EC_PUBLIC_KEY, Some(P384)) => Some(CipherSuite(0x0007)),
        (ECDSA_SHA512, EC_PUBLIC_KEY, Some(P521)) => Some(CipherSuite(0x0005)),
        _ => None,
    }
}
