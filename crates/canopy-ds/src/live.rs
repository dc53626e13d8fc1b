//! Live delivery within one process: a waker per group and per device. Accepting a message
//! wakes the group's waiters (O(waiters), nothing per member); a long poll waits on the
//! wakers of its device and of its groups. Several processes over one PostgreSQL database
//! also need the database's notifications (see the PostgreSQL backend).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// The wakers.
#[derive(Debug, Default)]
pub struct Live {
    groups: Mutex<HashMap<Vec<u8>, Arc<Notify>>>,
    devices: Mutex<HashMap<String, Arc<Notify>>>,
}

impl Live {
    /// The waker of `group`.
    pub fn group(&self, group: &[u8]) -> Arc<Notify> {
        match self.groups.lock() {
            Ok(mut g) => Arc::clone(g.entry(group.to_vec()).or_default()),
            Err(_) => Arc::new(Notify::new()),
        }
    }

    /// The waker of `device` (its Welcomes, and its groups' changes of membership).
    pub fn device(&self, device: &str) -> Arc<Notify> {
        match self.devices.lock() {
            Ok(mut d) => Arc::clone(d.entry(device.to_owned()).or_default()),
            Err(_) => Arc::new(Notify::new()),
        }
    }

    /// Wakes whoever waits for `group`.
    pub fn wake_group(&self, group: &[u8]) {
        if let Ok(g) = self.groups.lock()
            && let Some(n) = g.get(group)
        {
            n.notify_waiters();
        }
    }

    /// Wakes `device`'s long poll.
    pub fn wake_device(&self, device: &str) {
        if let Ok(d) = self.devices.lock()
            && let Some(n) = d.get(device)
        {
            n.notify_waiters();
        }
    }

    /// Wakes every waiter (after notifications may have been missed: each long poll reads
    /// again and waits again if nothing is new).
    pub fn wake_all(&self) {
        if let Ok(g) = self.groups.lock() {
            g.values().for_each(|n| n.notify_waiters());
        }
        if let Ok(d) = self.devices.lock() {
            d.values().for_each(|n| n.notify_waiters());
        }
    }
}
