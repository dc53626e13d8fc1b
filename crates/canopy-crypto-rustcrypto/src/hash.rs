//! Hash, HMAC and HKDF for SHA-256/384/512 (RFC 9420 §5.1; RFC 5869).
//!
//! HKDF-Extract is HMAC keyed with the salt (RFC 5869 §2.2); it is computed here over several
//! parts so that labelled extractions (HPKE's `LabeledExtract`) never copy their input.

use canopy_crypto::{CryptoError, HashAlgorithm, Secret};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// `Hash(parts[0] || parts[1] || ...)`.
pub(crate) fn hash(alg: HashAlgorithm, parts: &[&[u8]]) -> Vec<u8> {
    fn run<D: Digest>(parts: &[&[u8]]) -> Vec<u8> {
        let mut h = D::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().to_vec()
    }
    match alg {
        HashAlgorithm::Sha384 => run::<Sha384>(parts),
        HashAlgorithm::Sha512 => run::<Sha512>(parts),
        _ => run::<Sha256>(parts),
    }
}

/// `HMAC(key, parts[0] || parts[1] || ...)`. HMAC accepts keys of any length.
pub(crate) fn mac(alg: HashAlgorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        // HMAC takes keys of every length (RFC 2104 §2); `new_from_slice` cannot fail for it.
        let Ok(mut m) = <M as KeyInit>::new_from_slice(key) else {
            return Vec::new();
        };
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().to_vec()
    }
    match alg {
        HashAlgorithm::Sha384 => run::<Hmac<Sha384>>(key, parts),
        HashAlgorithm::Sha512 => run::<Hmac<Sha512>>(key, parts),
        _ => run::<Hmac<Sha256>>(key, parts),
    }
}

/// `HKDF-Extract(salt, parts[0] || ...)`. An empty salt is the same HMAC key as `Nh` zeros.
pub(crate) fn extract(alg: HashAlgorithm, salt: &[u8], parts: &[&[u8]]) -> Secret {
    Secret::new(mac(alg, salt, parts))
}

/// `HKDF-Expand(prk, info[0] || info[1] || ..., len)`.
pub(crate) fn expand(
    alg: HashAlgorithm,
    prk: &[u8],
    info: &[&[u8]],
    len: usize,
) -> Result<Secret, CryptoError> {
    macro_rules! run {
        ($h:ty) => {{
            let hk = hkdf::Hkdf::<$h>::from_prk(prk).map_err(|_| CryptoError::InvalidLength {
                what: "HKDF PRK",
                got: prk.len(),
            })?;
            let mut out = vec![0u8; len];
            if hk.expand_multi_info(info, &mut out).is_err() {
                return Err(CryptoError::InvalidLength {
                    what: "HKDF output",
                    got: len,
                });
            }
            Ok(Secret::new(out))
        }};
    }
    match alg {
        HashAlgorithm::Sha384 => run!(Sha384),
        HashAlgorithm::Sha512 => run!(Sha512),
        _ => run!(Sha256),
    }
}
