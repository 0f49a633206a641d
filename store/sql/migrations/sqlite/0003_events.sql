-- User fields beyond the attributes, the event outbox, departures and
-- (reserved for the token API) bearer-token digests.
--
-- role and managed_by are NULL on rows written before this migration and
-- read as "". The index on (tenant, managed, seq) serves ListUsers with
-- ManagedOnly in the Store's own order.
ALTER TABLE scim_users ADD COLUMN role TEXT;
ALTER TABLE scim_users ADD COLUMN managed_by TEXT;
ALTER TABLE scim_users ADD COLUMN linked INTEGER NOT NULL DEFAULT 0;
CREATE INDEX scim_users_managed ON scim_users (tenant, managed, seq);

-- Counters for ManagedOnly lists, kept like user_count (see page.go): the
-- number of managed users, and the number of times a user became managed
-- or stopped being managed, which invalidates remembered paging positions
-- of the managed list. event_seq is the last event Seq the tenant
-- assigned.
ALTER TABLE scim_tenants ADD COLUMN managed_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scim_tenants ADD COLUMN managed_changes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scim_tenants ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;
UPDATE scim_tenants SET
    managed_count = (SELECT COUNT(*) FROM scim_users u WHERE u.tenant = scim_tenants.name AND u.managed = 1);

-- The event outbox: doc is the store.Event as JSON; type and time (Unix
-- nanoseconds) are copies for an admin page.
CREATE TABLE scim_events (
    tenant TEXT NOT NULL,
    seq    INTEGER NOT NULL,
    type   TEXT NOT NULL,
    time   INTEGER,
    doc    TEXT NOT NULL,
    PRIMARY KEY (tenant, seq)
);

-- What is remembered of deprovisioned users, by case-folded userName.
CREATE TABLE scim_departures (
    tenant           TEXT NOT NULL,
    user_name_folded TEXT NOT NULL,
    user_name        TEXT NOT NULL,
    role             TEXT NOT NULL,
    time             INTEGER,
    PRIMARY KEY (tenant, user_name_folded)
);

-- Reserved for the token API: one row per bearer token of a tenant, the
-- secret kept only as a digest (text, e.g. hex). Times are Unix
-- nanoseconds; expires, revoked and last_used are NULL when not set.
CREATE TABLE scim_tokens (
    tenant    TEXT NOT NULL,
    id        TEXT NOT NULL,
    prefix    TEXT NOT NULL,
    digest    TEXT NOT NULL,
    created   INTEGER NOT NULL,
    expires   INTEGER,
    revoked   INTEGER,
    last_used INTEGER,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX scim_tokens_digest ON scim_tokens (digest);
