-- Entries journaled piece by piece (version 2): the accepting transaction seals the
-- message into the archive one piece at a time from the pipeline's own pieces, so no
-- second copy of a large message is held. The first sealed piece stays in
-- archive_entries.content, the rest are here. Version 2 leaves meta out of the sealed
-- sum: the description is written later, by the index job, sealed under the entry's
-- key (its binding names the entry, so a moved or changed one fails to open).
ALTER TABLE archive_entries ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
-- indexed_at is NULL while the entry waits for its index job: the job is the row
-- itself, written in the transaction that accepts the message, so it cannot be lost.
ALTER TABLE archive_entries ADD COLUMN indexed_at INTEGER;
UPDATE archive_entries SET indexed_at = at;
CREATE INDEX archive_entries_pending ON archive_entries(at) WHERE indexed_at IS NULL;
CREATE TABLE archive_chunks (
    entry_id TEXT NOT NULL,
    seq INTEGER NOT NULL,        -- 1, 2, …; 0 is archive_entries.content
    data BLOB NOT NULL,           -- sealed under the entry's key; deleted by a purge
    PRIMARY KEY (entry_id, seq)
);
