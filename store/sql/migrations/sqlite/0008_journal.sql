-- The request journal (store.JournalStore): one row per request a Handler
-- served, shared by every Handler over the database. time and latency are
-- Unix nanoseconds and nanoseconds. The index on (tenant, time, seq) serves
-- reading the newest entries and pruning the oldest; the one on (tenant,
-- user_id) erasing a user's entries.
CREATE TABLE scim_journal (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant   TEXT NOT NULL,
    time     INTEGER NOT NULL,
    method   TEXT NOT NULL,
    path     TEXT NOT NULL,
    status   INTEGER NOT NULL,
    latency  INTEGER NOT NULL,
    client   TEXT NOT NULL,
    token_id TEXT NOT NULL,
    summary  TEXT NOT NULL,
    error    TEXT NOT NULL,
    user_id  TEXT NOT NULL
);
CREATE INDEX scim_journal_time ON scim_journal (tenant, time, seq);
CREATE INDEX scim_journal_user ON scim_journal (tenant, user_id);
