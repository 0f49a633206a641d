-- Tenants, users, emails, groups and memberships.
-- Timestamps are Unix nanoseconds (UTC); NULL stands for the zero time.
-- doc holds the SCIM attributes as JSON; fdoc is the filter document the
-- adapter derives from doc on every write (see index.go).
CREATE TABLE scim_tenants (
    name    TEXT PRIMARY KEY,
    created INTEGER NOT NULL
);

CREATE TABLE scim_users (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant           TEXT NOT NULL,
    id               TEXT NOT NULL,
    user_name        TEXT,
    user_name_folded TEXT,
    external_id      TEXT,
    managed          INTEGER NOT NULL DEFAULT 0,
    doc              TEXT NOT NULL,
    fdoc             TEXT NOT NULL,
    version          INTEGER NOT NULL,
    created          INTEGER,
    last_modified    INTEGER
);
CREATE UNIQUE INDEX scim_users_id ON scim_users (tenant, id);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (tenant, user_name_folded);
CREATE INDEX scim_users_external_id ON scim_users (tenant, external_id);
CREATE INDEX scim_users_seq ON scim_users (tenant, seq);

-- bare marks an element that is a plain string rather than an object.
CREATE TABLE scim_emails (
    tenant       TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    pos          INTEGER NOT NULL,
    value        TEXT,
    value_folded TEXT,
    type         TEXT,
    type_folded  TEXT,
    is_primary   INTEGER,
    bare         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, user_id, pos)
);
CREATE INDEX scim_emails_value ON scim_emails (tenant, value_folded);

CREATE TABLE scim_groups (
    seq                 INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant              TEXT NOT NULL,
    id                  TEXT NOT NULL,
    display_name        TEXT,
    display_name_folded TEXT,
    external_id         TEXT,
    doc                 TEXT NOT NULL,
    fdoc                TEXT NOT NULL,
    version             INTEGER NOT NULL,
    created             INTEGER,
    last_modified       INTEGER
);
CREATE UNIQUE INDEX scim_groups_id ON scim_groups (tenant, id);
CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups (tenant, display_name_folded);
CREATE INDEX scim_groups_external_id ON scim_groups (tenant, external_id);
CREATE INDEX scim_groups_seq ON scim_groups (tenant, seq);

CREATE TABLE scim_members (
    tenant   TEXT NOT NULL,
    group_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    display  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant, group_id, user_id)
);
CREATE INDEX scim_members_user ON scim_members (tenant, user_id, group_id);
