-- 0003: a message's or status's raw JSON is a verbatim slice of its
-- callback's body, which the callbacks row keeps. New rows whose raw JSON
-- is found there store where (raw_offset bytes into callbacks.body,
-- raw_length bytes) and leave raw NULL, instead of a second copy (about a
-- tenth of the database for order traffic).
-- Rows with raw set (all rows written before, and records whose raw is not
-- in the body) are read as before. Callback rows are never changed, so a
-- span stays valid. Written to run again harmlessly (IF NOT EXISTS).
ALTER TABLE messages ALTER COLUMN raw DROP NOT NULL, ADD COLUMN IF NOT EXISTS raw_offset integer, ADD COLUMN IF NOT EXISTS raw_length integer;
ALTER TABLE statuses ALTER COLUMN raw DROP NOT NULL, ADD COLUMN IF NOT EXISTS raw_offset integer, ADD COLUMN IF NOT EXISTS raw_length integer;
