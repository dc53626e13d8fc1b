//! Applying a commit's AppDataUpdate proposals to the GroupContext's `app_data_dictionary`
//! (draft-ietf-mls-extensions §Updating Application Data in the GroupContext): by component,
//! in commit order, after the RFC 9420 proposals and the AppEphemerals.

use std::collections::BTreeMap;

use super::ComponentId;
use super::app_data::AppDataDictionary;
use super::registry::{AppComponents, apply_updates};
use crate::rules::{Detail, Rule, Violation};
use crate::wire::{AppDataOp, AppDataUpdate, ExtensionView, Extensions};

/// The GroupContext extensions after `updates` (in commit order) are applied to
/// `extensions`, and the components whose data changed. `None` if there are no updates.
///
/// # Errors
/// AD-03 if a component has a `remove` and any other operation, AD-02 if a `remove` names a
/// component without data, AD-04 if the component's logic refuses its updates.
pub(crate) fn apply<'a>(
    components: &dyn AppComponents,
    extensions: &Extensions,
    updates: impl Iterator<Item = &'a AppDataUpdate>,
) -> Result<Option<(Extensions, Vec<ComponentId>)>, Violation> {
    let mut by_component: BTreeMap<ComponentId, Vec<&AppDataOp>> = BTreeMap::new();
    for u in updates {
        by_component.entry(u.component_id).or_default().push(&u.op);
    }
    if by_component.is_empty() {
        return Ok(None);
    }
    let mut dictionary: AppDataDictionary = extensions
        .typed()
        .map_err(|_| Violation::new(Rule::AppDataUpdateRefused))?
        .unwrap_or_default();
    let mut changed = Vec::with_capacity(by_component.len());
    for (component, ops) in by_component {
        let detail = || Detail::Reason(format!("component {component}"));
        match ops.as_slice() {
            [AppDataOp::Remove] => {
                if !dictionary.remove(component) {
                    return Err(Violation::new(Rule::AppDataUpdateRemoveAbsent).with(detail()));
                }
            }
            ops => {
                let updates: Vec<&[u8]> = ops
                    .iter()
                    .map(|op| match op {
                        AppDataOp::Update(u) => Some(u.as_slice()),
                        AppDataOp::Remove => None,
                    })
                    .collect::<Option<_>>()
                    .ok_or_else(|| Violation::new(Rule::AppDataUpdateList).with(detail()))?;
                let new = apply_updates(components, component, dictionary.get(component), &updates)
                    .map_err(|r| {
                        Violation::new(Rule::AppDataUpdateRefused).with(r.into_detail())
                    })?;
                dictionary.insert(component, new);
            }
        }
        changed.push(component);
    }
    let mut out = extensions.clone();
    out.set(
        dictionary
            .to_extension()
            .map_err(|_| Violation::new(Rule::AppDataUpdateRefused))?,
    );
    Ok(Some((out, changed)))
}
