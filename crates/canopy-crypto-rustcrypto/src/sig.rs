//! Ed25519, Ed448 (RFC 8032, pure mode) and ECDSA over P-256/P-384/P-521 with SHA-256/384/512
//! (DER-encoded signatures), the signature schemes of RFC 9420 §5.1.
//!
//! Private keys: Ed25519 and Ed448 seeds (32 and 57 bytes), ECDSA big-endian scalars (shorter
//! scalars are left-padded). Public keys: raw EdDSA points, uncompressed SEC1 ECDSA points.

use canopy_crypto::{CryptoError, SignatureScheme};
use zeroize::Zeroizing;

/// Left-pads an ECDSA scalar to `len` bytes.
fn padded(bytes: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let pad = len
        .checked_sub(bytes.len())
        .ok_or(CryptoError::InvalidPrivateKey)?;
    let mut out = Zeroizing::new(vec![0u8; pad]);
    out.extend_from_slice(bytes);
    Ok(out)
}

macro_rules! ecdsa {
    ($krate:ident, $len:expr, $plen:expr) => {
        mod $krate {
            use super::*;
            use ::$krate::ecdsa::signature::{Signer, Verifier};
            use ::$krate::ecdsa::{DerSignature, SigningKey, VerifyingKey};

            pub(super) const SCALAR_LEN: usize = $len;

            pub(super) fn signing_key(sk: &[u8]) -> Result<SigningKey, CryptoError> {
                let bytes = padded(sk, SCALAR_LEN)?;
                SigningKey::from_slice(&bytes).map_err(|_| CryptoError::InvalidPrivateKey)
            }

            pub(super) fn sign(sk: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
                let sig: DerSignature = signing_key(sk)?.sign(msg);
                Ok(sig.as_bytes().to_vec())
            }

            pub(super) fn verify(pk: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
                if pk.len() != $plen || pk.first() != Some(&0x04) {
                    return Err(CryptoError::InvalidPublicKey);
                }
                let vk =
                    VerifyingKey::from_sec1_bytes(pk).map_err(|_| CryptoError::InvalidPublicKey)?;
                let sig =
                    DerSignature::from_bytes(sig).map_err(|_| CryptoError::InvalidSignature)?;
                vk.verify(msg, &sig)
                    .map_err(|_| CryptoError::InvalidSignature)
            }

            pub(super) fn public(sk: &[u8]) -> Result<Vec<u8>, CryptoError> {
                Ok(signing_key(sk)?.verifying_key().to_sec1_bytes().to_vec())
            }
        }
    };
}

ecdsa!(p256, 32, 65);
ecdsa!(p384, 48, 97);
ecdsa!(p521, 66, 133);

/// A one-entry cache of an expanded Ed25519 signing key (see `Suite::signer`). The seed is
/// compared in constant time; both are zeroized when replaced or dropped.
#[derive(Default)]
pub(crate) struct SignerCache(
    std::sync::Mutex<Option<(Zeroizing<[u8; 32]>, ed25519_dalek::SigningKey)>>,
);

impl SignerCache {
    /// Signs `msg` with the Ed25519 seed `sk`, expanding it only if it is not the cached one.
    pub(crate) fn sign_ed25519(&self, sk: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
        use ed25519_dalek::Signer;
        use subtle::ConstantTimeEq;
        let seed: &[u8; 32] = sk.try_into().map_err(|_| CryptoError::InvalidPrivateKey)?;
        // A poisoned lock only means another signer panicked: sign without the cache.
        let Ok(mut slot) = self.0.lock() else {
            return Ok(ed25519_key(sk)?.sign(msg).to_bytes().to_vec());
        };
        let hit = slot
            .as_ref()
            .is_some_and(|(cached, _)| bool::from(cached.as_slice().ct_eq(seed.as_slice())));
        if !hit {
            *slot = Some((Zeroizing::new(*seed), ed25519_key(sk)?));
        }
        let (_, key) = slot.as_ref().ok_or(CryptoError::InvalidPrivateKey)?;
        Ok(key.sign(msg).to_bytes().to_vec())
    }
}

/// How many decompressed Ed25519 verifying keys [`VerifierCache`] keeps.
pub(crate) const VERIFIER_CACHE_SIZE: usize = 64;

/// A small most-recently-used cache of Ed25519 public keys that passed the key half of the
/// acceptance rule ([`Ed25519Key::parse`]).
///
/// A group member verifies the same few senders' keys over and over. Decompressing a key (a
/// field square root) and checking its encoding and order cost about a fifth of a
/// verification. The cache changes nothing else: a hit verifies with exactly the rule of an
/// uncached [`verify`] ([`Ed25519Key::verify`]), only the key parsing is skipped.
#[derive(Default)]
pub(crate) struct VerifierCache(std::sync::Mutex<std::collections::VecDeque<Ed25519Key>>);

impl VerifierCache {
    /// Verifies an Ed25519 signature under the crate's Ed25519 rule, with the key from the
    /// cache when it is there.
    pub(crate) fn verify_ed25519(
        &self,
        pk: &[u8],
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        self.key(pk)?.verify(msg, sig)
    }

    /// The checked key of `pk`, from the cache or parsed (outside the lock, so that other
    /// threads' hits do not wait for it) and cached. Keys that fail the checks are not cached.
    fn key(&self, pk: &[u8]) -> Result<Ed25519Key, CryptoError> {
        // A poisoned lock only means another verifier panicked: go without the cache.
        if let Ok(mut keys) = self.0.lock()
            && let Some(i) = keys.iter().position(|k| k.as_bytes() == pk)
        {
            let key = keys.remove(i).ok_or(CryptoError::InvalidPublicKey)?;
            keys.push_front(key);
            return Ok(key);
        }
        let key = Ed25519Key::parse(pk)?;
        if let Ok(mut keys) = self.0.lock()
            && !keys.iter().any(|k| k.as_bytes() == pk)
        {
            keys.push_front(key);
            keys.truncate(VERIFIER_CACHE_SIZE);
        }
        Ok(key)
    }
}

/// The canonical encodings of the eight points of small order (the torsion subgroup
/// `E[8]`, of which every small-order point is a member).
fn small_order_encodings() -> &'static [[u8; 32]; 8] {
    static ENCODINGS: std::sync::LazyLock<[[u8; 32]; 8]> = std::sync::LazyLock::new(|| {
        curve25519_dalek::constants::EIGHT_TORSION.map(|t| t.compress().to_bytes())
    });
    &ENCODINGS
}

/// Whether the encoding of a point that decompresses is canonical: RFC 8032 §5.1.3 decoding
/// fails if y >= p (p = 2^255 - 19) or if x = 0 with the sign bit set, and
/// `curve25519-dalek`'s `decompress` instead reduces y and ignores that sign bit. x = 0 only
/// for y = 1 and y = p - 1 (the curve equation gives x^2 = 0 exactly when y^2 = 1). The
/// result equals `decompress(bytes).compress() == bytes` (tested) without the field
/// inversion of `compress`.
fn is_canonical_encoding(bytes: &[u8; 32]) -> bool {
    let Some((&first, rest)) = bytes.split_first() else {
        return false;
    };
    let Some((&last, middle)) = rest.split_last() else {
        return false;
    };
    let y_at_least_p = first >= 0xed && middle.iter().all(|b| *b == 0xff) && last & 0x7f == 0x7f;
    let sign = last & 0x80 != 0;
    let y_is_one = first == 1 && middle.iter().all(|b| *b == 0) && last & 0x7f == 0;
    let y_is_minus_one = first == 0xec && middle.iter().all(|b| *b == 0xff) && last & 0x7f == 0x7f;
    !(y_at_least_p || (sign && (y_is_one || y_is_minus_one)))
}

/// An Ed25519 public key that passed the key half of the crate's Ed25519 rule (see the crate
/// docs): 32 bytes that decode to a curve point, in the point's canonical encoding, and not
/// of small order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ed25519Key(ed25519_zebra::VerificationKey);

impl Ed25519Key {
    /// Checks and decompresses `pk`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidPublicKey`] if any key check fails.
    pub(crate) fn parse(pk: &[u8]) -> Result<Self, CryptoError> {
        let bytes: &[u8; 32] = pk.try_into().map_err(|_| CryptoError::InvalidPublicKey)?;
        // Canonical first, so that the eight canonical small-order encodings are all of them.
        if !is_canonical_encoding(bytes) || small_order_encodings().contains(bytes) {
            return Err(CryptoError::InvalidPublicKey);
        }
        ed25519_zebra::VerificationKey::try_from(*bytes)
            .map(Self)
            .map_err(|_| CryptoError::InvalidPublicKey)
    }

    /// The key's (canonical) encoding.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_ref()
    }

    /// The signature half of the rule: `sig` is 64 bytes `R || S`, `S < L`, `R` is the
    /// canonical encoding of a curve point that is not of small order, and
    /// `[8][S]B == [8]R + [8][k]A` with `k = SHA-512(R || A || msg) mod L`.
    ///
    /// # Errors
    /// [`CryptoError::InvalidSignature`] if any check fails.
    pub(crate) fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        let sig = signature_checked(sig)?;
        // ed25519-zebra's `verify`: canonical S, R decodes, then the cofactored equation.
        self.0
            .verify(&sig, msg)
            .map_err(|_| CryptoError::InvalidSignature)
    }
}

/// The encoding checks of the signature half of the rule that ed25519-zebra leaves out
/// (it accepts non-canonical and small-order `R`, ZIP 215): 64 bytes, `R` canonical and not
/// the encoding of a small-order point.
fn signature_checked(sig: &[u8]) -> Result<ed25519_zebra::Signature, CryptoError> {
    let sig =
        ed25519_zebra::Signature::from_slice(sig).map_err(|_| CryptoError::InvalidSignature)?;
    let r = sig.r_bytes();
    if !is_canonical_encoding(r) || small_order_encodings().contains(r) {
        return Err(CryptoError::InvalidSignature);
    }
    Ok(sig)
}

/// Verifies Ed25519 signatures together: each key and signature through the encoding checks
/// of the rule, then one random linear combination of the cofactored equations (ed25519-zebra's
/// batch, which accepts exactly when every single equation holds, up to a probability of
/// 2^-128 over the coefficients). Any failure is only "not all valid": the caller verifies one
/// by one with [`Ed25519Key::verify`] to find which, so a batch never decides alone that a
/// signature is invalid, and accepts only what the single rule accepts.
///
/// The coefficients come from the operating system, not from the provider's
/// [`crate::RandomSource`]: they change no output, and a seeded provider's stream stays that
/// of the keys and nonces it makes.
pub(crate) fn verify_batch_ed25519(
    checks: &[canopy_crypto::SignatureCheck<'_>],
) -> Result<(), CryptoError> {
    let mut batch = ed25519_zebra::batch::Verifier::new();
    for c in checks {
        // The encoding checks of rule 1 on the bytes; the batch decompresses each key once
        // and fails if one does not decode (decompressing here too would double that cost).
        let key: [u8; 32] = c
            .public_key
            .as_bytes()
            .try_into()
            .map_err(|_| CryptoError::InvalidPublicKey)?;
        if !is_canonical_encoding(&key) || small_order_encodings().contains(&key) {
            return Err(CryptoError::InvalidPublicKey);
        }
        let sig = signature_checked(c.signature)?;
        batch.queue((
            ed25519_zebra::VerificationKeyBytes::from(key),
            sig,
            c.message,
        ));
    }
    let mut coefficients = BatchCoefficients::default();
    let verdict = batch.verify(&mut coefficients);
    if coefficients.failed {
        return Err(CryptoError::Random);
    }
    verdict.map_err(|_| CryptoError::InvalidSignature)
}

/// The batch's random coefficients: the operating system's generator, drawn 512 bytes at a
/// time. If it fails, the bytes are zero and `failed` is set, and the batch is discarded.
struct BatchCoefficients {
    buffer: [u8; 512],
    used: usize,
    failed: bool,
}

impl Default for BatchCoefficients {
    fn default() -> Self {
        Self {
            buffer: [0; 512],
            used: 512,
            failed: false,
        }
    }
}

impl rand_core::TryRng for BatchCoefficients {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for out in dst {
            if self.used >= self.buffer.len() {
                if getrandom::fill(&mut self.buffer).is_err() {
                    self.failed = true;
                    self.buffer = [0; 512];
                }
                self.used = 0;
            }
            *out = self.buffer.get(self.used).copied().unwrap_or(0);
            self.used = self.used.saturating_add(1);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for BatchCoefficients {}

/// Ed448 public keys and seeds are 57 bytes; signatures 114.
const ED448_LEN: usize = 57;

fn ed25519_key(sk: &[u8]) -> Result<ed25519_dalek::SigningKey, CryptoError> {
    let seed: &[u8; 32] = sk.try_into().map_err(|_| CryptoError::InvalidPrivateKey)?;
    Ok(ed25519_dalek::SigningKey::from_bytes(seed))
}

fn ed448_key(sk: &[u8]) -> Result<ed448_goldilocks::SigningKey, CryptoError> {
    if sk.len() != ED448_LEN {
        return Err(CryptoError::InvalidPrivateKey);
    }
    ed448_goldilocks::SigningKey::try_from(sk).map_err(|_| CryptoError::InvalidPrivateKey)
}

/// The length of a private key of `scheme`, as generated.
pub(crate) fn private_key_len(scheme: SignatureScheme) -> Result<usize, CryptoError> {
    Ok(match scheme {
        SignatureScheme::ED25519 => 32,
        SignatureScheme::ED448 => ED448_LEN,
        SignatureScheme::ECDSA_SECP256R1_SHA256 => p256::SCALAR_LEN,
        SignatureScheme::ECDSA_SECP384R1_SHA384 => p384::SCALAR_LEN,
        SignatureScheme::ECDSA_SECP521R1_SHA512 => p521::SCALAR_LEN,
        s if crate::ml_dsa::is_ml_dsa(s) => crate::ml_dsa::SEED_LEN,
        _ => return Err(CryptoError::InvalidPrivateKey),
    })
}

/// Whether `candidate` (of [`private_key_len`] bytes) is a valid private key.
pub(crate) fn is_valid_private_key(scheme: SignatureScheme, candidate: &[u8]) -> bool {
    public_key(scheme, candidate).is_ok()
}

/// Signs `msg`.
pub(crate) fn sign(scheme: SignatureScheme, sk: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match scheme {
        SignatureScheme::ED25519 => {
            use ed25519_dalek::Signer;
            Ok(ed25519_key(sk)?.sign(msg).to_bytes().to_vec())
        }
        SignatureScheme::ED448 => Ok(ed448_key(sk)?.sign_raw(msg).to_bytes().to_vec()),
        SignatureScheme::ECDSA_SECP256R1_SHA256 => p256::sign(sk, msg),
        SignatureScheme::ECDSA_SECP384R1_SHA384 => p384::sign(sk, msg),
        SignatureScheme::ECDSA_SECP521R1_SHA512 => p521::sign(sk, msg),
        s if crate::ml_dsa::is_ml_dsa(s) => crate::ml_dsa::sign(s, sk, msg),
        _ => Err(CryptoError::InvalidPrivateKey),
    }
}

/// Verifies `sig` over `msg`.
pub(crate) fn verify(
    scheme: SignatureScheme,
    pk: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    match scheme {
        SignatureScheme::ED25519 => Ed25519Key::parse(pk)?.verify(msg, sig),
        SignatureScheme::ED448 => {
            let pk: [u8; ED448_LEN] = pk.try_into().map_err(|_| CryptoError::InvalidPublicKey)?;
            let vk = ed448_goldilocks::VerifyingKey::from_bytes(&pk)
                .map_err(|_| CryptoError::InvalidPublicKey)?;
            let sig = ed448_goldilocks::Signature::from_slice(sig)
                .map_err(|_| CryptoError::InvalidSignature)?;
            vk.verify_raw(&sig, msg)
                .map_err(|_| CryptoError::InvalidSignature)
        }
        SignatureScheme::ECDSA_SECP256R1_SHA256 => p256::verify(pk, msg, sig),
        SignatureScheme::ECDSA_SECP384R1_SHA384 => p384::verify(pk, msg, sig),
        SignatureScheme::ECDSA_SECP521R1_SHA512 => p521::verify(pk, msg, sig),
        s if crate::ml_dsa::is_ml_dsa(s) => crate::ml_dsa::verify(s, pk, msg, sig),
        _ => Err(CryptoError::InvalidPublicKey),
    }
}

/// Verifies every check: Ed25519 as one batch ([`verify_batch_ed25519`]), the other schemes
/// each with [`verify`] (see the crate docs, "One acceptance rule per scheme").
pub(crate) fn verify_all(
    scheme: SignatureScheme,
    checks: &[canopy_crypto::SignatureCheck<'_>],
) -> Result<(), CryptoError> {
    match (scheme, checks) {
        (SignatureScheme::ED25519, [_, _, ..]) => verify_batch_ed25519(checks),
        _ => checks
            .iter()
            .try_for_each(|c| verify(scheme, c.public_key.as_bytes(), c.message, c.signature)),
    }
}

/// The public key of `sk`.
pub(crate) fn public_key(scheme: SignatureScheme, sk: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match scheme {
        SignatureScheme::ED25519 => Ok(ed25519_key(sk)?.verifying_key().to_bytes().to_vec()),
        SignatureScheme::ED448 => Ok(ed448_key(sk)?.verifying_key().to_bytes().to_vec()),
        SignatureScheme::ECDSA_SECP256R1_SHA256 => p256::public(sk),
        SignatureScheme::ECDSA_SECP384R1_SHA384 => p384::public(sk),
        SignatureScheme::ECDSA_SECP521R1_SHA512 => p521::public(sk),
        s if crate::ml_dsa::is_ml_dsa(s) => crate::ml_dsa::public_key(s, sk),
        _ => Err(CryptoError::InvalidPrivateKey),
    }
}

#[cfg(test)]
mod tests;
