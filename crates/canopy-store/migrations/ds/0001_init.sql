-- Canopy Delivery Service, schema 1. Written in the SQL both SQLite and PostgreSQL take
-- (the PostgreSQL backend maps BLOB to BYTEA and INTEGER to BIGINT). Times are Unix seconds.

CREATE TABLE ds_users (
    name TEXT PRIMARY KEY,
    created INTEGER NOT NULL
);

-- A device: an MLS client of a user, authenticated by its signature key.
CREATE TABLE ds_devices (
    id TEXT PRIMARY KEY,                 -- user/device
    user_name TEXT NOT NULL REFERENCES ds_users (name),
    suite INTEGER NOT NULL,
    signature_key BLOB NOT NULL UNIQUE,
    created INTEGER NOT NULL,
    welcome_next INTEGER NOT NULL,       -- next position of the personal Welcome queue
    welcome_cursor INTEGER NOT NULL      -- last position read
);
CREATE INDEX ds_devices_user ON ds_devices (user_name, created);

-- Nonces seen within the signature window (replay protection).
CREATE TABLE ds_nonces (
    device TEXT NOT NULL,
    nonce BLOB NOT NULL,
    expires INTEGER NOT NULL,
    PRIMARY KEY (device, nonce)
);
CREATE INDEX ds_nonces_expires ON ds_nonces (expires);

-- The KeyPackage directory. A claimed KeyPackage keeps its row without its body, so that
-- the Welcome that uses it can be routed to its device; a last-resort one is never claimed.
CREATE TABLE ds_key_packages (
    ref BLOB PRIMARY KEY,                -- KeyPackageRef (RFC 9420 §5.2)
    device TEXT NOT NULL REFERENCES ds_devices (id),
    suite INTEGER NOT NULL,
    last_resort INTEGER NOT NULL,
    claimed INTEGER NOT NULL,
    published INTEGER NOT NULL,          -- order of publication
    body BLOB NOT NULL                   -- the MLSMessage (empty once claimed)
);
CREATE INDEX ds_key_packages_device
    ON ds_key_packages (device, suite, claimed, last_resort, published);

-- A group: its mode (1 public, 2 private), epoch, next log position, and for public groups
-- the saved public view (with the position of the message that last changed it, so that a
-- process can tell whether its cached copy is current) and the latest GroupInfo a member
-- published.
CREATE TABLE ds_groups (
    id BLOB PRIMARY KEY,
    mode INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    next_seq INTEGER NOT NULL,
    state BLOB,
    state_seq INTEGER NOT NULL,
    group_info BLOB,
    created INTEGER NOT NULL
);

-- The first commit accepted for an epoch: the winner a later one is told about.
CREATE TABLE ds_epoch_winners (
    group_id BLOB NOT NULL,
    epoch INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (group_id, epoch)
);

-- Each group's ordered log. A message is stored once, whatever the group's size. Its sender
-- reads it back only if it is a handshake message (so that a client that crashed after
-- posting its commit learns that it was accepted).
CREATE TABLE ds_messages (
    group_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    sender TEXT NOT NULL,
    handshake INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    body BLOB NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (group_id, seq)
);

-- The devices that receive a group's messages, with their cursors (last position read).
-- `until_seq`: a removed device still reads up to the commit that removed it.
CREATE TABLE ds_members (
    group_id BLOB NOT NULL,
    device TEXT NOT NULL REFERENCES ds_devices (id),
    cursor INTEGER NOT NULL,
    until_seq INTEGER,
    PRIMARY KEY (group_id, device)
);
CREATE INDEX ds_members_device ON ds_members (device);

-- Welcomes, each stored once (a commit adding 10,000 members has one Welcome of megabytes),
-- by the group and log position of the commit that made it.
CREATE TABLE ds_welcome_bodies (
    group_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    body BLOB NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (group_id, seq)
);

-- Each device's personal queue of Welcomes: references to the bodies.
CREATE TABLE ds_welcomes (
    device TEXT NOT NULL REFERENCES ds_devices (id),
    seq INTEGER NOT NULL,
    group_id BLOB NOT NULL,
    commit_seq INTEGER NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (device, seq)
);
CREATE INDEX ds_welcomes_body ON ds_welcomes (group_id, commit_seq);
