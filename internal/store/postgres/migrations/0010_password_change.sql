-- 0010: a user whose password was generated (the first admin, a new user,
-- a reset) must choose their own at their next login. It can run again
-- harmlessly (the migration tests re-run later versions).
ALTER TABLE users ADD COLUMN IF NOT EXISTS must_change_password boolean NOT NULL DEFAULT false;
