//! Safe AAD (draft-ietf-mls-extensions §Safe Additional Authenticated Data): when the
//! GroupContext's `app_data_dictionary` holds the `safe_aad` component, a message's whole
//! `authenticated_data` is a `SafeAAD`, one item per component, sorted by component id.

use tls_codec::{TlsSerialize, TlsSize};

use tls_codec::DeserializeBytes;

use super::{AppDataDictionary, ComponentId, strictly_increasing};
use crate::codec::{CodecError, VarBytes, VarVec};
use crate::rules::{Detail, Rule, Violation};
use crate::wire::Extensions;

/// The `safe_aad` component (0x0002): in an `app_data_dictionary`, the components that use
/// Safe AAD.
pub const SAFE_AAD_COMPONENT: ComponentId = 0x0002;

/// `SafeAADItem`.
#[derive(Clone, Debug, PartialEq, Eq, tls_codec::TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct SafeAadItem {
    /// The component.
    pub component_id: ComponentId,
    /// `opaque aad_item_data<V>`.
    pub aad_item_data: VarBytes,
}

/// `SafeAAD`: items sorted by strictly increasing component id (checked when decoded and
/// when built).
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsSerialize, TlsSize)]
pub struct SafeAad {
    aad_items: VarVec<SafeAadItem>,
}

impl SafeAad {
    /// The `SafeAAD` of `items`, sorted by component id.
    ///
    /// # Errors
    /// [`CodecError::ComponentOrder`] if two items name the same component.
    pub fn new(mut items: Vec<SafeAadItem>) -> Result<Self, CodecError> {
        items.sort_by_key(|i| i.component_id);
        strictly_increasing(items.iter().map(|i| i.component_id))?;
        Ok(Self {
            aad_items: VarVec(items),
        })
    }

    /// The items, sorted by component id.
    pub fn items(&self) -> &[SafeAadItem] {
        self.aad_items.as_slice()
    }

    /// The data of `component`, if it has an item.
    pub fn get(&self, component: ComponentId) -> Option<&[u8]> {
        let items = self.aad_items.as_slice();
        items
            .binary_search_by_key(&component, |i| i.component_id)
            .ok()
            .and_then(|i| items.get(i))
            .map(|i| i.aad_item_data.as_slice())
    }

    /// The `authenticated_data` bytes of this `SafeAAD`.
    ///
    /// # Errors
    /// [`CodecError::LengthTooLarge`] for items of 2^30 bytes or more.
    pub fn to_bytes(&self) -> Result<Vec<u8>, CodecError> {
        crate::codec::encode(self)
    }

    /// A message's `authenticated_data` read as a `SafeAAD` (exactly: trailing bytes are an
    /// error).
    ///
    /// # Errors
    /// Any [`CodecError`]; [`CodecError::ComponentOrder`] if the items are not sorted or a
    /// component repeats.
    pub fn from_bytes(authenticated_data: &[u8]) -> Result<Self, CodecError> {
        crate::codec::decode_exact(authenticated_data)
    }
}

impl DeserializeBytes for SafeAad {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (aad_items, rest) = VarVec::<SafeAadItem>::tls_deserialize_bytes(bytes)?;
        strictly_increasing(aad_items.as_slice().iter().map(|i| i.component_id))
            .map_err(CodecError::into_tls_decoding)?;
        Ok((Self { aad_items }, rest))
    }
}

/// Whether the GroupContext `extensions` frame every message's `authenticated_data` as a
/// `SafeAAD`: their `app_data_dictionary` holds the `safe_aad` component, even with an empty
/// list (draft-ietf-mls-extensions §Negotiating Extensions and Components). A dictionary that
/// does not decode counts as requiring it (the stricter reading; a GroupContext is checked
/// when it is set).
pub(crate) fn required(extensions: &Extensions) -> bool {
    match extensions.typed::<AppDataDictionary>() {
        Ok(None) => false,
        Ok(Some(dictionary)) => dictionary.get(SAFE_AAD_COMPONENT).is_some(),
        Err(_) => true,
    }
}

/// XT-04: where the group requires Safe AAD, `authenticated_data` starts with a `SafeAAD`
/// whose items are sorted by component id. The draft's negotiation section says the field
/// "always starts with the SafeAAD struct"; bytes after it are accepted, as that reading
/// allows.
pub(crate) fn check(extensions: &Extensions, authenticated_data: &[u8]) -> Result<(), Violation> {
    if !required(extensions) {
        return Ok(());
    }
    SafeAad::tls_deserialize_bytes(authenticated_data)
        .map(|_| ())
        .map_err(|e| {
            Violation::new(Rule::SafeAadFraming)
                .with(Detail::Reason(CodecError::from(e).to_string()))
        })
}

/// The `authenticated_data` to send in a group with GroupContext `extensions`: as given,
/// or, where Safe AAD is required and nothing is given, the empty `SafeAAD` (one zero byte).
///
/// # Errors
/// XT-04 if Safe AAD is required and `authenticated_data` does not start with a `SafeAAD`.
pub(crate) fn frame(
    extensions: &Extensions,
    authenticated_data: Vec<u8>,
) -> Result<Vec<u8>, Violation> {
    if authenticated_data.is_empty() && required(extensions) {
        return Ok(vec![0]);
    }
    check(extensions, &authenticated_data)?;
    Ok(authenticated_data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(component_id: ComponentId, data: &[u8]) -> SafeAadItem {
        SafeAadItem {
            component_id,
            aad_item_data: VarBytes(data.to_vec()),
        }
    }

    #[test]
    fn items_are_sorted_unique_and_an_empty_list_is_one_byte() {
        let aad = SafeAad::new(vec![item(0x8001, b"b"), item(5, b"a")]).unwrap();
        assert_eq!(aad.get(5), Some(&b"a"[..]));
        assert_eq!(aad.get(0x8001), Some(&b"b"[..]));
        let bytes = aad.to_bytes().unwrap();
        assert_eq!(bytes, [8, 0x00, 0x05, 1, b'a', 0x80, 0x01, 1, b'b']);
        assert_eq!(SafeAad::from_bytes(&bytes).unwrap(), aad);
        assert_eq!(SafeAad::default().to_bytes().unwrap(), [0]);
        assert_eq!(
            SafeAad::new(vec![item(5, b"a"), item(5, b"b")]),
            Err(CodecError::ComponentOrder(5))
        );
        // Unsorted on the wire, and trailing bytes.
        let unsorted = [8, 0x80, 0x01, 1, b'b', 0x00, 0x05, 1, b'a'];
        assert_eq!(
            SafeAad::from_bytes(&unsorted),
            Err(CodecError::ComponentOrder(5))
        );
        assert!(SafeAad::from_bytes(&[0, 0]).is_err());
    }
}
