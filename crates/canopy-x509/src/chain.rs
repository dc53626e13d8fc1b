//! Parsing the certificates of a credential and checking one link of a chain (RFC 5280
//! §4.1, §6.1, as far as RFC 9420 §5.3 needs it).

use canopy_crypto::{CryptoProvider, SignaturePublicKey};
use x509_cert::Certificate;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::spki::{ObjectIdentifier, SubjectPublicKeyInfoOwned};

use crate::X509Error;
use crate::algorithm::suite_for;

/// How much of a credential a peer can make the validator read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainLimits {
    /// The most certificates in one credential (8 by default).
    pub max_certificates: usize,
    /// The longest certificate, in bytes (16 KiB by default).
    pub max_certificate_len: usize,
}

impl Default for ChainLimits {
    fn default() -> Self {
        Self {
            max_certificates: 8,
            max_certificate_len: 16 * 1024,
        }
    }
}

/// RFC 5280 §4.2.1.9, §4.2.1.3, §4.2.1.6, §4.2.1.12: the critical extensions this crate
/// processes (extendedKeyUsage is understood and MLS asks nothing of it). Any other critical
/// extension refuses the certificate (§4.2).
const PROCESSED: [ObjectIdentifier; 4] = [
    ObjectIdentifier::new_unwrap("2.5.29.19"),
    ObjectIdentifier::new_unwrap("2.5.29.15"),
    ObjectIdentifier::new_unwrap("2.5.29.17"),
    ObjectIdentifier::new_unwrap("2.5.29.37"),
];

/// A decoded certificate with the bytes its signature covers.
#[derive(Clone, Debug)]
pub(crate) struct Parsed {
    pub(crate) cert: Certificate,
    /// The certificate's DER, as received.
    pub(crate) der: Vec<u8>,
    /// The DER of `tbsCertificate`, as received.
    tbs: Vec<u8>,
    /// The DER of the subject and issuer names, compared byte for byte (RFC 5280 §7.1).
    pub(crate) subject: Vec<u8>,
    pub(crate) issuer: Vec<u8>,
}

fn malformed(index: usize) -> impl Fn(x509_cert::der::Error) -> X509Error {
    move |e| X509Error::Malformed {
        index,
        reason: e.to_string(),
    }
}

impl Parsed {
    /// Decodes certificate `index` of a chain, refusing it if it is longer than `limits`
    /// allow, is not canonical DER (it would not re-encode to the same bytes, so the signed
    /// bytes would be ambiguous), or names different algorithms inside and outside the signed
    /// part (RFC 5280 §4.1.1.2).
    pub(crate) fn decode(
        der: &[u8],
        index: usize,
        limits: &ChainLimits,
    ) -> Result<Self, X509Error> {
        if der.len() > limits.max_certificate_len {
            return Err(X509Error::CertificateTooLarge {
                index,
                len: der.len(),
                max: limits.max_certificate_len,
            });
        }
        let cert = Certificate::from_der(der).map_err(malformed(index))?;
        if cert.to_der().map_err(malformed(index))? != der {
            return Err(X509Error::Malformed {
                index,
                reason: "not in canonical DER".into(),
            });
        }
        let tbs_cert = cert.tbs_certificate();
        if tbs_cert.signature() != cert.signature_algorithm() {
            return Err(X509Error::Malformed {
                index,
                reason: "signatureAlgorithm differs from tbsCertificate.signature".into(),
            });
        }
        let tbs = tbs_cert.to_der().map_err(malformed(index))?;
        let subject = tbs_cert.subject().to_der().map_err(malformed(index))?;
        let issuer = tbs_cert.issuer().to_der().map_err(malformed(index))?;
        Ok(Self {
            cert,
            der: der.to_vec(),
            tbs,
            subject,
            issuer,
        })
    }

    pub(crate) fn spki(&self) -> &SubjectPublicKeyInfoOwned {
        self.cert.tbs_certificate().subject_public_key_info()
    }

    /// The subject public key's bytes (raw EdDSA key or SEC1 point).
    pub(crate) fn public_key(&self) -> Option<&[u8]> {
        self.spki().subject_public_key.as_bytes()
    }

    /// RFC 5280 §4.1.2.5: `now` lies in `notBefore..=notAfter`.
    pub(crate) fn check_validity(&self, index: usize, now: u64) -> Result<(), X509Error> {
        let validity = self.cert.tbs_certificate().validity();
        let not_before = validity.not_before.to_unix_duration().as_secs();
        let not_after = validity.not_after.to_unix_duration().as_secs();
        if now < not_before {
            return Err(X509Error::NotYetValid {
                index,
                not_before,
                now,
            });
        }
        if now > not_after {
            return Err(X509Error::Expired {
                index,
                not_after,
                now,
            });
        }
        Ok(())
    }

    /// RFC 5280 §4.2: no critical extension that is not processed here, and none twice.
    pub(crate) fn check_extensions(&self, index: usize) -> Result<(), X509Error> {
        let extensions = self
            .cert
            .tbs_certificate()
            .extensions()
            .map_or(&[][..], |e| e);
        for (i, e) in extensions.iter().enumerate() {
            if e.critical && !PROCESSED.contains(&e.extn_id) {
                return Err(X509Error::CriticalExtension {
                    index,
                    oid: e.extn_id.to_string(),
                });
            }
            if extensions
                .iter()
                .skip(i + 1)
                .any(|o| o.extn_id == e.extn_id)
            {
                return Err(X509Error::Malformed {
                    index,
                    reason: format!("extension {} appears twice", e.extn_id),
                });
            }
        }
        Ok(())
    }

    fn key_usage(&self, index: usize) -> Result<Option<KeyUsage>, X509Error> {
        Ok(self
            .cert
            .tbs_certificate()
            .get_extension::<KeyUsage>()
            .map_err(malformed(index))?
            .map(|(_, ku)| ku))
    }

    /// RFC 5280 §4.2.1.3: an end-entity key with a keyUsage may sign (digitalSignature).
    pub(crate) fn check_end_entity(&self) -> Result<(), X509Error> {
        match self.key_usage(0)? {
            Some(ku) if !ku.digital_signature() => Err(X509Error::KeyUsage),
            _ => Ok(()),
        }
    }

    /// RFC 5280 §4.2.1.9, §4.2.1.3: certificate `index` may issue certificates, with
    /// `below` intermediate certificates under it in the chain.
    pub(crate) fn check_issuer(&self, index: usize, below: usize) -> Result<(), X509Error> {
        let constraints = self
            .cert
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
            .map_err(malformed(index))?;
        let Some((_, bc)) = constraints.filter(|(_, bc)| bc.ca) else {
            return Err(X509Error::NotACa {
                index,
                reason: "basicConstraints does not say cA",
            });
        };
        if bc
            .path_len_constraint
            .is_some_and(|max| below > usize::from(max))
        {
            return Err(X509Error::NotACa {
                index,
                reason: "pathLenConstraint exceeded",
            });
        }
        match self.key_usage(index)? {
            Some(ku) if !ku.key_cert_sign() => Err(X509Error::NotACa {
                index,
                reason: "keyUsage does not include keyCertSign",
            }),
            _ => Ok(()),
        }
    }

    /// Verifies this certificate's (number `index`) signature under `issuer`'s key with the
    /// provider's scheme for that algorithm ([`suite_for`]).
    pub(crate) fn verify_signature(
        &self,
        index: usize,
        issuer: &SubjectPublicKeyInfoOwned,
        provider: &dyn CryptoProvider,
    ) -> Result<(), X509Error> {
        let algorithm = self.cert.signature_algorithm();
        let suite = suite_for(algorithm.oid, issuer)
            .filter(|_| algorithm.parameters.is_none())
            .ok_or_else(|| X509Error::UnsupportedAlgorithm {
                index,
                oid: algorithm.oid.to_string(),
            })?;
        let ops = provider.suite(suite)?;
        let key = issuer
            .subject_public_key
            .as_bytes()
            .ok_or(X509Error::BadSignature { index })?;
        let signature = self
            .cert
            .signature()
            .as_bytes()
            .ok_or(X509Error::BadSignature { index })?;
        ops.verify(&SignaturePublicKey::new(key.to_vec()), &self.tbs, signature)
            .map_err(|_| X509Error::BadSignature { index })
    }
}
