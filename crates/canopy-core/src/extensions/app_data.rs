//! The `app_data_dictionary` extension (draft-ietf-mls-extensions §Attaching Application
//! Data to MLS Messages): application data by component, in a KeyPackage, LeafNode,
//! GroupContext or GroupInfo.

use tls_codec::{TlsDeserializeBytes, TlsSerialize, TlsSize};

use super::{ComponentId, strictly_increasing};
use crate::codec::{CodecError, VarBytes, VarVec};
use crate::rules::{Detail, Rule, Violation};
use crate::wire::{Extension, ExtensionType, ExtensionView, Extensions};

/// `app_data_dictionary` (0x0006, the value the draft suggests).
pub const APP_DATA_DICTIONARY: ExtensionType = ExtensionType(0x0006);

/// `ComponentData`: one component's data.
#[derive(Clone, Debug, PartialEq, Eq, TlsDeserializeBytes, TlsSerialize, TlsSize)]
pub struct ComponentData {
    /// The component.
    pub component_id: ComponentId,
    /// `opaque data<V>`.
    pub data: VarBytes,
}

/// `AppDataDictionary`: at most one entry per component, sorted by component id (checked
/// when decoded; kept by [`Self::insert`] and [`Self::remove`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, TlsSerialize, TlsSize)]
pub struct AppDataDictionary {
    component_data: VarVec<ComponentData>,
}

impl AppDataDictionary {
    /// The entries, sorted by component id.
    pub fn entries(&self) -> &[ComponentData] {
        self.component_data.as_slice()
    }

    /// The data of `component`, if it has an entry.
    pub fn get(&self, component: ComponentId) -> Option<&[u8]> {
        self.position(component)
            .ok()
            .and_then(|i| self.component_data.as_slice().get(i))
            .map(|e| e.data.as_slice())
    }

    /// Sets the data of `component` (replacing an entry, or inserting one in order).
    pub fn insert(&mut self, component: ComponentId, data: Vec<u8>) {
        let entry = ComponentData {
            component_id: component,
            data: VarBytes(data),
        };
        match self.position(component) {
            Ok(i) => {
                if let Some(slot) = self.component_data.0.get_mut(i) {
                    *slot = entry;
                }
            }
            Err(i) => self.component_data.0.insert(i, entry),
        }
    }

    /// Removes the entry of `component`; whether there was one.
    pub fn remove(&mut self, component: ComponentId) -> bool {
        match self.position(component) {
            Ok(i) => {
                self.component_data.0.remove(i);
                true
            }
            Err(_) => false,
        }
    }

    fn position(&self, component: ComponentId) -> Result<usize, usize> {
        self.component_data
            .as_slice()
            .binary_search_by_key(&component, |e| e.component_id)
    }
}

impl tls_codec::DeserializeBytes for AppDataDictionary {
    fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
        let (component_data, rest) = VarVec::<ComponentData>::tls_deserialize_bytes(bytes)?;
        strictly_increasing(component_data.as_slice().iter().map(|e| e.component_id))
            .map_err(CodecError::into_tls_decoding)?;
        Ok((Self { component_data }, rest))
    }
}

impl ExtensionView for AppDataDictionary {
    const EXTENSION_TYPE: ExtensionType = APP_DATA_DICTIONARY;

    fn from_extension_data(extension_data: &[u8]) -> Result<Self, CodecError> {
        crate::codec::decode_exact(extension_data)
    }

    fn to_extension(&self) -> Result<Extension, CodecError> {
        Ok(Extension {
            extension_type: APP_DATA_DICTIONARY,
            extension_data: VarBytes(crate::codec::encode(self)?),
        })
    }
}

/// draft-ietf-mls-extensions §Last-Resort KeyPackages: adds the `last_resort_key_package`
/// component (empty data) to the `app_data_dictionary` of KeyPackage `extensions`, creating
/// the dictionary if there is none.
///
/// # Errors
/// [`CodecError`] if an existing dictionary does not decode.
pub(crate) fn mark_last_resort(extensions: &mut Extensions) -> Result<(), CodecError> {
    let mut dictionary = extensions.typed::<AppDataDictionary>()?.unwrap_or_default();
    dictionary.insert(super::LAST_RESORT_KEY_PACKAGE, Vec::new());
    extensions.set(dictionary.to_extension()?);
    Ok(())
}

/// Whether KeyPackage `extensions` hold the `last_resort_key_package` component.
pub(crate) fn is_marked_last_resort(extensions: &Extensions) -> bool {
    extensions
        .typed::<AppDataDictionary>()
        .ok()
        .flatten()
        .is_some_and(|d| d.get(super::LAST_RESORT_KEY_PACKAGE).is_some())
}

/// XT-05: a `last_resort_key_package` component carries no data.
///
/// # Errors
/// The violation.
pub(crate) fn check_last_resort(extensions: &Extensions) -> Result<(), Violation> {
    let dictionary = extensions
        .typed::<AppDataDictionary>()
        .map_err(|_| Violation::new(Rule::LastResortComponent))?;
    match dictionary
        .as_ref()
        .and_then(|d| d.get(super::LAST_RESORT_KEY_PACKAGE))
    {
        Some(data) if !data.is_empty() => {
            Err(Violation::new(Rule::LastResortComponent).with(Detail::Length(data.len())))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stay_sorted_and_unique_and_decoding_refuses_disorder() {
        let mut d = AppDataDictionary::default();
        d.insert(9, b"nine".to_vec());
        d.insert(2, b"two".to_vec());
        d.insert(9, b"NINE".to_vec());
        assert_eq!(d.get(9), Some(&b"NINE"[..]));
        assert_eq!(d.get(3), None);
        let ids: Vec<_> = d.entries().iter().map(|e| e.component_id).collect();
        assert_eq!(ids, [2, 9]);
        let ext = d.to_extension().unwrap();
        assert_eq!(ext.extension_type, APP_DATA_DICTIONARY);
        assert_eq!(
            AppDataDictionary::from_extension_data(ext.extension_data.as_slice()).unwrap(),
            d
        );
        assert!(d.remove(2));
        assert!(!d.remove(2));

        // Out of order, and repeated, on the wire.
        for ids in [[9u16, 2], [4, 4]] {
            let bad = ids
                .iter()
                .map(|&component_id| ComponentData {
                    component_id,
                    data: VarBytes(vec![1]),
                })
                .collect::<Vec<_>>();
            let bytes = crate::codec::encode(&VarVec(bad)).unwrap();
            assert_eq!(
                AppDataDictionary::from_extension_data(&bytes),
                Err(CodecError::ComponentOrder(ids[1]))
            );
        }
    }
}
