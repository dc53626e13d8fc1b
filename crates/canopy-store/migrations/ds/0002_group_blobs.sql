-- Canopy Delivery Service, schema 2: a group's large columns (its public view, up to
-- megabytes at 50,000 members, and its GroupInfo) move to a table of their own. Accepting a
-- message moves the group's counters; in one row with the blobs, SQLite rebuilt the whole
-- row (reading every overflow page) and PostgreSQL copied a tuple per message, so the cost
-- of a message grew with the group.

CREATE TABLE ds_group_blobs (
    group_id BLOB PRIMARY KEY REFERENCES ds_groups (id),
    state BLOB,
    group_info BLOB
);
INSERT INTO ds_group_blobs (group_id, state, group_info)
    SELECT id, state, group_info FROM ds_groups;
ALTER TABLE ds_groups DROP COLUMN state;
ALTER TABLE ds_groups DROP COLUMN group_info;
