//! Secret and key newtypes. Secrets are zeroized on drop, compared in constant time and never
//! printed.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::CipherSuite;

/// Secret bytes: key material, KDF outputs, decrypted plaintexts.
///
/// The bytes are wiped when the value is dropped, `==` runs in constant time, and `Debug` shows
/// only the length.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps `bytes`; the caller gives up its copy.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Copies `bytes` into a new secret.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// A secret of `len` zero bytes (RFC 9420 §8 uses all-zero secrets as defaults).
    pub fn zero(len: usize) -> Self {
        Self(vec![0; len])
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Takes the bytes out, leaving nothing to wipe. The caller becomes responsible for them.
    pub fn into_bytes(mut self) -> Vec<u8> {
        core::mem::take(&mut self.0)
    }
}

impl AsRef<[u8]> for Secret {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Secret {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for Secret {}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes>)", self.0.len())
    }
}

macro_rules! public_bytes {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(Vec<u8>);

        impl $name {
            /// Wraps serialized key bytes. Validity is checked when the key is used.
            pub fn new(bytes: Vec<u8>) -> Self {
                Self(bytes)
            }

            /// The serialized key.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// Takes the serialized key out.
            pub fn into_bytes(self) -> Vec<u8> {
                self.0
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl From<Vec<u8>> for $name {
            fn from(bytes: Vec<u8>) -> Self {
                Self(bytes)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "("))?;
                for b in self.0.iter().take(8) {
                    write!(f, "{b:02x}")?;
                }
                if self.0.len() > 8 {
                    write!(f, "..")?;
                }
                write!(f, ")")
            }
        }
    };
}

macro_rules! private_bytes {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Debug, Zeroize, ZeroizeOnDrop)]
        pub struct $name(Secret);

        impl $name {
            /// Wraps serialized private key bytes. Validity is checked when the key is used.
            pub fn new(bytes: Vec<u8>) -> Self {
                Self(Secret::new(bytes))
            }

            /// Copies serialized private key bytes.
            pub fn from_slice(bytes: &[u8]) -> Self {
                Self(Secret::from_slice(bytes))
            }

            /// The serialized private key.
            pub fn as_bytes(&self) -> &[u8] {
                self.0.as_bytes()
            }
        }

        impl From<Secret> for $name {
            fn from(secret: Secret) -> Self {
                Self(secret)
            }
        }
    };
}

public_bytes!(
    /// A serialized HPKE (KEM) public key: raw X25519/X448 bytes or an uncompressed SEC1 point
    /// (RFC 9180 §7.1.1).
    HpkePublicKey
);
public_bytes!(
    /// A serialized signature public key: raw Ed25519/Ed448 bytes or an uncompressed SEC1
    /// point for ECDSA.
    SignaturePublicKey
);
private_bytes!(
    /// A serialized HPKE (KEM) private key (`SerializePrivateKey`, RFC 9180 §7.1.2).
    HpkePrivateKey
);
private_bytes!(
    /// A serialized signature private key: the Ed25519 (32-byte) or Ed448 (57-byte) seed, or
    /// the big-endian ECDSA scalar.
    SignaturePrivateKey
);

/// An HPKE key pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HpkeKeyPair {
    /// The private key.
    pub private: HpkePrivateKey,
    /// The public key.
    pub public: HpkePublicKey,
}

/// A signature key pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureKeyPair {
    /// The private key.
    pub private: SignaturePrivateKey,
    /// The public key.
    pub public: SignaturePublicKey,
}

/// The output of HPKE single-shot seal: `HPKECiphertext` of RFC 9420 §5.1.3.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HpkeCiphertext {
    /// The KEM encapsulation (`enc`).
    pub kem_output: Vec<u8>,
    /// The AEAD ciphertext with its tag.
    pub ciphertext: Vec<u8>,
}

/// The `info`-dependent part of an HPKE base-mode key schedule, computed once by
/// [`crate::SuiteOps::hpke_prepare_info`] and reusable for any number of recipients.
///
/// It holds `key_schedule_context = mode || psk_id_hash || info_hash` (RFC 9180 §5.1), which
/// is public.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedInfo {
    suite: CipherSuite,
    key_schedule_context: Vec<u8>,
}

impl PreparedInfo {
    /// Wraps a key-schedule context computed by a backend for `suite`.
    pub fn new(suite: CipherSuite, key_schedule_context: Vec<u8>) -> Self {
        Self {
            suite,
            key_schedule_context,
        }
    }

    /// The suite that prepared it.
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// `mode || psk_id_hash || info_hash`.
    pub fn key_schedule_context(&self) -> &[u8] {
        &self.key_schedule_context
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted_and_eq_compares_bytes() {
        let s = Secret::from_slice(b"top secret");
        assert_eq!(format!("{s:?}"), "Secret(<10 bytes>)");
        assert_eq!(s, Secret::from_slice(b"top secret"));
        assert_ne!(s, Secret::from_slice(b"top secreT"));
        assert_ne!(s, Secret::from_slice(b"top"));
        let k = HpkePrivateKey::from_slice(&[7; 32]);
        assert!(!format!("{k:?}").contains("07"));
    }

    #[test]
    fn into_bytes_returns_contents() {
        assert_eq!(Secret::from_slice(&[1, 2, 3]).into_bytes(), vec![1, 2, 3]);
    }
}
