-- canopy-store schema 1: groups, their records, the client tables, and the store's metadata.
-- Applied by the migrator (src/sqlite/migrate.rs) in one transaction, with PRAGMA user_version.
-- Values are opaque: the store never parses them. With encryption, every `value` column holds
-- a sealed value (src/seal.rs); the key columns are always plaintext.

-- The store's own settings: 'store_id' (16 random bytes, bound into every sealed value),
-- 'encryption' ('none' or 'xchacha20poly1305'), 'key_check' (a sealed constant, encrypted
-- databases only).
CREATE TABLE canopy_meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- One row per group: its version, bumped by every applied delta (optimistic concurrency).
CREATE TABLE canopy_groups (
    group_id BLOB PRIMARY KEY NOT NULL,
    version  INTEGER NOT NULL CHECK (version > 0)
) WITHOUT ROWID;

-- One row per group record: kind is RecordKind::code(), epoch is the u64 epoch stored as the
-- INTEGER with the same 64 bits (epochs above 2^63-1 read back as negative integers), idx the
-- node or leaf index (u32).
CREATE TABLE canopy_group_records (
    group_id BLOB NOT NULL REFERENCES canopy_groups (group_id) ON DELETE CASCADE,
    kind     INTEGER NOT NULL,
    epoch    INTEGER NOT NULL,
    idx      INTEGER NOT NULL,
    value    BLOB NOT NULL,
    PRIMARY KEY (group_id, kind, epoch, idx)
) WITHOUT ROWID;

-- The client tables (Table::code()): identities, KeyPackages, the group index, App.
CREATE TABLE canopy_kv (
    tbl   INTEGER NOT NULL,
    key   BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (tbl, key)
) WITHOUT ROWID;
