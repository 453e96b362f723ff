-- A large message's content in sealed pieces: messages.content holds the first, these
-- rows the rest in order. The database then never copies a whole large message at
-- once (its drivers copy every value they bind or read), and a reader holds one piece
-- at a time besides the message it is assembling.
CREATE TABLE message_chunks (
    message_id TEXT NOT NULL REFERENCES messages(id),
    seq INTEGER NOT NULL,        -- 1, 2, …; 0 is messages.content
    data BYTEA NOT NULL,         -- sealed
    PRIMARY KEY (message_id, seq)
);
