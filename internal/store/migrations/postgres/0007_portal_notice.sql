-- A portal copy is committed before its notice leaves, so the link works the moment
-- the notice arrives; notified_at is set once the notice is delivered. A copy whose
-- notice never went out (its delivery ended another way) is destroyed with why
-- 'undelivered'. Copies made before this were written after their notice was
-- delivered. failures now counts wrong attempts since the last lock: a sign-in no
-- longer clears it.
ALTER TABLE portal_messages ADD COLUMN notified_at BIGINT;
UPDATE portal_messages SET notified_at = created_at;
