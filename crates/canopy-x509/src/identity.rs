//! Which identity an X.509 credential presents (RFC 9420 §5.3.1: "the AS ... verif[ies] the
//! binding between the presented identifiers and the signature key").

use x509_cert::Certificate;
use x509_cert::der::Encode;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;

use crate::X509Error;

/// Where the identity of a member is read from its end-entity certificate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentitySource {
    /// The subject's commonName (the default).
    #[default]
    SubjectCommonName,
    /// The whole subject name, as DER.
    Subject,
    /// The first dNSName of the subjectAltName.
    SanDns,
    /// The first rfc822Name (e-mail address) of the subjectAltName.
    SanEmail,
    /// The first uniformResourceIdentifier of the subjectAltName.
    SanUri,
}

impl IdentitySource {
    fn name(self) -> &'static str {
        match self {
            Self::SubjectCommonName => "subject commonName",
            Self::Subject => "subject",
            Self::SanDns => "subjectAltName dNSName",
            Self::SanEmail => "subjectAltName rfc822Name",
            Self::SanUri => "subjectAltName URI",
        }
    }

    /// The identity `cert` presents under this source.
    ///
    /// # Errors
    /// [`X509Error::NoIdentity`] if it presents none, [`X509Error::Malformed`] if the
    /// extension holding it does not decode.
    pub(crate) fn of(self, cert: &Certificate) -> Result<Vec<u8>, X509Error> {
        let tbs = cert.tbs_certificate();
        let malformed = |e: x509_cert::der::Error| X509Error::Malformed {
            index: 0,
            reason: e.to_string(),
        };
        let found = match self {
            Self::SubjectCommonName => tbs
                .subject()
                .common_name()
                .map_err(malformed)?
                .map(|cn| cn.value().as_bytes().to_vec()),
            Self::Subject => Some(tbs.subject().to_der().map_err(malformed)?),
            Self::SanDns | Self::SanEmail | Self::SanUri => {
                let san = tbs
                    .get_extension::<SubjectAltName>()
                    .map_err(malformed)?
                    .map(|(_, san)| san.0)
                    .unwrap_or_default();
                san.iter().find_map(|name| match (self, name) {
                    (Self::SanDns, GeneralName::DnsName(s))
                    | (Self::SanEmail, GeneralName::Rfc822Name(s))
                    | (Self::SanUri, GeneralName::UniformResourceIdentifier(s)) => {
                        Some(s.as_bytes().to_vec())
                    }
                    _ => None,
                })
            }
        };
        found
            .filter(|id| !id.is_empty())
            .ok_or_else(|| X509Error::NoIdentity(self.name()))
    }
}

/// An X.509 credential that passed every check of [`X509Validator`](crate::X509Validator),
/// as the application's [`IdentityCheck`](crate::IdentityCheck) sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifiedIdentity {
    /// The identity, from the configured [`IdentitySource`].
    pub identity: Vec<u8>,
    /// The end-entity certificate, DER.
    pub end_entity: Vec<u8>,
    /// The subject name (DER) of the trust anchor the chain leads to.
    pub anchor_subject: Vec<u8>,
    /// How many certificates the credential carried.
    pub chain_len: usize,
}
