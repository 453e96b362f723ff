-- The attempt whose DATA command was about to be sent, set durably before the message
-- leaves and cleared when that attempt's outcome is recorded. A job claimed again with a
-- non-zero mark had an attempt that may have been accepted by the remote server with no
-- outcome recorded (the process died or its database refused the write): the resend is
-- a possible duplicate, and the next outcome says so.
ALTER TABLE deliveries ADD COLUMN data_attempt INTEGER NOT NULL DEFAULT 0;
