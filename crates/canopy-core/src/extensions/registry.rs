//! The application's components (draft-ietf-mls-extensions §Updating Application Data in the
//! GroupContext, §Attaching Application Data to a Commit): which component ids the
//! application knows, and the logic registered to each, which validates AppEphemeral data
//! and turns AppDataUpdate updates into a component's new data.
//!
//! Canopy handles the draft's own components itself: an AppDataUpdate of `app_components`,
//! `safe_aad` or `content_media_types` replaces the entry with its (last) update, which must
//! decode as the component's type, and an AppEphemeral of `app_ack` must be an `AppAck`.

use canopy_crypto::Secret;

use super::ComponentId;
use super::app_ack::AppAck;
use super::media_types::MediaTypeList;
use super::negotiation::{APP_ACK, APP_COMPONENTS, CONTENT_MEDIA_TYPES, ComponentsList, SAFE_AAD};
use crate::group::PolicyRefusal;
use crate::wire::Sender;

/// The logic of the application's components. Every member must compute the same result
/// from the same input: the new `app_data_dictionary` enters the GroupContext.
pub trait AppComponents: Send + Sync {
    /// Whether the application knows `component` (an AppDataUpdate or AppEphemeral of an
    /// unknown component is invalid: rules AD-01, AE-01).
    fn knows(&self, component: ComponentId) -> bool;

    /// Whether `data` of an AppEphemeral proposal from `sender` is valid for `component`
    /// (rule AE-02). The default accepts everything.
    ///
    /// # Errors
    /// The refusal, which makes the proposal (and a commit carrying it) invalid.
    fn check_ephemeral(
        &self,
        component: ComponentId,
        sender: &Sender,
        data: &[u8],
    ) -> Result<(), PolicyRefusal> {
        let _ = (component, sender, data);
        Ok(())
    }

    /// The new data of `component` after the `updates` of one commit, in commit order,
    /// applied to its `current` data (rule AD-04). The default replaces the data with the
    /// last update.
    ///
    /// # Errors
    /// The refusal, which makes the commit invalid.
    fn apply_updates(
        &self,
        component: ComponentId,
        current: Option<&[u8]>,
        updates: &[&[u8]],
    ) -> Result<Vec<u8>, PolicyRefusal> {
        let _ = (component, current);
        updates
            .last()
            .map(|u| u.to_vec())
            .ok_or_else(|| PolicyRefusal::new("no update"))
    }

    /// The value of `component`'s PSK `psk_id` (draft-ietf-mls-extensions §Pre-Shared Keys:
    /// `PSKType` `application`), or `None` if the application does not hold it (the commit
    /// or Welcome that needs it then fails with `MissingPsk`). The default holds none.
    fn psk(&self, component: ComponentId, psk_id: &[u8]) -> Option<Secret> {
        let _ = (component, psk_id);
        None
    }
}

/// No application components: every AppDataUpdate and AppEphemeral of an application
/// component is refused (the draft's own components still work).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoComponents;

impl AppComponents for NoComponents {
    fn knows(&self, _: ComponentId) -> bool {
        false
    }
}

pub(crate) static NO_COMPONENTS: NoComponents = NoComponents;

/// Components whose data is whatever their last update says: the application knows the ids
/// it lists, accepts every AppEphemeral, and replaces data on update.
#[derive(Clone, Debug, Default)]
pub struct ReplacingComponents {
    known: Vec<ComponentId>,
}

impl ReplacingComponents {
    /// The components `known`.
    pub fn new(known: impl IntoIterator<Item = ComponentId>) -> Self {
        let mut known: Vec<ComponentId> = known.into_iter().collect();
        known.sort_unstable();
        known.dedup();
        Self { known }
    }
}

impl AppComponents for ReplacingComponents {
    fn knows(&self, component: ComponentId) -> bool {
        self.known.binary_search(&component).is_ok()
    }
}

/// Whether Canopy itself handles AppDataUpdates of `component`.
fn is_builtin_data(component: ComponentId) -> bool {
    matches!(component, APP_COMPONENTS | SAFE_AAD | CONTENT_MEDIA_TYPES)
}

/// AD-01: an AppDataUpdate names a component Canopy or the application knows.
pub(crate) fn knows_data(components: &dyn AppComponents, component: ComponentId) -> bool {
    is_builtin_data(component) || components.knows(component)
}

/// AE-01: an AppEphemeral names a component Canopy or the application knows.
pub(crate) fn knows_ephemeral(components: &dyn AppComponents, component: ComponentId) -> bool {
    component == APP_ACK || components.knows(component)
}

/// AE-02: the data of an AppEphemeral is valid: an `AppAck` for `app_ack`, and whatever the
/// application's logic accepts for its own components.
pub(crate) fn check_ephemeral(
    components: &dyn AppComponents,
    component: ComponentId,
    sender: &Sender,
    data: &[u8],
) -> Result<(), PolicyRefusal> {
    if component == APP_ACK {
        AppAck::from_bytes(data).map_err(|e| PolicyRefusal::new(format!("AppAck: {e}")))?;
        if !components.knows(APP_ACK) {
            return Ok(());
        }
    }
    components.check_ephemeral(component, sender, data)
}

/// AD-04: the new data of `component` after `updates`.
pub(crate) fn apply_updates(
    components: &dyn AppComponents,
    component: ComponentId,
    current: Option<&[u8]>,
    updates: &[&[u8]],
) -> Result<Vec<u8>, PolicyRefusal> {
    if !is_builtin_data(component) {
        return components.apply_updates(component, current, updates);
    }
    let last = updates
        .last()
        .ok_or_else(|| PolicyRefusal::new("no update"))?;
    let valid = if component == CONTENT_MEDIA_TYPES {
        crate::codec::decode_exact::<MediaTypeList>(last).is_ok()
    } else {
        crate::codec::decode_exact::<ComponentsList>(last).is_ok()
    };
    if valid {
        Ok(last.to_vec())
    } else {
        Err(PolicyRefusal::new(format!(
            "malformed data for component {component}"
        )))
    }
}
