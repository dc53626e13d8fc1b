//! The Commit (RFC 9420 §12.4): the proposals it applies and an optional UpdatePath.

use tls_codec::{TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::proposals::ProposalOrRef;
use super::tree::UpdatePath;
use crate::codec::VarVec;

/// RFC 9420 §12.4 `Commit`.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct Commit {
    /// `ProposalOrRef proposals<V>`, in application order.
    pub proposals: VarVec<ProposalOrRef>,
    /// `optional<UpdatePath> path`.
    #[tls_codec(with = "crate::codec::fields::optional")]
    pub path: Option<UpdatePath>,
}
