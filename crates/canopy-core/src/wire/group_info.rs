//! The GroupInfo (RFC 9420 §12.4.3): what a joiner needs to know about the group, signed by
//! the member at leaf `signer`, and the `GroupInfoTBS` input that signature covers.

use tls_codec::{Serialize, Size, TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::extensions::Extensions;
use super::group_context::GroupContext;
use crate::codec::{CodecError, VarBytes};

/// RFC 9420 §12.4.3 `GroupInfo`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct GroupInfo {
    /// `GroupContext group_context`.
    pub group_context: GroupContext,
    /// `Extension extensions<V>`: e.g. `ratchet_tree` and `external_pub`; unknown ones are
    /// ignored by joiners.
    pub extensions: Extensions,
    /// `MAC confirmation_tag` (`opaque MAC<V>`).
    pub confirmation_tag: VarBytes,
    /// `uint32 signer`: the leaf index of the signing member.
    pub signer: u32,
    /// `opaque signature<V>`: `SignWithLabel(., "GroupInfoTBS", GroupInfoTBS)`.
    pub signature: VarBytes,
}

impl GroupInfo {
    /// RFC 9420 §12.4.3: the encoded `GroupInfoTBS` (every field but `signature`), the
    /// content of the GroupInfo's signature.
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] if a vector is longer than 2^30 - 1 bytes.
    pub fn tbs_bytes(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(self.tls_serialized_len());
        self.group_context.tls_serialize(&mut out)?;
        self.extensions.tls_serialize(&mut out)?;
        self.confirmation_tag.tls_serialize(&mut out)?;
        self.signer.tls_serialize(&mut out)?;
        Ok(out)
    }
}
