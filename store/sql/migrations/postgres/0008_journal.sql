-- The request journal (store.JournalStore): one row per request a Handler
-- served, shared by every Handler over the database. time and latency are
-- Unix nanoseconds and nanoseconds. The index on (tenant, time, seq) serves
-- reading the newest entries and pruning the oldest; the one on (tenant,
-- user_id) erasing a user's entries.
CREATE TABLE scim_journal (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant   TEXT COLLATE "C" NOT NULL,
    time     BIGINT NOT NULL,
    method   TEXT COLLATE "C" NOT NULL,
    path     TEXT COLLATE "C" NOT NULL,
    status   INTEGER NOT NULL,
    latency  BIGINT NOT NULL,
    client   TEXT COLLATE "C" NOT NULL,
    token_id TEXT COLLATE "C" NOT NULL,
    summary  TEXT COLLATE "C" NOT NULL,
    error    TEXT COLLATE "C" NOT NULL,
    user_id  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX scim_journal_time ON scim_journal (tenant, time, seq);
CREATE INDEX scim_journal_user ON scim_journal (tenant, user_id);
