-- The deprovisioning guard's state (store.GuardTx), shared by every
-- handler over the database. scim_guard_state has one row per tenant that
-- has counted a deprovisioning or been held: counted is the number of
-- rows the tenant has in scim_guard_users, base the tenant's size the
-- window's share is measured against, held and reason the hold.
CREATE TABLE scim_guard_state (
    tenant  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    counted BIGINT NOT NULL,
    base    BIGINT NOT NULL,
    held    BOOLEAN NOT NULL,
    reason  TEXT NOT NULL
);

-- The users counted in the window, once each, with the time (Unix
-- nanoseconds) they were counted; the index on (tenant, at) finds those
-- that left the window.
CREATE TABLE scim_guard_users (
    tenant  TEXT COLLATE "C" NOT NULL,
    user_id TEXT COLLATE "C" NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (tenant, user_id)
);
CREATE INDEX scim_guard_users_at ON scim_guard_users (tenant, at);
