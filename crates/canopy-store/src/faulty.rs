//! [`FaultyStore`]: a wrapper that makes a chosen begin, write or commit fail, for tests of
//! the persistence ordering (an encrypt whose ratchet advance cannot be written must return
//! an error and no ciphertext, and so on).
//!
//! Faults are armed through a [`Faults`] handle, which can be cloned and kept by the test
//! while the store itself is moved into the code under test. An armed fault fires once. A
//! failed write happens before the wrapped store sees it, and aborts the transaction like a
//! real failed write ([`StoreError::Aborted`] afterwards); a failed commit rolls the wrapped
//! transaction back, so nothing of it is durable.

use std::sync::{Arc, Mutex, PoisonError};

use canopy_core::group::StateDelta;
use canopy_crypto::Secret;

use crate::{LoadedGroup, Store, StoreError, StoreTx, Table};

/// What is armed, and what happened.
#[derive(Debug, Default)]
struct Plan {
    fail_begin: bool,
    /// Fail the write after this many more writes succeed.
    fail_write_after: Option<u64>,
    fail_commit: bool,
    commits: u64,
    injected: u64,
}

/// The switchboard of a [`FaultyStore`]: arm faults, count commits. Clones share one state.
#[derive(Clone, Debug, Default)]
pub struct Faults(Arc<Mutex<Plan>>);

impl Faults {
    fn with<T>(&self, f: impl FnOnce(&mut Plan) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The next [`Store::begin`] fails.
    pub fn fail_next_begin(&self) {
        self.with(|p| p.fail_begin = true);
    }

    /// The next write ([`StoreTx::apply`], `put`, `delete`, `delete_group`) fails.
    pub fn fail_next_write(&self) {
        self.fail_write_after(0);
    }

    /// The write after the next `n` writes fails (`n = 0`: the next one).
    pub fn fail_write_after(&self, n: u64) {
        self.with(|p| p.fail_write_after = Some(n));
    }

    /// The next [`StoreTx::commit`] fails (and rolls back).
    pub fn fail_next_commit(&self) {
        self.with(|p| p.fail_commit = true);
    }

    /// Disarms every fault.
    pub fn clear(&self) {
        self.with(|p| {
            p.fail_begin = false;
            p.fail_write_after = None;
            p.fail_commit = false;
        });
    }

    /// How many transactions were committed.
    pub fn commits(&self) -> u64 {
        self.with(|p| p.commits)
    }

    /// How many failures were injected.
    pub fn injected(&self) -> u64 {
        self.with(|p| p.injected)
    }

    fn take_begin(&self) -> bool {
        self.with(|p| {
            let fire = p.fail_begin;
            p.fail_begin = false;
            p.injected += u64::from(fire);
            fire
        })
    }

    fn take_write(&self) -> bool {
        self.with(|p| match p.fail_write_after {
            Some(0) => {
                p.fail_write_after = None;
                p.injected += 1;
                true
            }
            Some(n) => {
                p.fail_write_after = Some(n - 1);
                false
            }
            None => false,
        })
    }

    fn take_commit(&self) -> bool {
        self.with(|p| {
            let fire = p.fail_commit;
            p.fail_commit = false;
            p.injected += u64::from(fire);
            fire
        })
    }
}

/// A store whose begin, writes or commit can be made to fail (see [`Faults`]). With no fault
/// armed it behaves exactly as the wrapped store.
#[derive(Clone, Debug, Default)]
pub struct FaultyStore<S> {
    inner: S,
    faults: Faults,
}

impl<S> FaultyStore<S> {
    /// Wraps `inner`, with no fault armed.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            faults: Faults::default(),
        }
    }

    /// The wrapped store.
    pub fn inner_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The handle that arms faults (shared with this store).
    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// The wrapped store.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Store> Store for FaultyStore<S> {
    type Tx<'a>
        = FaultyTx<S::Tx<'a>>
    where
        S: 'a;

    fn begin(&mut self) -> Result<Self::Tx<'_>, StoreError> {
        if self.faults.take_begin() {
            return Err(StoreError::Injected { operation: "begin" });
        }
        Ok(FaultyTx {
            inner: self.inner.begin()?,
            faults: self.faults.clone(),
            aborted: false,
        })
    }

    fn group_ids(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        self.inner.group_ids()
    }

    fn group_version(&self, group_id: &[u8]) -> Result<Option<u64>, StoreError> {
        self.inner.group_version(group_id)
    }

    fn load_group(&self, group_id: &[u8]) -> Result<Option<LoadedGroup>, StoreError> {
        self.inner.load_group(group_id)
    }

    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Secret>, StoreError> {
        self.inner.get(table, key)
    }

    fn list(&self, table: Table) -> Result<Vec<(Vec<u8>, Secret)>, StoreError> {
        self.inner.list(table)
    }
}

/// A [`FaultyStore`] transaction: the wrapped store's, with faults injected.
#[derive(Debug)]
pub struct FaultyTx<T> {
    inner: T,
    faults: Faults,
    aborted: bool,
}

impl<T> FaultyTx<T> {
    /// The wrapped transaction (for example a [`SqliteTx`](crate::SqliteTx), for
    /// [`SqliteTx::sql`](crate::SqliteTx::sql)).
    pub fn inner(&self) -> &T {
        &self.inner
    }

    fn check(&mut self, operation: &'static str) -> Result<(), StoreError> {
        if self.aborted {
            return Err(StoreError::Aborted);
        }
        if self.faults.take_write() {
            self.aborted = true;
            return Err(StoreError::Injected { operation });
        }
        Ok(())
    }
}

impl<T: StoreTx> StoreTx for FaultyTx<T> {
    fn apply(&mut self, delta: &StateDelta, expected: Option<u64>) -> Result<u64, StoreError> {
        self.check("apply")?;
        self.inner.apply(delta, expected)
    }

    fn delete_group(&mut self, group_id: &[u8]) -> Result<bool, StoreError> {
        self.check("delete_group")?;
        self.inner.delete_group(group_id)
    }

    fn put(&mut self, table: Table, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        self.check("put")?;
        self.inner.put(table, key, value)
    }

    fn delete(&mut self, table: Table, key: &[u8]) -> Result<bool, StoreError> {
        self.check("delete")?;
        self.inner.delete(table, key)
    }

    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Secret>, StoreError> {
        self.inner.get(table, key)
    }

    fn list(&self, table: Table) -> Result<Vec<(Vec<u8>, Secret)>, StoreError> {
        self.inner.list(table)
    }

    fn group_version(&self, group_id: &[u8]) -> Result<Option<u64>, StoreError> {
        self.inner.group_version(group_id)
    }

    fn commit(self) -> Result<(), StoreError> {
        if self.aborted {
            return Err(StoreError::Aborted);
        }
        if self.faults.take_commit() {
            // Dropping the wrapped transaction rolls it back.
            return Err(StoreError::Injected {
                operation: "commit",
            });
        }
        self.inner.commit()?;
        self.faults.with(|p| p.commits += 1);
        Ok(())
    }
}
