-- Tenants, users, emails, groups and memberships.
-- Keys and folded values are VARBINARY: byte order and byte equality
-- without trailing-space padding, the same on MySQL and MariaDB. Indexed
-- values are limited to 768 bytes.
-- Timestamps are Unix nanoseconds (UTC); NULL stands for the zero time.
-- doc holds the SCIM attributes as JSON; fdoc is the filter document the
-- adapter derives from doc on every write (see index.go).
CREATE TABLE scim_tenants (
    name    VARBINARY(255) PRIMARY KEY,
    created BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE scim_users (
    seq              BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tenant           VARBINARY(255) NOT NULL,
    id               VARBINARY(255) NOT NULL,
    user_name        LONGBLOB,
    user_name_folded VARBINARY(768),
    external_id      VARBINARY(768),
    managed          BOOLEAN NOT NULL DEFAULT FALSE,
    doc              LONGTEXT NOT NULL,
    fdoc             LONGTEXT NOT NULL,
    version          BIGINT NOT NULL,
    created          BIGINT,
    last_modified    BIGINT,
    UNIQUE KEY scim_users_id (tenant, id),
    UNIQUE KEY scim_users_user_name (tenant, user_name_folded),
    KEY scim_users_external_id (tenant, external_id),
    KEY scim_users_seq (tenant, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

-- bare marks an element that is a plain string rather than an object.
CREATE TABLE scim_emails (
    tenant       VARBINARY(255) NOT NULL,
    user_id      VARBINARY(255) NOT NULL,
    pos          INT NOT NULL,
    value        LONGBLOB,
    value_folded VARBINARY(768),
    type         LONGBLOB,
    type_folded  LONGBLOB,
    is_primary   BOOLEAN,
    bare         SMALLINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, user_id, pos),
    KEY scim_emails_value (tenant, value_folded)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE scim_groups (
    seq                 BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tenant              VARBINARY(255) NOT NULL,
    id                  VARBINARY(255) NOT NULL,
    display_name        LONGBLOB,
    display_name_folded VARBINARY(768),
    external_id         VARBINARY(768),
    doc                 LONGTEXT NOT NULL,
    fdoc                LONGTEXT NOT NULL,
    version             BIGINT NOT NULL,
    created             BIGINT,
    last_modified       BIGINT,
    UNIQUE KEY scim_groups_id (tenant, id),
    UNIQUE KEY scim_groups_display_name (tenant, display_name_folded),
    KEY scim_groups_external_id (tenant, external_id),
    KEY scim_groups_seq (tenant, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE scim_members (
    tenant   VARBINARY(255) NOT NULL,
    group_id VARBINARY(255) NOT NULL,
    user_id  VARBINARY(255) NOT NULL,
    display  LONGBLOB NOT NULL,
    PRIMARY KEY (tenant, group_id, user_id),
    KEY scim_members_user (tenant, user_id, group_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
