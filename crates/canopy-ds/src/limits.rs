//! What one device may make the Delivery Service store, check or send (RFC 9750 §8: a DS
//! must bound what clients can consume). Every limit is checked before the work it bounds.

use std::time::Duration;

/// The Delivery Service's limits. The defaults admit 50,000-member groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body, in bytes (a commit adding many members, with its Welcome and
    /// GroupInfo, is the largest). Default 32 MiB.
    pub max_body: usize,
    /// The largest application message, in bytes. Default 1 MiB.
    pub max_application_message: usize,
    /// The largest KeyPackage, in bytes. Default 64 KiB.
    pub max_key_package: usize,
    /// KeyPackages per publish request. Default 500.
    pub max_key_package_batch: usize,
    /// Ordinary KeyPackages a device may hold per suite. Default 1,000.
    pub max_key_packages_per_device: u32,
    /// Devices per user. Default 16.
    pub max_devices_per_user: usize,
    /// Groups a device may be in. Default 10,000.
    pub max_groups_per_device: u64,
    /// Deliveries per inbox read. Default 1,000.
    pub max_inbox_batch: u32,
    /// The longest long poll. Default 60 s.
    pub max_wait: Duration,
    /// How long a long poll lets messages gather before it reads (when it arrives, and when
    /// it is woken), so that a device in a busy group reads batches rather than one request
    /// per message. Default 10 ms: what it adds to a delivery's latency at most.
    pub coalesce: Duration,
    /// KeyPackage claims a device may make per minute (KeyPackage exhaustion, RFC 9750 §8).
    /// Default 120.
    pub claims_per_minute: u32,
    /// Requests a device may make per second, sustained. Default 2,000.
    pub requests_per_second: u32,
    /// How long a log entry or a Welcome is kept when not everyone read it. Default 30 days.
    pub retention: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: 32 << 20,
            max_application_message: 1 << 20,
            max_key_package: 64 << 10,
            max_key_package_batch: 500,
            max_key_packages_per_device: 1_000,
            max_devices_per_user: 16,
            max_groups_per_device: 10_000,
            max_inbox_batch: 1_000,
            max_wait: Duration::from_secs(60),
            coalesce: Duration::from_millis(10),
            claims_per_minute: 120,
            requests_per_second: 2_000,
            retention: Duration::from_secs(30 * 24 * 3600),
        }
    }
}
