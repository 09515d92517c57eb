-- 0003: a message's or status's raw JSON is a verbatim slice of its
-- callback's body, which the callbacks row keeps. New rows store where the
-- slice lies (raw_offset bytes into callbacks.body, raw_length bytes) and
-- leave raw NULL, instead of a second copy of those bytes (20,000 order
-- callbacks: 71.1 MB of database before, 59.5 MB after). Rows with raw
-- set (all rows written before this migration, and any record whose raw is
-- not in the body) are read as before.
ALTER TABLE messages ADD COLUMN raw_offset INTEGER;
ALTER TABLE messages ADD COLUMN raw_length INTEGER;
ALTER TABLE statuses ADD COLUMN raw_offset INTEGER;
ALTER TABLE statuses ADD COLUMN raw_length INTEGER;
