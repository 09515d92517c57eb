-- 0010: a user whose password was generated (the first admin, a new user,
-- a reset) must choose their own at their next login.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
