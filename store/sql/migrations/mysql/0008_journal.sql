-- The request journal (store.JournalStore): one row per request a Handler
-- served, shared by every Handler over the database. time and latency are
-- Unix nanoseconds and nanoseconds. The index on (tenant, time, seq) serves
-- reading the newest entries and pruning the oldest; the one on (tenant,
-- user_id) erasing a user's entries.
CREATE TABLE scim_journal (
    seq      BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tenant   VARBINARY(255) NOT NULL,
    time     BIGINT NOT NULL,
    method   LONGBLOB NOT NULL,
    path     LONGBLOB NOT NULL,
    status   INT NOT NULL,
    latency  BIGINT NOT NULL,
    client   LONGBLOB NOT NULL,
    token_id LONGBLOB NOT NULL,
    summary  LONGBLOB NOT NULL,
    error    LONGBLOB NOT NULL,
    user_id  VARBINARY(255) NOT NULL,
    KEY scim_journal_time (tenant, time, seq),
    KEY scim_journal_user (tenant, user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
