//! The one place the client writes: a group's delta, its table rows and the application's
//! own writes, in **one** store transaction ([`write`]), and the [`AppTx`] view of that
//! transaction that the application's callbacks get.
//!
//! The callers keep the ordering rules of the crate's *Persistence contract*: they call
//! [`write`] after computing an operation's result and before releasing it, and drop their
//! in-memory group if it fails.

use canopy_core::group::StateDelta;
use canopy_crypto::Secret;
use canopy_store::{Store, StoreError, StoreTx, Table};

use crate::{AppError, ClientError};

/// The application's view of the transaction an operation is written in: its own table
/// ([`Table::App`]). Whatever it writes here is committed together with the group's change,
/// or not at all.
pub trait AppTx {
    /// Stores `value` under `key` in the application's table.
    ///
    /// # Errors
    /// As [`StoreTx::put`].
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StoreError>;

    /// The value under `key`, as this transaction sees it.
    ///
    /// # Errors
    /// As [`StoreTx::get`].
    fn get(&self, key: &[u8]) -> Result<Option<Secret>, StoreError>;

    /// Deletes `key`. Returns whether it existed.
    ///
    /// # Errors
    /// As [`StoreTx::delete`].
    fn delete(&mut self, key: &[u8]) -> Result<bool, StoreError>;
}

/// [`AppTx`] over a store transaction.
struct AppView<'t, T>(&'t mut T);

impl<T: StoreTx> AppTx for AppView<'_, T> {
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.0.put(Table::App, key, value)
    }

    fn get(&self, key: &[u8]) -> Result<Option<Secret>, StoreError> {
        self.0.get(Table::App, key)
    }

    fn delete(&mut self, key: &[u8]) -> Result<bool, StoreError> {
        self.0.delete(Table::App, key)
    }
}

/// A write to a client table.
pub(crate) enum TableOp {
    Put(Table, Vec<u8>, Vec<u8>),
    Delete(Table, Vec<u8>),
}

/// Writes, in one transaction: `delta` (checked against the expected version), `ops`, and
/// whatever `app` writes; then commits. Returns the group's new version (if a delta was
/// written) and `app`'s value. On any error nothing is written.
pub(crate) fn write<S: Store, R>(
    store: &mut S,
    delta: Option<(&StateDelta, Option<u64>)>,
    ops: &[TableOp],
    app: impl FnOnce(&mut dyn AppTx) -> Result<R, AppError>,
) -> Result<(Option<u64>, R), ClientError> {
    let mut tx = store.begin()?;
    let version = match delta {
        Some((delta, expected)) => Some(tx.apply(delta, expected)?),
        None => None,
    };
    for op in ops {
        match op {
            TableOp::Put(table, key, value) => tx.put(*table, key, value)?,
            TableOp::Delete(table, key) => {
                tx.delete(*table, key)?;
            }
        }
    }
    let out = app(&mut AppView(&mut tx)).map_err(ClientError::App)?;
    tx.commit()?;
    Ok((version, out))
}
