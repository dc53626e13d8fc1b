//! The Delivery Service's tables (STYLE.md B.7): users and devices, the nonces of the
//! signature window, the KeyPackage directory, groups with their ordered logs and the
//! first-commit-wins row of each epoch, per-device cursors and the personal Welcome queues.
//!
//! [`DsStore`] opens a transaction ([`DsTx`]); the Delivery Service's service functions run
//! in one and commit it, so every request is all or nothing and requests that touch one
//! group are ordered by the database. [`SqliteDs`] is the embedded backend; the PostgreSQL
//! backend lives with the Delivery Service and implements the same traits over the same
//! migrations (`migrations/ds/`).
//!
//! The costs the Delivery Service relies on: accepting a message is one insert and one
//! update, whatever the group's size; reading an inbox is an index range per group of the
//! device; an ack is one update.

mod sqlite;

pub use sqlite::{SqliteDs, SqliteDsTx};

use crate::StoreError;

/// The Delivery Service's migrations, oldest first; both backends apply the same list.
pub const DS_MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/ds/0001_init.sql"),
    include_str!("../../migrations/ds/0002_group_blobs.sql"),
    include_str!("../../migrations/ds/0003_members_by_device.sql"),
];

/// A registered device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRow {
    /// `user/device`.
    pub id: String,
    /// The user's name.
    pub user: String,
    /// The cipher suite of its signature key.
    pub suite: u16,
    /// Its MLS signature public key.
    pub signature_key: Vec<u8>,
}

/// A group as the Delivery Service keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRow {
    /// The group id.
    pub id: Vec<u8>,
    /// 1: public (PublicMessage handshakes), 2: private.
    pub mode: u8,
    /// The current epoch.
    pub epoch: u64,
    /// The next position of its log (positions start at 1).
    pub next_seq: u64,
    /// The saved public view (public groups).
    pub state: Option<Vec<u8>>,
    /// The position of the message that last changed `state` (0: the creation).
    pub state_seq: u64,
    /// The latest GroupInfo a member published.
    pub group_info: Option<Vec<u8>>,
}

/// A group's large columns, read only when needed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupBlobs {
    /// The saved public view (public groups).
    pub state: Option<Vec<u8>>,
    /// The latest GroupInfo a member published.
    pub group_info: Option<Vec<u8>>,
}

/// One entry of an inbox read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboxEntry {
    /// A Welcome of the personal queue.
    Welcome {
        /// Its position in the queue.
        seq: u64,
        /// The MLSMessage.
        body: Vec<u8>,
    },
    /// A message of a group's log.
    Group {
        /// The group.
        group_id: Vec<u8>,
        /// Its position in the log.
        seq: u64,
        /// The MLSMessage.
        body: Vec<u8>,
    },
}

/// KeyPackages a device has for one suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyPackageStock {
    /// The suite.
    pub suite: u16,
    /// Ordinary KeyPackages left.
    pub remaining: u32,
    /// Whether a last-resort one is stored.
    pub last_resort: bool,
}

/// A Delivery Service database: opens transactions.
pub trait DsStore: Send + Sync {
    /// A write transaction; dropping it without [`DsTx::commit`] rolls it back.
    ///
    /// # Errors
    /// [`StoreError::Busy`] if another writer holds the database too long, or a backend error.
    fn begin(&self) -> Result<Box<dyn DsTx + '_>, StoreError>;

    /// Whether the database has one writer, so that requests are better committed together
    /// (group commit: one transaction for the requests that queued while the last one ran,
    /// each request in a savepoint of its own). SQLite: yes; PostgreSQL: no, its connections
    /// write concurrently.
    fn single_writer(&self) -> bool {
        false
    }
}

/// The operations of one Delivery Service transaction. Methods that report "already there"
/// return `false` and write nothing.
pub trait DsTx {
    /// A new user; `false` if the name is taken.
    fn insert_user(&mut self, name: &str, now: u64) -> Result<bool, StoreError>;
    /// A new device; `false` if its id or its signature key is taken.
    fn insert_device(&mut self, device: &DeviceRow, now: u64) -> Result<bool, StoreError>;
    /// The device `id`.
    fn device(&mut self, id: &str) -> Result<Option<DeviceRow>, StoreError>;
    /// The device whose signature key is `key`.
    fn device_by_key(&mut self, key: &[u8]) -> Result<Option<String>, StoreError>;
    /// The devices of `user`, in registration order.
    fn devices_of(&mut self, user: &str) -> Result<Vec<DeviceRow>, StoreError>;
    /// Records that `device` used `nonce` (kept until `expires`, then deleted by
    /// [`DsTx::prune`]); `false` if it was already used.
    fn use_nonce(&mut self, device: &str, nonce: &[u8], expires: u64) -> Result<bool, StoreError>;

    /// Stores a KeyPackage; `false` if one with this reference is stored. A new last-resort
    /// KeyPackage replaces the device's previous one of that suite.
    fn insert_key_package(
        &mut self,
        device: &str,
        suite: u16,
        reference: &[u8],
        last_resort: bool,
        body: &[u8],
    ) -> Result<bool, StoreError>;
    /// What `device` has left, per suite.
    fn key_package_stock(&mut self, device: &str) -> Result<Vec<KeyPackageStock>, StoreError>;
    /// The device's oldest ordinary KeyPackage of `suite`, deleted, or else its last-resort
    /// one, kept.
    fn take_key_package(&mut self, device: &str, suite: u16)
    -> Result<Option<Vec<u8>>, StoreError>;
    /// The device a KeyPackage (by reference) was published by, if it is still stored or was
    /// claimed; `None` if unknown.
    fn key_package_owner(&mut self, reference: &[u8]) -> Result<Option<String>, StoreError>;

    /// A new group; `false` if the id exists.
    fn insert_group(&mut self, group: &GroupRow, now: u64) -> Result<bool, StoreError>;
    /// The group `id`, without its blobs (`state` and `group_info` are `None`: at 10,000
    /// members they are megabytes, and most requests need neither).
    fn group(&mut self, id: &[u8]) -> Result<Option<GroupRow>, StoreError>;
    /// The group's saved public view and latest GroupInfo.
    fn group_blobs(&mut self, id: &[u8]) -> Result<GroupBlobs, StoreError>;
    /// Sets the group's epoch and next position, and its state (changed by the message at
    /// `next_seq - 1`) and GroupInfo where given.
    fn update_group(
        &mut self,
        id: &[u8],
        epoch: u64,
        next_seq: u64,
        state: Option<&[u8]>,
        group_info: Option<&[u8]>,
    ) -> Result<(), StoreError>;
    /// The position of the commit that won `epoch`.
    fn epoch_winner(&mut self, id: &[u8], epoch: u64) -> Result<Option<u64>, StoreError>;
    /// Records the commit that won `epoch`.
    fn set_epoch_winner(&mut self, id: &[u8], epoch: u64, seq: u64) -> Result<(), StoreError>;
    /// Appends a message to the group's log at `seq` (`handshake`: a proposal or commit,
    /// which its sender reads back too).
    #[allow(clippy::too_many_arguments)]
    fn append_message(
        &mut self,
        id: &[u8],
        seq: u64,
        sender: &str,
        handshake: bool,
        epoch: u64,
        body: &[u8],
        now: u64,
    ) -> Result<(), StoreError>;
    /// The message at `seq`.
    fn message(&mut self, id: &[u8], seq: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Makes `device` receive the group's messages after `cursor` (again, if it was removed).
    fn add_member(&mut self, id: &[u8], device: &str, cursor: u64) -> Result<(), StoreError>;
    /// `device` receives the group's messages up to `until_seq` only (it was removed there).
    fn end_member(&mut self, id: &[u8], device: &str, until_seq: u64) -> Result<(), StoreError>;
    /// The devices that receive the group's new messages, by id.
    fn members(&mut self, id: &[u8]) -> Result<Vec<String>, StoreError>;
    /// Whether `device` receives the group's new messages.
    fn is_member(&mut self, id: &[u8], device: &str) -> Result<bool, StoreError>;
    /// How many groups `device` receives messages of.
    fn group_count(&mut self, device: &str) -> Result<u64, StoreError>;
    /// The groups `device` receives messages of (removed ones it has not finished reading
    /// included).
    fn groups_of(&mut self, device: &str) -> Result<Vec<Vec<u8>>, StoreError>;

    /// Stores the Welcome made by the commit at `seq` of group `id`, once.
    fn store_welcome(
        &mut self,
        id: &[u8],
        seq: u64,
        body: &[u8],
        now: u64,
    ) -> Result<(), StoreError>;
    /// Appends the Welcome stored for (`id`, `seq`) to the device's queue; returns its
    /// position in the queue.
    fn push_welcome(
        &mut self,
        device: &str,
        id: &[u8],
        seq: u64,
        now: u64,
    ) -> Result<u64, StoreError>;
    /// Up to `max` entries for `device`: its unread Welcomes, then the messages of its groups
    /// after its cursors (not its own application messages), each group in log order.
    fn inbox(&mut self, device: &str, max: u32) -> Result<Vec<InboxEntry>, StoreError>;
    /// Moves the device's cursor of the group forward to `seq` (never back, never past the
    /// log); ends the membership of a removed device that read up to its removal.
    fn ack_group(&mut self, device: &str, id: &[u8], seq: u64) -> Result<(), StoreError>;
    /// Deletes the device's Welcomes up to `seq`.
    fn ack_welcomes(&mut self, device: &str, seq: u64) -> Result<(), StoreError>;
    /// Deletes log entries every member read, and entries created before `older_than`
    /// (returns how many), and the nonces that expired before `now`.
    fn prune(&mut self, older_than: u64, now: u64) -> Result<u64, StoreError>;

    /// Opens a savepoint: what follows can be undone alone with
    /// [`DsTx::rollback_to_savepoint`] (one request of a group commit). Not nested.
    fn savepoint(&mut self) -> Result<(), StoreError>;
    /// Keeps what was written since [`DsTx::savepoint`] and closes the savepoint.
    fn release_savepoint(&mut self) -> Result<(), StoreError>;
    /// Undoes what was written since [`DsTx::savepoint`] and closes the savepoint.
    fn rollback_to_savepoint(&mut self) -> Result<(), StoreError>;

    /// Makes the transaction durable.
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}
