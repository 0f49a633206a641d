-- The deprovisioning guard's state (store.GuardTx), shared by every
-- handler over the database. scim_guard_state has one row per tenant that
-- has counted a deprovisioning or been held: counted is the number of
-- rows the tenant has in scim_guard_users, base the tenant's size the
-- window's share is measured against, held and reason the hold.
CREATE TABLE scim_guard_state (
    tenant  TEXT NOT NULL PRIMARY KEY,
    counted INTEGER NOT NULL,
    base    INTEGER NOT NULL,
    held    INTEGER NOT NULL,
    reason  TEXT NOT NULL
);

-- The users counted in the window, once each, with the time (Unix
-- nanoseconds) they were counted; the index on (tenant, at) finds those
-- that left the window.
CREATE TABLE scim_guard_users (
    tenant  TEXT NOT NULL,
    user_id TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (tenant, user_id)
);
CREATE INDEX scim_guard_users_at ON scim_guard_users (tenant, at);
