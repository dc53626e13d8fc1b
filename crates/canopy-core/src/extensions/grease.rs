//! GREASE for components (draft-ietf-mls-extensions §GREASE): where a LeafNode or KeyPackage
//! carries an `app_data_dictionary`, Canopy adds one GREASE component entry to it and one
//! GREASE id to each of its `app_components` and `safe_aad` lists, as RFC 9420 §13.5 does
//! for capabilities. Receivers ignore unknown components, GREASE included; re-signing a leaf
//! strips them first (`strip`) and draws new ones.

use super::{APP_COMPONENTS, AppDataDictionary, ComponentId, ComponentsList, SAFE_AAD};
use crate::codec::{CodecError, VarVec};
use crate::key_package::capabilities::GreasePicker;
use crate::wire::{ExtensionView, Extensions};

/// The GREASE component ids: `0x0A0A` to `0x7A7A` (the draft's "MLS Component Types"
/// registry; the values above are private use).
pub const COMPONENT_GREASE: [ComponentId; 8] = [
    0x0A0A, 0x1A1A, 0x2A2A, 0x3A3A, 0x4A4A, 0x5A5A, 0x6A6A, 0x7A7A,
];

/// Whether `component` is a GREASE component id.
pub fn is_grease_component(component: ComponentId) -> bool {
    COMPONENT_GREASE.contains(&component)
}

/// Adds GREASE to the `app_data_dictionary` of `extensions`, if there is one: a GREASE
/// entry with a few random bytes, and a GREASE id in each `app_components` and `safe_aad`
/// list it holds. Other extensions are untouched.
///
/// # Errors
/// [`CodecError`] if the dictionary or one of its lists does not decode.
pub(crate) fn add(
    extensions: &mut Extensions,
    picker: &mut GreasePicker,
) -> Result<(), CodecError> {
    let Some(mut dictionary) = extensions.typed::<AppDataDictionary>()? else {
        return Ok(());
    };
    for list_id in [APP_COMPONENTS, SAFE_AAD] {
        let Some(mut list) = dictionary.components_list(list_id)? else {
            continue;
        };
        if let Some(g) = pick(picker, list.component_ids.as_slice()) {
            list.component_ids.0.push(g);
            dictionary.insert(list_id, crate::codec::encode(&list)?);
        }
    }
    let present: Vec<ComponentId> = dictionary
        .entries()
        .iter()
        .map(|e| e.component_id)
        .collect();
    if let Some(g) = pick(picker, &present) {
        dictionary.insert(g, picker.data());
    }
    extensions.set(dictionary.to_extension()?);
    Ok(())
}

/// `extensions` without the GREASE that [`add`] put in their `app_data_dictionary`.
pub(crate) fn strip(extensions: &Extensions) -> Extensions {
    let Ok(Some(mut dictionary)) = extensions.typed::<AppDataDictionary>() else {
        return extensions.clone();
    };
    let grease: Vec<ComponentId> = dictionary
        .entries()
        .iter()
        .map(|e| e.component_id)
        .filter(|&c| is_grease_component(c))
        .collect();
    for g in grease {
        dictionary.remove(g);
    }
    for list_id in [APP_COMPONENTS, SAFE_AAD] {
        if let Ok(Some(list)) = dictionary.components_list(list_id) {
            let kept = ComponentsList {
                component_ids: VarVec(
                    list.component_ids
                        .0
                        .into_iter()
                        .filter(|&c| !is_grease_component(c))
                        .collect(),
                ),
            };
            if let Ok(bytes) = crate::codec::encode(&kept) {
                dictionary.insert(list_id, bytes);
            }
        }
    }
    let mut out = extensions.clone();
    if let Ok(extension) = dictionary.to_extension() {
        out.set(extension);
    }
    out
}

/// A random GREASE component id not in `taken`.
fn pick(picker: &mut GreasePicker, taken: &[ComponentId]) -> Option<ComponentId> {
    let free: Vec<ComponentId> = COMPONENT_GREASE
        .iter()
        .copied()
        .filter(|g| !taken.contains(g))
        .collect();
    let r = usize::from(picker.byte());
    free.get(r.checked_rem(free.len())?).copied()
}

#[cfg(test)]
mod tests {
    use canopy_crypto_rustcrypto::RustCryptoProvider;

    use super::*;

    #[test]
    fn grease_goes_into_the_dictionary_and_its_lists_and_strips_back_out() {
        let mut dictionary = AppDataDictionary::default();
        let list = ComponentsList {
            component_ids: VarVec(vec![0x8001]),
        };
        dictionary.insert(APP_COMPONENTS, crate::codec::encode(&list).unwrap());
        dictionary.insert(SAFE_AAD, crate::codec::encode(&list).unwrap());
        let original = Extensions::new(vec![dictionary.to_extension().unwrap()]).unwrap();
        let provider = RustCryptoProvider::new();
        let mut picker = GreasePicker::new(&provider).unwrap();
        let mut greased = original.clone();
        add(&mut greased, &mut picker).unwrap();
        let d = greased.typed::<AppDataDictionary>().unwrap().unwrap();
        assert_eq!(
            d.entries()
                .iter()
                .filter(|e| is_grease_component(e.component_id))
                .count(),
            1
        );
        for list_id in [APP_COMPONENTS, SAFE_AAD] {
            let ids = d.components_list(list_id).unwrap().unwrap().component_ids.0;
            assert_eq!(ids.len(), 2);
            assert_eq!(ids[0], 0x8001);
            assert!(is_grease_component(ids[1]));
        }
        assert_eq!(strip(&greased), original);
        // Nothing to grease without a dictionary.
        let mut none = Extensions::default();
        add(&mut none, &mut picker).unwrap();
        assert_eq!(none, Extensions::default());
    }
}
